// `meshauthz explain`: why a request gets its decision. The decision comes from the filter with
// every policy. Which policies apply is worded here (applicability.ts) and checked against the
// filter with one probe blob; each applicable policy's rules, and each part of a rule that did not
// match, are then probed through the filter one at a time. So the cost is one compile of the set
// plus a few probes for the handful of policies a workload has, not a filter per policy.
import { type Decision, startFilter } from "../cases/filter-decision.ts";
import type { CaseRequest, Workload } from "../model/case-file.ts";
import type { AuthorizationPolicy, MeshSettings, Rule } from "../model/policy.ts";
import { compilePolicyObjects } from "../pipeline/policy-set.ts";
import { modeForRequest, pluginConfigJson } from "../pipeline/plugin-config.ts";
import { compilePolicies } from "../compile/compile.ts";
import { isDryRun } from "../compile/dry-run.ts";
import { encodeBlob } from "../encode/encode.ts";
import { type NotApplicable, type NotApplicableKind, whyNotApplicable } from "./applicability.ts";
import { type AttributeValue, conditionFailure, fieldFailure } from "./attributes.ts";
import { type Probe, Prober } from "./probes.ts";
import { customProviderNames, decideWithProviders, providersForRequest } from "../cases/ext-authz-responder.ts";

export interface PartExplanation {
  /** e.g. `from[0].source.principals`, `when[1] (request.headers[x-tenant])` */
  path: string;
  matches: boolean;
  /** For a part that fails: the attribute it tests, the request's value (null: absent), and a sentence. */
  attribute?: string;
  value?: AttributeValue["value"];
  message?: string;
}

export interface RuleExplanation {
  id: string;
  matches: boolean;
  /** For a rule that does not match: each part, so the one(s) that failed stand out. */
  parts: PartExplanation[];
}

export interface PolicyExplanation {
  policy: string;
  action: string;
  dryRun: boolean;
  applies: boolean;
  /** Why a policy does not apply (absent when it applies). */
  notApplicable?: NotApplicable;
  rules: RuleExplanation[];
}

export interface Explanation {
  /** A TCP connection, decided by the network filter with Istio's TCP translation. */
  tcp?: boolean;
  decision: Decision;
  /** Every policy: the applicable ones with their rules, the others with the reason. */
  policies: PolicyExplanation[];
}

export class ExplainDisagreement extends Error {}

interface Part {
  path: string;
  rule: Rule;
  fail: (req: CaseRequest) => { attribute: string; value: AttributeValue["value"]; message: string };
}

function ruleParts(rule: Rule): Part[] {
  const parts: Part[] = [];
  (rule.from ?? []).forEach((f, i) => {
    for (const [field, values] of Object.entries(f?.source ?? {})) {
      parts.push({ path: `from[${i}].source.${field}`, rule: { from: [{ source: { [field]: values } }] }, fail: (r) => fieldFailure(r, "source", field, values as string[]) });
    }
  });
  (rule.to ?? []).forEach((t, i) => {
    for (const [field, values] of Object.entries(t?.operation ?? {})) {
      parts.push({ path: `to[${i}].operation.${field}`, rule: { to: [{ operation: { [field]: values } }] }, fail: (r) => fieldFailure(r, "operation", field, values as string[]) });
    }
  });
  (rule.when ?? []).forEach((c, i) => parts.push({ path: `when[${i}] (${c.key})`, rule: { when: [c] }, fail: (r) => conditionFailure(r, c) }));
  return parts;
}

const nsOf = (p: AuthorizationPolicy) => p.metadata.namespace ?? "default";

/** One blob in which every policy said not to apply becomes an allow-all rule with the same
 *  namespace and selector: if the filter allows the request by one of them, it applies after all. */
async function checkNotApplicable(wasm: Uint8Array, policies: AuthorizationPolicy[], workload: Workload, request: CaseRequest, mesh: MeshSettings): Promise<void> {
  if (policies.length === 0) return;
  const probes: AuthorizationPolicy[] = policies.map((p) => ({
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: p.metadata.name, namespace: nsOf(p) },
    spec: { selector: p.spec?.selector, action: "ALLOW", rules: [{}] },
  }));
  // The probes are derived from policies that just passed validation: compile them directly.
  const compiled = compilePolicies(probes.map((policy) => ({ policy })), mesh);
  if (compiled.diagnostics.length > 0) throw new Error(compiled.diagnostics.map((d) => d.message).join("; "));
  const mode = modeForRequest(request);
  const d = (await startFilter(wasm, pluginConfigJson(encodeBlob(compiled.mesh), undefined, { mode }), workload, mode === "network")).decide(request);
  if (d.config_error) throw new Error(`the filter rejected the applicability probe: ${d.config_error}`);
  if (d.decision === "ALLOW" && d.policy !== null) {
    throw new ExplainDisagreement(`the filter applies ${d.policy} to this workload, but explain thought it does not apply (please report this)`);
  }
}

export async function explain(
  wasm: Uint8Array,
  policies: AuthorizationPolicy[],
  workload: Workload,
  request: CaseRequest,
  mesh: MeshSettings,
): Promise<Explanation> {
  const providers = providersForRequest(policies, mesh.extensionProviders, request.ext_authz_decision);
  const compiled = compilePolicyObjects(policies, { ...mesh, extensionProviders: providers });
  if (!compiled.blob) throw new Error(compiled.diagnostics.map((d) => d.message).join("; "));
  // A TCP request is explained as the network filter decides it (the TCP projection).
  const mode = modeForRequest(request);
  // CUSTOM: the provider answers the request's ext_authz_decision (tools/cases/ext-authz-responder.ts).
  const used = customProviderNames(policies).map((n) => providers?.valid.get(n)).filter((p) => p !== undefined);
  const blob = compiled.blob;
  const { decision } = await decideWithProviders(
    (clusters) => startFilter(wasm, pluginConfigJson(blob, undefined, { mode }), workload, mode === "network", { clusters }),
    used,
    request,
  );
  const reasons = policies.map((p) => whyNotApplicable(p, workload, mesh));
  // targetRef policies are left out by the compiler (compile.ts appliesToSidecars); the others are
  // checked in the filter.
  await checkNotApplicable(wasm, policies.filter((_, i) => reasons[i] && reasons[i].kind !== "targetRef"), workload, request, mesh);

  // Every applicable policy's rules in one batch, with an empty rule per policy (it matches iff the
  // filter applies the policy); then the parts of the rules that did not match, in a second batch.
  const prober = new Prober(wasm, workload, request, mesh);
  const applicable = policies.filter((_, k) => !reasons[k]);
  const first: Probe[] = applicable.flatMap((p) => [{ policy: p, rule: {} }, ...(p.spec?.rules ?? []).map((rule) => ({ policy: p, rule: rule ?? {} }))]);
  const firstMatches = first.length ? await prober.matches(first) : [];
  const ruleMatches = new Map<AuthorizationPolicy, boolean[]>();
  let at = 0;
  for (const p of applicable) {
    if (!firstMatches[at++]) throw new ExplainDisagreement(`the filter does not apply ${nsOf(p)}/${p.metadata.name} to this workload, but explain thought it does (please report this)`);
    ruleMatches.set(p, (p.spec?.rules ?? []).map(() => firstMatches[at++]));
  }
  const second: Array<Probe & { part: Part }> = [];
  for (const p of applicable) {
    (p.spec?.rules ?? []).forEach((rule, i) => {
      if (!ruleMatches.get(p)![i]) for (const part of ruleParts(rule ?? {})) second.push({ policy: p, rule: part.rule, part });
    });
  }
  const partMatches = second.length ? await prober.matches(second) : [];

  const out: PolicyExplanation[] = [];
  let partAt = 0;
  for (const [k, p] of policies.entries()) {
    const base = { policy: `${nsOf(p)}/${p.metadata.name}`, action: p.spec?.action ?? "ALLOW", dryRun: isDryRun(p.metadata.annotations) };
    const reason = reasons[k];
    if (reason) {
      out.push({ ...base, applies: false, notApplicable: reason, rules: [] });
      continue;
    }
    const rules: RuleExplanation[] = (p.spec?.rules ?? []).map((rule, i) => {
      const matches = ruleMatches.get(p)![i];
      const parts: PartExplanation[] = [];
      if (!matches) {
        for (const part of ruleParts(rule ?? {})) {
          const ok = partMatches[partAt++];
          parts.push(ok ? { path: part.path, matches: true } : { path: part.path, matches: false, ...part.fail(request) });
        }
      }
      return { id: `ns[${nsOf(p)}]-policy[${p.metadata.name}]-rule[${i}]`, matches, parts };
    });
    out.push({ ...base, applies: true, rules });
  }
  return mode === "network" ? { tcp: true, decision, policies: out } : { decision, policies: out };
}

/** The HTTP status, or what happened to a connection (status 0: the network filter). */
export function statusText(d: { decision: string; status: number }): string {
  if (d.status !== 0) return String(d.status);
  return d.decision === "DENY" ? "connection closed" : "connection";
}

const KIND_WORDS: Record<NotApplicableKind, string> = { namespace: "namespace", selector: "selector", targetRef: "targetRef" };

export function describeExplanation(e: Explanation, opts: { all?: boolean } = {}): string {
  const d = e.decision;
  const lines = [`${d.decision} (${statusText(d)})${d.policy ? ` by ${d.policy}` : " (no enforced ALLOW policy applies)"}`];
  if (d.policy === "none") lines.push("  ALLOW policies apply to this workload and none of their rules matched.");
  if (e.tcp) {
    lines.push("  A TCP connection: rules as Istio builds them for TCP chains. An ALLOW rule using hosts, methods, paths,");
    lines.push("  requestPrincipals, request.headers or request.auth.* never matches; DENY and AUDIT rules ignore those fields.");
  }
  const applying = e.policies.filter((p) => p.applies);
  lines.push("", `Policies that apply to this workload (${applying.length} of ${e.policies.length}):`);
  for (const p of applying) {
    const tag = `${p.action}${p.dryRun ? " (dry-run)" : ""}`;
    if (p.rules.length === 0) lines.push(`  ${tag.padEnd(16)} ${p.policy}: no rules${p.action === "ALLOW" ? " (allow-nothing: denies every request not allowed elsewhere)" : ""}`);
    for (const r of p.rules) {
      const mark = r.id === d.policy ? "  <- decided" : "";
      lines.push(`  ${tag.padEnd(16)} ${r.id}: ${r.matches ? "matches" : "does not match"}${mark}`);
      for (const part of r.parts) lines.push(`  ${"".padEnd(16)}   ${part.matches ? "ok  " : "FAIL"} ${part.path}${part.message ? `: ${part.message}` : ""}`);
    }
  }
  const others = e.policies.filter((p) => !p.applies);
  if (others.length > 0) {
    const counts = new Map<string, number>();
    for (const p of others) counts.set(KIND_WORDS[p.notApplicable!.kind], (counts.get(KIND_WORDS[p.notApplicable!.kind]) ?? 0) + 1);
    const by = [...counts].map(([k, n]) => `${n} by ${k}`).join(", ");
    if (opts.all) {
      lines.push("", `Policies that do not apply (${others.length}: ${by}):`);
      for (const p of others) lines.push(`  ${p.action.padEnd(16)} ${p.policy}: ${p.notApplicable!.message}`);
    } else {
      lines.push("", `${others.length} other ${others.length === 1 ? "policy does" : "policies do"} not apply to this workload (${by}); --all says why for each.`);
    }
  }
  lines.push("", "Order: CUSTOM, then DENY (any match denies), then ALLOW (if ALLOW policies apply, one must match). AUDIT and dry-run never change the decision.");
  return lines.join("\n");
}
