// `meshauthz explain`: why a request gets its decision. The decision comes from the filter with
// every policy; then each applicable policy's rules, and each part of a rule that did not match,
// are probed through the filter one at a time.
import { type Decision, startFilter } from "../cases/filter-decision.ts";
import type { CaseRequest, Workload } from "../model/case-file.ts";
import type { AuthorizationPolicy, MeshSettings, Rule } from "../model/policy.ts";
import { compilePolicyObjects } from "../pipeline/policy-set.ts";
import { modeForRequest, pluginConfigJson } from "../pipeline/plugin-config.ts";
import { isDryRun } from "../compile/dry-run.ts";
import { Prober } from "./probes.ts";

export interface PartExplanation {
  /** e.g. `from[0].source.principals`, `when[1]` */
  path: string;
  matches: boolean;
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
  rules: RuleExplanation[];
}

export interface Explanation {
  /** A TCP connection, decided by the network filter with Istio's TCP translation. */
  tcp?: boolean;
  decision: Decision;
  policies: PolicyExplanation[];
}

function ruleParts(rule: Rule): Array<{ path: string; rule: Rule }> {
  const parts: Array<{ path: string; rule: Rule }> = [];
  (rule.from ?? []).forEach((f, i) => {
    for (const [field, values] of Object.entries(f.source ?? {})) {
      parts.push({ path: `from[${i}].source.${field}`, rule: { from: [{ source: { [field]: values } }] } });
    }
  });
  (rule.to ?? []).forEach((t, i) => {
    for (const [field, values] of Object.entries(t.operation ?? {})) {
      parts.push({ path: `to[${i}].operation.${field}`, rule: { to: [{ operation: { [field]: values } }] } });
    }
  });
  (rule.when ?? []).forEach((c, i) => parts.push({ path: `when[${i}] (${c.key})`, rule: { when: [c] } }));
  return parts;
}

export async function explain(
  wasm: Uint8Array,
  policies: AuthorizationPolicy[],
  workload: Workload,
  request: CaseRequest,
  mesh: MeshSettings,
): Promise<Explanation> {
  const compiled = compilePolicyObjects(policies, mesh);
  if (!compiled.blob) throw new Error(compiled.diagnostics.map((d) => d.message).join("; "));
  // A TCP request is explained as the network filter decides it (the TCP projection).
  const mode = modeForRequest(request);
  const decision = (await startFilter(wasm, pluginConfigJson(compiled.blob, undefined, { mode }), workload, mode === "network")).decide(request);
  const prober = new Prober(wasm, workload, request, mesh);
  const out: PolicyExplanation[] = [];
  for (const p of policies) {
    const ns = p.metadata.namespace ?? "default";
    const applies = (await prober.rule(p, {})) !== "not-applicable";
    const rules: RuleExplanation[] = [];
    if (applies && !p.spec?.targetRef && !p.spec?.targetRefs?.length) {
      for (const [i, rule] of (p.spec?.rules ?? []).entries()) {
        const matches = (await prober.rule(p, rule ?? {})) === "match";
        const parts: PartExplanation[] = [];
        if (!matches) {
          for (const part of ruleParts(rule ?? {})) parts.push({ path: part.path, matches: (await prober.rule(p, part.rule)) === "match" });
        }
        rules.push({ id: `ns[${ns}]-policy[${p.metadata.name}]-rule[${i}]`, matches, parts });
      }
    }
    out.push({
      policy: `${ns}/${p.metadata.name}`,
      action: p.spec?.action ?? "ALLOW",
      dryRun: isDryRun(p.metadata.annotations),
      applies: applies && !p.spec?.targetRef && !p.spec?.targetRefs?.length,
      rules,
    });
  }
  return mode === "network" ? { tcp: true, decision, policies: out } : { decision, policies: out };
}

/** The HTTP status, or what happened to a connection (status 0: the network filter). */
export function statusText(d: { decision: string; status: number }): string {
  if (d.status !== 0) return String(d.status);
  return d.decision === "DENY" ? "connection closed" : "connection";
}

export function describeExplanation(e: Explanation): string {
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
      for (const part of r.parts) lines.push(`  ${"".padEnd(16)}   ${part.matches ? "ok  " : "FAIL"} ${part.path}`);
    }
  }
  const others = e.policies.filter((p) => !p.applies);
  if (others.length) {
    lines.push("", "Policies that do not apply (other namespace, selector, or targetRef):");
    for (const p of others) lines.push(`  ${p.action.padEnd(16)} ${p.policy}`);
  }
  lines.push("", "Order: CUSTOM, then DENY (any match denies), then ALLOW (if ALLOW policies apply, one must match). AUDIT and dry-run never change the decision.");
  return lines.join("\n");
}
