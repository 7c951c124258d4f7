// `meshauthz diff`: every request through the filter with the policies before and after a change,
// and the decisions that change, grouped by the rule that decides before and after.
import { type Decision, type FilterUnderTest, startFilter } from "../cases/filter-decision.ts";
import type { CaseRequest, Workload } from "../model/case-file.ts";
import type { AuthorizationPolicy, MeshSettings } from "../model/policy.ts";
import { type FilterMode, modeForRequest, pluginConfigJson, withMode } from "../pipeline/plugin-config.ts";
import type { LoggedRequest } from "../requests/access-log.ts";
import { applyAssumption, type Assumption, assumptions, describeAssumption, readsUnknown, rulesNear } from "./witnesses.ts";
import { decideWithProviders } from "../cases/ext-authz-responder.ts";
import type { ExtAuthzProvider } from "../meshconfig/providers.ts";

export type Change = "allow-to-deny" | "deny-to-allow";

export interface Side {
  decision: "ALLOW" | "DENY";
  /** The deciding rule, "none" (ALLOW policies apply, none matched) or "no-enforced-allow-policy". */
  by: string;
}

export interface DiffExample {
  origin: string;
  workload: string;
  request: string;
  /** For a possible change: what the source did not record, as assumed. */
  assuming?: string;
}

export interface DiffGroup {
  change: Change;
  certainty: "certain" | "possible";
  before: Side;
  after: Side;
  count: number;
  /** The attributes the source did not record that these decisions depend on. */
  missing: string[];
  examples: DiffExample[];
}

export interface DiffReport {
  requests: number;
  changed: number;
  certain: number;
  possible: number;
  unchanged: number;
  /** Unchanged under every assumption tried, but depending on what the source did not record. */
  unchangedUncertain: number;
  /** Log lines that are not inbound HTTP requests: all counted, the first 100 listed. */
  skippedLines: number;
  skipped: Array<{ origin: string; reason: string }>;
  groups: DiffGroup[];
}

export interface DiffInput {
  wasm: Uint8Array;
  before: { blob: Uint8Array; policies: AuthorizationPolicy[] };
  after: { blob: Uint8Array; policies: AuthorizationPolicy[] };
  mesh: MeshSettings;
  /** Iterated once, as read (a log is never held in memory whole). */
  requests: Iterable<LoggedRequest>;
  /** Filled while `requests` is iterated. */
  skipped?: { total: number; first: Array<{ origin: string; reason: string }> };
  /** The ext_authz providers CUSTOM policies name: a request that a CUSTOM rule may match is
   *  decided with loopback providers answering its `ext_authz_decision` (or, when its source does
   *  not say, both answers: the provider's answer is then an unknown attribute). */
  providers?: ExtAuthzProvider[];
  /** Examples kept per group. */
  examples?: number;
}

/** Does a CUSTOM policy of either set live in the workload's namespace or the root namespace? */
function customNear(input: DiffInput, namespace: string): boolean {
  return [...input.before.policies, ...input.after.policies].some((p) => {
    const ns = p.metadata.namespace ?? "default";
    return p.spec?.action === "CUSTOM" && (ns === namespace || ns === input.mesh.rootNamespace);
  });
}

function side(d: Decision): Side {
  return { decision: d.decision, by: d.policy ?? "no-enforced-allow-policy" };
}

function workloadText(w: Workload): string {
  const labels = Object.entries(w.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(",");
  return labels ? `${w.namespace}/${labels}` : w.namespace;
}

function requestText(r: CaseRequest): string {
  const who = r.source_principal ? ` from ${r.source_principal}` : "";
  return `${r.method ?? "GET"} ${r.path ?? "/"}${r.host ? ` (${r.host})` : ""}${who}`;
}

/** One sidecar per workload, policy set and mode (a TCP request goes to the network filter),
 *  started once and reused for every request. */
class Sidecars {
  private readonly cache = new Map<string, Promise<FilterUnderTest>>();
  constructor(private readonly wasm: Uint8Array, readonly config: string) {}
  get(w: Workload, mode: FilterMode = "http"): Promise<FilterUnderTest> {
    const key = JSON.stringify([w.namespace, Object.entries(w.labels ?? {}).sort(), mode]);
    let f = this.cache.get(key);
    if (!f) {
      f = startFilter(this.wasm, withMode(this.config, mode), w, mode === "network");
      this.cache.set(key, f);
    }
    return f;
  }
}

export async function diffDecisions(input: DiffInput): Promise<DiffReport> {
  const before = new Sidecars(input.wasm, pluginConfigJson(input.before.blob));
  const after = new Sidecars(input.wasm, pluginConfigJson(input.after.blob));
  const maxExamples = input.examples ?? 3;
  const groups = new Map<string, DiffGroup>();
  const report: DiffReport = { requests: 0, changed: 0, certain: 0, possible: 0, unchanged: 0, unchangedUncertain: 0, skippedLines: 0, skipped: [], groups: [] };
  // The rules near a namespace, once per namespace (not per request: logs are long).
  const near = new Map<string, ReturnType<typeof rulesNear>>();

  for (const r of input.requests) {
    report.requests++;
    const fb = await before.get(r.workload, modeForRequest(r.request));
    const fa = await after.get(r.workload, modeForRequest(r.request));
    let rules = near.get(r.workload.namespace);
    if (!rules) {
      rules = [...rulesNear(input.before.policies, r.workload.namespace, input.mesh), ...rulesNear(input.after.policies, r.workload.namespace, input.mesh)];
      near.set(r.workload.namespace, rules);
    }
    const reads = readsUnknown(rules, r.unknown);
    const tries: Array<Assumption | null> = reads.size === 0 ? [null] : assumptions(rules, input.mesh, r.unknown, reads);
    // A CUSTOM rule near the workload: the provider is really asked (loopback servers).
    const custom = customNear(input, r.workload.namespace) && modeForRequest(r.request) === "http";
    const answers: Array<string | undefined> = !custom ? [undefined] : r.request.ext_authz_decision !== undefined ? [r.request.ext_authz_decision] : ["allow", "deny"];
    if (answers.length > 1) reads.add("ext_authz provider answer");
    const decide = async (sidecars: Sidecars, f: FilterUnderTest, req: CaseRequest): Promise<Side> => {
      if (!custom) return side(f.decide(req));
      const { decision } = await decideWithProviders(
        (clusters) => startFilter(input.wasm, sidecars.config, r.workload, false, { clusters }),
        input.providers ?? [],
        req,
      );
      return side(decision);
    };
    let found: { b: Side; a: Side; assumption: Assumption | null; answer?: string } | null = null;
    search: for (const t of tries) {
      for (const answer of answers) {
        const base = t ? applyAssumption(r.request, t) : r.request;
        const req = answer === undefined ? base : { ...base, ext_authz_decision: answer };
        const b = await decide(before, fb, req);
        const a = await decide(after, fa, req);
        if (b.decision !== a.decision) {
          found = { b, a, assumption: t, answer: answers.length > 1 ? answer : undefined };
          break search;
        }
      }
    }
    if (!found) {
      report.unchanged++;
      if (reads.size > 0) report.unchangedUncertain++;
      continue;
    }
    const certainty = reads.size === 0 ? "certain" : "possible";
    report.changed++;
    report[certainty]++;
    const change: Change = found.b.decision === "ALLOW" ? "allow-to-deny" : "deny-to-allow";
    const key = JSON.stringify([change, certainty, found.b, found.a]);
    let g = groups.get(key);
    if (!g) {
      g = { change, certainty, before: found.b, after: found.a, count: 0, missing: [], examples: [] };
      groups.set(key, g);
    }
    g.count++;
    for (const m of reads) if (!g.missing.includes(m)) g.missing.push(m);
    if (g.examples.length < maxExamples) {
      const ex: DiffExample = { origin: r.origin, workload: workloadText(r.workload), request: requestText(r.request) };
      const assumed = [found.assumption ? describeAssumption(found.assumption) : "", found.answer ? `the ext_authz provider answers ${found.answer}` : ""].filter((x) => x);
      if (assumed.length) ex.assuming = assumed.join(", ");
      g.examples.push(ex);
    }
  }
  report.skippedLines = input.skipped?.total ?? 0;
  report.skipped = input.skipped?.first ?? [];
  report.groups = [...groups.values()].sort((x, y) => (x.certainty === y.certainty ? y.count - x.count : x.certainty === "certain" ? -1 : 1));
  return report;
}

/** Why log lines were skipped: the first one (-o json lists the first 100). */
function skippedReasons(r: DiffReport): string {
  const first = r.skipped[0];
  return first ? `first ${first.origin}: ${first.reason}` : "";
}

function sideText(s: Side): string {
  if (s.by === "none") return `${s.decision} (no ALLOW rule matched)`;
  if (s.by === "no-enforced-allow-policy") return `${s.decision} (no ALLOW policy applies)`;
  return `${s.decision} by ${s.by}`;
}

export function describeDiff(r: DiffReport): string {
  const lines = [
    `${r.requests} request(s): ${r.changed} decision change(s) (${r.certain} certain, ${r.possible} possible), ${r.unchanged} unchanged` +
      (r.unchangedUncertain ? ` (${r.unchangedUncertain} of them depend on attributes the source did not record)` : "") +
      (r.skippedLines ? `, ${r.skippedLines} log line(s) skipped (${skippedReasons(r)})` : ""),
  ];
  for (const g of r.groups) {
    lines.push("");
    lines.push(`${g.before.decision} -> ${g.after.decision}: ${g.count} request(s), ${g.certainty}${g.missing.length ? ` (depends on ${g.missing.join(", ")}, not in the source)` : ""}`);
    lines.push(`  before: ${sideText(g.before)}`);
    lines.push(`  after:  ${sideText(g.after)}`);
    for (const e of g.examples) {
      lines.push(`  e.g. ${e.origin}: ${e.request} to ${e.workload}${e.assuming ? `, if ${e.assuming}` : ""}`);
    }
  }
  return lines.join("\n");
}
