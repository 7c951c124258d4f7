// Questions about one request, each answered by the real filter: a probe is an ALLOW policy with
// one rule (the rule, or one part of it) in the namespace and with the selector of the policy it
// comes from; the request is allowed by the probe iff the probed rule matches. So `explain` uses
// exactly the matchers that enforce, and no second implementation of them.
//
// Probes are asked in batches: one blob holds many probes, and the filter names the one it allowed
// by. That one matches; the others are split in two halves and asked again, until a batch allows
// nothing (all of it does not match). With m matching probes out of n this takes about
// m·log2(n) + 1 filter runs instead of n.
import { startFilter } from "../cases/filter-decision.ts";
import { compilePolicies } from "../compile/compile.ts";
import type { CompiledPolicy } from "../compile/ir.ts";
import { encodeBlob } from "../encode/encode.ts";
import type { CaseRequest, Workload } from "../model/case-file.ts";
import type { AuthorizationPolicy, MeshSettings, Rule } from "../model/policy.ts";
import { modeForRequest, pluginConfigJson } from "../pipeline/plugin-config.ts";

export interface Probe {
  /** The policy the probed rule belongs to: its namespace and selector place the probe. */
  policy: AuthorizationPolicy;
  rule: Rule;
}

export class ProbeNotApplicable extends Error {}

const NAME = /-policy\[meshauthz-probe-(\d+)\]-rule\[0\]$/;

export class Prober {
  constructor(
    private readonly wasm: Uint8Array,
    private readonly workload: Workload,
    private readonly request: CaseRequest,
    private readonly mesh: MeshSettings,
  ) {}

  /** Which probes match the request. Throws ProbeNotApplicable when the filter applies none of a batch. */
  async matches(probes: Probe[]): Promise<boolean[]> {
    const policies: AuthorizationPolicy[] = probes.map((p, i) => ({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: `meshauthz-probe-${i}`, namespace: p.policy.metadata.namespace ?? "default" },
      spec: { selector: p.policy.spec?.selector, action: "ALLOW", rules: [p.rule] },
    }));
    // Parts of policies that passed validation: compiled directly, once; batches are re-encoded.
    const compiled = compilePolicies(policies.map((policy) => ({ policy })), this.mesh);
    if (compiled.diagnostics.length > 0) throw new Error(compiled.diagnostics.map((d) => d.message).join("; "));
    const byIndex = new Map<number, CompiledPolicy>();
    for (const c of compiled.mesh.policies) byIndex.set(Number(c.name.slice("meshauthz-probe-".length)), c);
    const result = probes.map(() => false);

    const solve = async (batch: number[]): Promise<void> => {
      if (batch.length === 0) return;
      const blob = encodeBlob({ ...compiled.mesh, policies: batch.map((i) => byIndex.get(i)!) });
      const mode = modeForRequest(this.request);
      const d = (await startFilter(this.wasm, pluginConfigJson(blob, undefined, { mode }), this.workload, mode === "network")).decide(this.request);
      if (d.config_error) throw new Error(`the filter rejected a probe: ${d.config_error}`);
      if (d.decision === "ALLOW" && d.policy === null) throw new ProbeNotApplicable("the filter applies none of the probed policies");
      const hit = d.decision === "ALLOW" ? NAME.exec(d.policy ?? "") : null;
      if (!hit) return; // nothing in the batch matches
      const k = Number(hit[1]);
      result[k] = true;
      const rest = batch.filter((i) => i !== k);
      const half = Math.ceil(rest.length / 2);
      await solve(rest.slice(0, half));
      await solve(rest.slice(half));
    };
    await solve(probes.map((_, i) => i));
    return result;
  }
}
