// Questions about one request, each answered by the real filter: a probe is a one-policy ALLOW
// blob; the request is allowed by the probe's rule iff the probed part matches. So `explain` uses
// exactly the matchers that enforce, and no second implementation of them.
import { startFilter } from "../cases/filter-decision.ts";
import type { CaseRequest, Workload } from "../model/case-file.ts";
import type { AuthorizationPolicy, MeshSettings, Rule } from "../model/policy.ts";
import { compilePolicyObjects } from "../pipeline/policy-set.ts";
import { modeForRequest, pluginConfigJson } from "../pipeline/plugin-config.ts";

export type ProbeResult = "match" | "no-match" | "not-applicable";

export class Prober {
  constructor(
    private readonly wasm: Uint8Array,
    private readonly workload: Workload,
    private readonly request: CaseRequest,
    private readonly mesh: MeshSettings,
  ) {}

  /** Does `rule`, placed in a policy with `policy`'s namespace and selector, match the request? */
  async rule(policy: AuthorizationPolicy, rule: Rule): Promise<ProbeResult> {
    const probe: AuthorizationPolicy = {
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "meshauthz-explain-probe", namespace: policy.metadata.namespace ?? "default" },
      spec: { selector: policy.spec?.selector, action: "ALLOW", rules: [rule] },
    };
    const compiled = compilePolicyObjects([probe], this.mesh);
    if (!compiled.blob) throw new Error(compiled.diagnostics.map((d) => d.message).join("; "));
    const mode = modeForRequest(this.request);
    const d = (await startFilter(this.wasm, pluginConfigJson(compiled.blob, undefined, { mode }), this.workload, mode === "network")).decide(this.request);
    if (d.decision === "ALLOW") return d.policy === null ? "not-applicable" : "match";
    return "no-match";
  }
}
