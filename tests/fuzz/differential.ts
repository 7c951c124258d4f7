// Differential core: one scenario (policy set + workloads + requests) through the real filter in the host
// and through the reference evaluator; every field that can differ is compared. Used by the fixed-seed
// sample in `npm test` and by the `npm run fuzz` campaigns.
//
// A policy set is compiled once; one filter (host) is started per workload; all of its requests run
// through that one VM pair (Istio's default two workers, round robin).

import fc from "fast-check";
import { dump } from "js-yaml";
import type { CaseFile, CaseRequest, DecisionCase, Workload } from "../../tools/model/case-file.ts";
import type { AuthorizationPolicy, MeshSettings } from "../../tools/model/policy.ts";
import { compilePolicyObjects } from "../../tools/pipeline/policy-set.ts";
import { pluginConfigJson } from "../../tools/pipeline/plugin-config.ts";
import { type Decision, decisionFromConnection, decisionFromStream, type FilterUnderTest, INVALID_CONFIG_DETAILS, startFilter } from "../../tools/cases/filter-decision.ts";
import { connectionForRequest, streamForRequest } from "../../tools/cases/request-stream.ts";
import { carriesForwardedFor, evaluateReference, type ReferenceDecision } from "../reference/evaluate.ts";
import { CODEC_REJECTED_HTTP1, CODEC_REJECTED_HTTP2 } from "../../tools/host/stream.ts";
import { deviationsFor, filterView, PROBES, type DeviationName } from "./deviations.ts";
import { type Scenario, scenarioArb, type ScenarioOptions } from "./arbitraries.ts";
import { minimize } from "./minimize.ts";

export interface Stats {
  scenarios: number;
  /** scenarios run with pluginConfig engine "linear" */
  linear_scenarios: number;
  cases: number;
  mismatches: number;
  traps: number;
  /** generated policy sets the validator/compiler rejected: generator bugs, not mismatches */
  generator_rejects: number;
  /** requests that carried x-forwarded-for (reference run with the fail-safe deviation) */
  xff_cases: number;
  /** TCP connections (the filter's network mode, the reference's TCP projection) */
  tcp_cases: number;
  allow: number;
  deny: number;
  /** decided by a rule (ALLOW or DENY with a policy id other than none/null) */
  rule_decided: number;
  shadow_cases: number;
  audit_cases: number;
  /** first few distinct problem signatures with a count */
  signatures: Record<string, number>;
  /**
   * Differences explained by a documented deviation of the filter (deviations.ts): the filter agrees with
   * Istio's decision as the filter can see the request. Not mismatches; `allow_side` counts those where the
   * filter allowed what Istio denies.
   */
  deviations: Record<string, { cases: number; allow_side: number }>;
  /** requests no Envoy codec delivers to a filter (header value with NUL, CR, LF): not compared */
  undeliverable: number;
  /** generator rejections: first messages */
  reject_messages: string[];
}

export function newStats(): Stats {
  return {
    scenarios: 0, linear_scenarios: 0, cases: 0, mismatches: 0, traps: 0, generator_rejects: 0, xff_cases: 0, tcp_cases: 0, allow: 0, deny: 0,
    rule_decided: 0, shadow_cases: 0, audit_cases: 0, signatures: {}, reject_messages: [], deviations: {}, undeliverable: 0,
  };
}

/** What the filter did, as comparable to a ReferenceDecision, plus what must never happen. */
export interface Observed {
  decision: "ALLOW" | "DENY";
  policy: string | null;
  shadow: Decision["shadow"];
  audit: boolean;
  status: number;
  details: string;
  trap: string | null;
  config_error?: string;
}

export interface Mismatch {
  index: number;
  workload: Workload;
  request: CaseRequest;
  reference: ReferenceDecision;
  observed: Observed;
  problems: string[];
  signature: string;
}

function canonShadow(s: ReferenceDecision["shadow"] | Decision["shadow"]): string {
  const o: Record<string, unknown> = {};
  for (const k of ["allow", "deny"] as const) if (s[k]) o[k] = { result: s[k]!.result, policy: s[k]!.policy ?? null };
  return JSON.stringify(o);
}

/** Istio's decision: the reference evaluator, no deviation. */
export function referenceFor(policies: AuthorizationPolicy[], workload: Workload, request: CaseRequest, mesh: MeshSettings): ReferenceDecision {
  return evaluateReference(policies, workload, request, mesh);
}

/** How one request compares: agreement, a documented deviation (with its direction), or a mismatch. */
export interface Verdict {
  reference: ReferenceDecision;
  problems: string[];
  /** set when the difference is explained by documented deviations of the filter */
  deviation?: { names: DeviationName[]; allowSide: boolean; filterView: ReferenceDecision };
}

/**
 * Compares the filter with Istio. A difference is a documented deviation only when the filter agrees exactly
 * with the reference evaluated on what the filter can see (filterView) for the deviations that apply to this
 * request; anything else is a mismatch.
 */
export function judge(policies: AuthorizationPolicy[], workload: Workload, request: CaseRequest, mesh: MeshSettings, obs: Observed): Verdict {
  const reference = referenceFor(policies, workload, request, mesh);
  const problems = compare(reference, obs);
  if (problems.length === 0 || obs.trap || obs.config_error) return { reference, problems };
  const names = deviationsFor(request);
  if (names.length === 0) return { reference, problems };
  const view = filterView(request, names);
  const seen = evaluateReference(policies, workload, view.request, mesh, view.options);
  if (compare(seen, obs).length > 0) return { reference, problems };
  return { reference, problems, deviation: { names, allowSide: obs.decision === "ALLOW" && reference.decision === "DENY", filterView: seen } };
}

/** Every difference between the reference and what the filter did; empty when they agree. */
export function compare(ref: ReferenceDecision, obs: Observed): string[] {
  const p: string[] = [];
  if (obs.trap) p.push(`trap: ${obs.trap}`);
  if (obs.config_error) p.push(`config_error: ${obs.config_error}`);
  if (obs.decision !== ref.decision) p.push(`decision ${obs.decision}, reference ${ref.decision}`);
  if (obs.policy !== ref.policy) p.push(`policy ${JSON.stringify(obs.policy)}, reference ${JSON.stringify(ref.policy)}`);
  if (canonShadow(obs.shadow) !== canonShadow(ref.shadow)) p.push(`shadow ${canonShadow(obs.shadow)}, reference ${canonShadow(ref.shadow)}`);
  if (obs.audit !== ref.audit) p.push(`audit ${obs.audit}, reference ${ref.audit}`);
  // A denied connection has no status: the filter closed it (Envoy: wasm_downstream_close).
  if (!obs.trap && obs.decision === "DENY" && obs.status !== 403 && obs.details !== "wasm_downstream_close") p.push(`status ${obs.status} for a denial`);
  return p;
}

function signatureOf(ref: ReferenceDecision, obs: Observed, problems: string[], cls = ""): string {
  if (obs.trap) return "trap";
  if (obs.config_error) return "config_error";
  const kinds = problems.map((x) => x.split(" ")[0]).join("+");
  return `${kinds}:${ref.decision}->${obs.decision}${cls ? ` [${cls}]` : ""}`;
}

/**
 * Which issue-9 class a mismatch depends on: the first probe (deviations.ts PROBES) that takes one feature
 * out of the request and makes the filter and the reference agree; "unattributed" when none does.
 */
export function attribute(filter: FilterUnderTest, policies: AuthorizationPolicy[], workload: Workload, request: CaseRequest, mesh: MeshSettings): string {
  for (const probe of PROBES) {
    const r = probe.apply(request);
    if (r === null) continue;
    const obs = observe(filter, r);
    if (obs.trap || undeliverable(obs)) continue;
    const v = judge(policies, workload, r, mesh, obs);
    if (v.problems.length === 0 || v.deviation) return probe.label;
  }
  // Class 3 lives in the policy: a claim path walks struct fields only (`claims[groups][0]` never indexes a
  // list), Istio splits `experimental...[a][b]` once, keeps a NUL in a claim key, strings.Trim()s every bracket.
  const text = JSON.stringify(policies);
  if (/request\.auth\.claims\[[^"\]]*\]\[/.test(text) || /experimental\.envoy\.filters\.[^"]*\]\[/.test(text) || /request\.auth\.claims[^"]*\\u0000/.test(text) || /"\[\[|\]\]"/.test(text)) return "class3-metadata-path";
  return "unattributed";
}

/** The host answered for a codec: the request never reached the filter. */
export function undeliverable(obs: Observed): boolean {
  return obs.details === CODEC_REJECTED_HTTP1 || obs.details === CODEC_REJECTED_HTTP2;
}

/** One request through a started filter, observed the way an operator would see it. */
export function observe(filter: FilterUnderTest, request: CaseRequest): Observed {
  if (request.protocol === "TCP") {
    const c = filter.host.connect(connectionForRequest(request));
    const invalid = !filter.host.configAccepted || c.filterState["meshauthz.termination_details"] === INVALID_CONFIG_DETAILS;
    const d = decisionFromConnection(c, invalid ? (filter.host.configError ?? "invalid configuration") : null);
    const o: Observed = { decision: d.decision, policy: d.policy, shadow: d.shadow, audit: d.audit, status: 0, details: c.closeDetails ?? "", trap: c.trap };
    if (d.config_error) o.config_error = d.config_error;
    return o;
  }
  const result = filter.host.request(streamForRequest(request));
  const invalid = !filter.host.configAccepted || result.details === INVALID_CONFIG_DETAILS;
  const d = decisionFromStream(result, invalid ? (filter.host.configError ?? "invalid configuration") : null);
  const o: Observed = {
    decision: d.decision, policy: d.policy, shadow: d.shadow, audit: d.audit,
    status: result.localReply?.status ?? result.status, details: result.details, trap: result.trap,
  };
  if (d.config_error) o.config_error = d.config_error;
  return o;
}

export interface RunOptions {
  /** count into stats (false while fast-check shrinks) */
  count?: boolean;
  /** stop at the first mismatch (shrinking needs only one) */
  firstOnly?: boolean;
  /** compile THESE policies into the filter's blob instead (self-checks: the harness must see the difference) */
  compileFrom?: AuthorizationPolicy[];
}

/** Runs a scenario; returns its mismatches (traps included). */
export async function runScenario(wasm: Uint8Array, sc: Scenario, stats: Stats, opts: RunOptions = {}): Promise<Mismatch[]> {
  const count = opts.count !== false;
  const compiled = compilePolicyObjects(opts.compileFrom ?? sc.policies, sc.mesh);
  if (!compiled.blob) {
    if (count) {
      stats.generator_rejects++;
      const errs = compiled.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.policy ?? ""} ${d.path}: ${d.message}`);
      if (stats.reject_messages.length < 10) stats.reject_messages.push(errs.slice(0, 2).join("; "));
    }
    return [];
  }
  if (count) stats.scenarios++;
  if (count && sc.engine === "linear") stats.linear_scenarios++;
  const config = pluginConfigJson(compiled.blob, sc.engine);
  const networkConfig = pluginConfigJson(compiled.blob, sc.engine, { mode: "network" });
  // One sidecar per workload and mode: the HTTP filter and the network filter (a TCP request).
  const filters = new Map<string, FilterUnderTest>();
  const out: Mismatch[] = [];
  for (let i = 0; i < sc.requests.length; i++) {
    const { workload: w, request } = sc.requests[i]!;
    const wi = w % sc.workloads.length;
    const workload = sc.workloads[wi]!;
    const tcp = request.protocol === "TCP";
    const key = `${wi}${tcp ? "/tcp" : ""}`;
    let filter = filters.get(key);
    if (!filter) {
      filter = await startFilter(wasm, tcp ? networkConfig : config, workload, tcp);
      filters.set(key, filter);
    }
    const obs = observe(filter, request);
    if (obs.trap) filters.delete(key); // a trapped VM is dead: start a fresh one for the next request
    if (undeliverable(obs)) {
      if (count) stats.undeliverable++;
      continue;
    }
    const verdict = judge(sc.policies, workload, request, sc.mesh, obs);
    const ref = verdict.reference;
    const problems = verdict.deviation ? [] : verdict.problems;
    if (verdict.deviation && count) {
      const name = verdict.deviation.names.join("+");
      const d = (stats.deviations[name] ??= { cases: 0, allow_side: 0 });
      d.cases++;
      if (verdict.deviation.allowSide) d.allow_side++;
    }
    if (count) {
      stats.cases++;
      if (carriesForwardedFor(request)) stats.xff_cases++;
      if (tcp) stats.tcp_cases++;
      if (ref.decision === "ALLOW") stats.allow++;
      else stats.deny++;
      if (ref.policy !== null && ref.policy !== "none") stats.rule_decided++;
      if (ref.shadow.allow || ref.shadow.deny) stats.shadow_cases++;
      if (ref.audit) stats.audit_cases++;
    }
    if (problems.length > 0) {
      const cls = obs.trap || obs.config_error ? "" : attribute(filter, sc.policies, workload, request, sc.mesh);
      const signature = signatureOf(ref, obs, problems, cls);
      if (count) {
        stats.mismatches++;
        if (obs.trap) stats.traps++;
        stats.signatures[signature] = (stats.signatures[signature] ?? 0) + 1;
      }
      out.push({ index: i, workload, request, reference: ref, observed: obs, problems, signature });
      if (opts.firstOnly) break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Reproducing case files (the format of shared/conformance/istio-cases.yaml; `npx meshauthz test FILE`)

function decidedBy(policy: string | null): string {
  return policy === null ? "no-enforced-allow-policy" : policy;
}

export function reproCase(sc: { mesh: MeshSettings; policies: AuthorizationPolicy[] }, m: Mismatch, id: string, source: string): DecisionCase {
  const ref = m.reference;
  return {
    id,
    source,
    confidence: "derived",
    policies: sc.policies,
    workload: m.workload,
    request: m.request,
    expected: { decision: ref.decision, decided_by: decidedBy(ref.policy) },
    note:
      `reference (tests/reference/evaluate.ts, Istio's decision): ` +
      `${JSON.stringify({ decision: ref.decision, policy: ref.policy, shadow: ref.shadow, audit: ref.audit })}; ` +
      `filter: ${JSON.stringify(m.observed)}; problems: ${m.problems.join("; ")}. ` +
      `\`meshauthz test\` checks decision and decided_by; \`npm run fuzz -- --replay FILE\` also checks shadow, audit and traps.`,
  };
}

export function reproFile(sc: { mesh: MeshSettings; policies: AuthorizationPolicy[] }, cases: DecisionCase[]): string {
  const file: CaseFile = {
    meta: {
      root_namespace: sc.mesh.rootNamespace,
      trust_domain: sc.mesh.trustDomain,
      trust_domain_aliases: sc.mesh.trustDomainAliases,
      path_normalization: "BASE",
    },
    cases,
  };
  return "# Minimal reproducing case found by the meshauthz differential fuzzer (tests/fuzz/).\n" + dump(file, { lineWidth: 140, noRefs: true });
}

// ---------------------------------------------------------------------------------------------------------
// fast-check driver: scenarios from a seed; shrinking of the first failures

export interface Campaign {
  stats: Stats;
  /** shrunk reproducing case files (YAML), first failures only */
  repros: Array<{ signature: string; yaml: string; problems: string[] }>;
}

export interface CampaignOptions extends ScenarioOptions {
  seed: number;
  /** stop after this many request cases */
  cases: number;
  /** shrink at most this many distinct failure signatures (shrinking restarts filters many times) */
  shrink?: number;
  /** scenarios per fast-check run */
  batch?: number;
  onProgress?: (s: Stats) => void;
}

export async function runCampaign(wasm: Uint8Array, opts: CampaignOptions): Promise<Campaign> {
  const stats = newStats();
  const repros: Campaign["repros"] = [];
  const shrunk = new Set<string>();
  const maxShrink = opts.shrink ?? 3;
  const arb = scenarioArb({ requests: opts.requests, maxPolicies: opts.maxPolicies });
  for (let batch = 0; stats.cases < opts.cases; batch++) {
    const seed = (opts.seed + batch * 7919) | 0;
    let failed = false; // after the first failure of a run, fast-check is shrinking: do not count
    let failSignature = "";
    const prop = fc.asyncProperty(arb, async (sc) => {
      if (!failed && stats.cases >= opts.cases) return true;
      const ms = await runScenario(wasm, sc, stats, { count: !failed, firstOnly: failed });
      if (ms.length === 0) return true;
      if (failed) return ms[0]!.signature !== failSignature; // keep shrinking the same failure
      const fresh = ms.find((m) => !shrunk.has(m.signature));
      if (!fresh || shrunk.size >= maxShrink) return true; // counted; nothing new to shrink
      failed = true;
      failSignature = fresh.signature;
      shrunk.add(fresh.signature);
      return false;
    });
    const details = await fc.check(prop, { seed, numRuns: opts.batch ?? 50 });
    if (details.failed && details.counterexample) {
      const sc = details.counterexample[0] as Scenario;
      const ms = await runScenario(wasm, sc, newStats(), { count: false });
      const m = ms.find((x) => x.signature === failSignature) ?? ms[0];
      if (m && sc.engine === "linear") {
        m.problems.push('engine "linear" (the case format cannot say so: `meshauthz test` runs the default engine)');
      }
      if (m) {
        // fast-check shrinks poorly through chained arbitraries: finish with delta debugging.
        const min = await minimize(wasm, { engine: sc.engine, mesh: sc.mesh, policies: sc.policies, workload: m.workload, request: m.request, signature: m.signature });
        const one = min ?? { policies: sc.policies, workload: m.workload, request: m.request, mismatch: m };
        const source = `meshauthz differential fuzzer (tests/fuzz/), fast-check seed ${seed}, path ${details.counterexamplePath}, minimized`;
        const yaml = reproFile({ mesh: sc.mesh, policies: one.policies }, [reproCase({ mesh: sc.mesh, policies: one.policies }, one.mismatch, `fuzz-${opts.seed}-${repros.length + 1}`, source)]);
        repros.push({ signature: m.signature, yaml, problems: one.mismatch.problems });
      }
    }
    opts.onProgress?.(stats);
  }
  return { stats, repros };
}
