// `meshauthz coverage`: which rules the case files exercise. For every case, the filter decides with
// all the policies (which rule decides), and each rule of a policy that applies to the case's
// workload is probed alone (does it match?), through the same .wasm that enforces.
import { type Decision, type FilterUnderTest, startFilter } from "../cases/filter-decision.ts";
import type { DecisionCase, Workload } from "../model/case-file.ts";
import type { AuthorizationPolicy, MeshSettings } from "../model/policy.ts";
import { isDryRun } from "../compile/dry-run.ts";
import { compilePolicyObjects } from "../pipeline/policy-set.ts";
import { type FilterMode, modeForRequest, pluginConfigJson, withMode } from "../pipeline/plugin-config.ts";
import type { LoadedPolicy } from "../parse/index.ts";
import { resolve } from "node:path";
import { decideWithProviders } from "../cases/ext-authz-responder.ts";

export type RuleStatus = "decides" | "never-decides" | "never-matched";

export interface RuleCoverage {
  id: string;
  policy: string;
  action: string;
  dryRun: boolean;
  file: string;
  line: number;
  /** Cases whose request the rule matches (probed alone). */
  matched: number;
  /** Cases the rule decides (denies, allows, audits, or decides a dry-run). */
  decided: number;
  status: RuleStatus;
  /** For never-decides: the rules that decided the cases it matched. */
  decidedInstead: string[];
}

export interface CoverageReport {
  cases: number;
  /** Cases that inline their own policies: they test those, not --policies. */
  skipped: string[];
  rules: RuleCoverage[];
}

export interface CoverageCase {
  origin: string;
  case: DecisionCase;
  /** The policies the case is decided with: its `policy_files`, or --policies when it has none;
   *  null when it inlines its own (they are not the policies being measured). */
  policies: LoadedPolicy[] | null;
}

/** A policy's identity across loads: the file it came from and its namespace/name. */
function identity(l: LoadedPolicy): string {
  return `${resolve(l.file)}\0${l.policy.metadata.namespace ?? "default"}/${l.policy.metadata.name}`;
}

function workloadKey(w: Workload): string {
  return JSON.stringify([w.namespace, Object.entries(w.labels ?? {}).sort()]);
}

const PROBE = "meshauthz-coverage-probe";

/** The probe's action: a rule matches what its action class matches. On a TCP chain an ALLOW rule
 *  with HTTP-only fields is dropped, while a DENY, AUDIT or CUSTOM rule loses those fields and
 *  matches more (docs/tcp.md), so a non-ALLOW rule is probed as DENY. */
function probeAction(policy: AuthorizationPolicy): "ALLOW" | "DENY" {
  const a = policy.spec?.action ?? "ALLOW";
  return a === "ALLOW" ? "ALLOW" : "DENY";
}

/** A one-rule probe in `policy`'s namespace and selector: decided by the rule iff it matches. */
function probePolicy(policy: AuthorizationPolicy, rule: unknown, action: "ALLOW" | "DENY" = "ALLOW"): AuthorizationPolicy {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: PROBE, namespace: policy.metadata.namespace ?? "default" },
    spec: { selector: policy.spec?.selector, action, rules: [(rule ?? {}) as never] },
  };
}

/** Whether the probe's one rule decided d. */
function probeMatched(d: Decision, policy: AuthorizationPolicy, action: "ALLOW" | "DENY"): boolean {
  return d.decision === action && d.policy === `ns[${policy.metadata.namespace ?? "default"}]-policy[${PROBE}]-rule[0]`;
}

function decides(d: Decision, r: { id: string; action: string; dryRun: boolean }): boolean {
  if (r.dryRun) return d.shadow.allow?.policy === r.id || d.shadow.deny?.policy === r.id;
  if (r.action === "AUDIT") return d.audit;
  // A CUSTOM rule decides when its provider denied: the id the case format writes ext_authz(<id>).
  if (r.action === "CUSTOM") return d.policy === `ext_authz(${r.id})`;
  return d.policy === r.id;
}

export async function measureCoverage(
  wasm: Uint8Array,
  loaded: LoadedPolicy[],
  cases: CoverageCase[],
  mesh: MeshSettings,
): Promise<CoverageReport> {
  const setConfigs = new Map<string, string>();
  const setConfig = (set: LoadedPolicy[]): { key: string; config: string } => {
    const key = set.map(identity).join("\n");
    let c = setConfigs.get(key);
    if (c === undefined) {
      const compiled = compilePolicyObjects(set.map((l) => l.policy), mesh);
      if (!compiled.blob) throw new Error(compiled.diagnostics.map((d) => d.message).join("; "));
      c = pluginConfigJson(compiled.blob);
      setConfigs.set(key, c);
    }
    return { key, config: c };
  };
  const filters = new Map<string, Promise<FilterUnderTest>>();
  // A TCP case is measured through the network filter (its own sidecar per key).
  const filter = (key: string, cfg: string, w: Workload, mode: FilterMode) => {
    let f = filters.get(`${key} ${mode}`);
    if (!f) {
      f = startFilter(wasm, withMode(cfg, mode), w, mode === "network");
      filters.set(`${key} ${mode}`, f);
    }
    return f;
  };
  const probeConfigs = new Map<string, string>();
  const probe = (key: string, p: AuthorizationPolicy, rule: unknown, action: "ALLOW" | "DENY" = "ALLOW"): string => {
    let c = probeConfigs.get(key);
    if (!c) {
      const compiled = compilePolicyObjects([probePolicy(p, rule, action)], mesh);
      if (!compiled.blob) throw new Error(compiled.diagnostics.map((d) => d.message).join("; "));
      c = pluginConfigJson(compiled.blob);
      probeConfigs.set(key, c);
    }
    return c;
  };

  const rules: RuleCoverage[] = [];
  const firstRule = new Map<string, number>();
  loaded.forEach((l) => {
    firstRule.set(identity(l), rules.length);
    const p = l.policy;
    const ns = p.metadata.namespace ?? "default";
    (p.spec?.rules ?? []).forEach((_, i) => {
      rules.push({
        id: `ns[${ns}]-policy[${p.metadata.name}]-rule[${i}]`,
        policy: `${ns}/${p.metadata.name}`,
        action: p.spec?.action ?? "ALLOW",
        dryRun: isDryRun(p.metadata.annotations),
        file: l.file,
        line: l.locate(`spec.rules[${i}]`)?.line ?? l.locate("")?.line ?? 1,
        matched: 0,
        decided: 0,
        status: "never-matched",
        decidedInstead: [],
      });
    });
  });

  const report: CoverageReport = { cases: 0, skipped: [], rules };
  for (const { origin, case: c, policies: set } of cases) {
    if (set === null) {
      report.skipped.push(origin);
      continue;
    }
    report.cases++;
    const wk = workloadKey(c.workload);
    const all = setConfig(set);
    // A CUSTOM policy in the set: its provider is really asked, answering the case's ext_authz_decision.
    const custom = modeForRequest(c.request) === "http" && set.some((l) => l.policy.spec?.action === "CUSTOM");
    const d = custom
      ? (await decideWithProviders((clusters) => startFilter(wasm, all.config, c.workload, false, { clusters }), [...(mesh.extensionProviders?.valid.values() ?? [])], c.request)).decision
      : (await filter(`all ${all.key} ${wk}`, all.config, c.workload, modeForRequest(c.request))).decide(c.request);
    for (const l of set) {
      const pi = identity(l);
      const r = firstRule.get(pi);
      if (r === undefined) continue; // not one of the policies measured
      const p = l.policy;
      const ruleList = p.spec?.rules ?? [];
      if (ruleList.length === 0) continue;
      // Does the policy apply to this workload at all? (an empty rule matches every request)
      const applies = await filter(`apply ${pi} ${wk}`, probe(`apply ${pi}`, p, {}), c.workload, modeForRequest(c.request));
      if (applies.decide(c.request).policy === null || p.spec?.targetRef || p.spec?.targetRefs?.length) continue;
      for (const [i, rule] of ruleList.entries()) {
        const cov = rules[r + i];
        const action = probeAction(p);
        const f = await filter(`rule ${pi}.${i} ${wk}`, probe(`rule ${pi}.${i}`, p, rule, action), c.workload, modeForRequest(c.request));
        if (!probeMatched(f.decide(c.request), p, action)) continue;
        cov.matched++;
        if (decides(d, cov)) cov.decided++;
        else if (d.policy && !cov.decidedInstead.includes(d.policy)) cov.decidedInstead.push(d.policy);
      }
    }
  }
  for (const cov of rules) cov.status = cov.matched === 0 ? "never-matched" : cov.decided === 0 ? "never-decides" : "decides";
  return report;
}

export function describeCoverage(r: CoverageReport): string {
  const lines: string[] = [];
  const byFile = new Map<string, RuleCoverage[]>();
  for (const cov of r.rules) byFile.set(cov.file, [...(byFile.get(cov.file) ?? []), cov]);
  for (const [file, covs] of byFile) {
    lines.push(file);
    for (const c of covs) {
      const what =
        c.status === "decides"
          ? `matched ${c.matched}, decided ${c.decided}`
          : c.status === "never-decides"
            ? `matched ${c.matched}, never decides${c.decidedInstead.length ? ` (decided by ${c.decidedInstead.join(", ")})` : ""}`
            : "never matched";
      lines.push(`  ${file}:${c.line}: ${c.action}${c.dryRun ? " (dry-run)" : ""} ${c.id}: ${what}`);
    }
  }
  const n = r.rules.length;
  const matched = r.rules.filter((c) => c.matched > 0).length;
  const decided = r.rules.filter((c) => c.decided > 0).length;
  const pct = (k: number) => (n ? ((100 * k) / n).toFixed(1) : "100.0");
  lines.push(
    `${r.cases} case(s)${r.skipped.length ? ` (${r.skipped.length} with inline policies skipped)` : ""}; ` +
      `${n} rule(s): ${matched} matched (${pct(matched)}%), ${decided} decide (${pct(decided)}%), ` +
      `${matched - decided} never decide, ${n - matched} never matched`,
  );
  return lines.join("\n");
}

/** lcov tracefile: a policy is a function (FN), a rule a line (DA = cases matched) with a branch
 *  (BRDA = cases decided), so coverage tools and CI dashboards can show and gate it. */
export function coverageLcov(r: CoverageReport): string {
  const out: string[] = [];
  const byFile = new Map<string, RuleCoverage[]>();
  for (const cov of r.rules) byFile.set(cov.file, [...(byFile.get(cov.file) ?? []), cov]);
  for (const [file, covs] of byFile) {
    out.push("TN:meshauthz", `SF:${file}`);
    const policies = new Map<string, { line: number; hits: number }>();
    for (const c of covs) {
      const p = policies.get(c.policy) ?? { line: c.line, hits: 0 };
      p.line = Math.min(p.line, c.line);
      p.hits += c.matched;
      policies.set(c.policy, p);
    }
    for (const [name, p] of policies) out.push(`FN:${p.line},${name}`);
    for (const [name, p] of policies) out.push(`FNDA:${p.hits},${name}`);
    out.push(`FNF:${policies.size}`, `FNH:${[...policies.values()].filter((p) => p.hits > 0).length}`);
    covs.forEach((c, i) => out.push(`BRDA:${c.line},${i},0,${c.matched ? c.decided : "-"}`));
    out.push(`BRF:${covs.length}`, `BRH:${covs.filter((c) => c.decided > 0).length}`);
    const lines = new Map<number, number>();
    for (const c of covs) lines.set(c.line, (lines.get(c.line) ?? 0) + c.matched);
    for (const [line, hits] of [...lines].sort((a, b) => a[0] - b[0])) out.push(`DA:${line},${hits}`);
    out.push(`LF:${lines.size}`, `LH:${[...lines.values()].filter((h) => h > 0).length}`, "end_of_record");
  }
  return `${out.join("\n")}\n`;
}
