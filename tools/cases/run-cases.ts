// `meshauthz test`: every decision case through the real filter in the host, every validation
// case through the validator. A case this version cannot evaluate is a skip with a reason.
import type { CaseFile, DecisionCase, ValidationCase } from "../model/case-file.ts";
import type { AuthorizationPolicy } from "../model/policy.ts";
import { formatDiagnostic } from "../model/diagnostic.ts";
import { compilePolicyObjects, hasErrors } from "../pipeline/policy-set.ts";
import { modeForRequest, pluginConfigJson } from "../pipeline/plugin-config.ts";
import { resolve } from "node:path";
import { loadPolicies } from "../parse/index.ts";
import { validatePolicy } from "../validate/index.ts";
import { meshSettings } from "./case-file.ts";
import { type Decision, startFilter } from "./filter-decision.ts";

export type CaseStatus = "pass" | "fail" | "skip";

export interface CaseResult {
  id: string;
  status: CaseStatus;
  expected: unknown;
  actual: unknown;
  reason: string;
}

export interface TestReport {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  results: CaseResult[];
}

export interface RunOptions {
  wasm: Uint8Array;
  /** Policies for cases that carry none of their own (`--policies`). */
  policies?: AuthorizationPolicy[];
  /** Folder that `policy_files` are relative to (the case file's). */
  baseDir?: string;
}

class PolicyFilesError extends Error {}

function casePolicies(c: DecisionCase, opts: RunOptions): AuthorizationPolicy[] {
  if (c.policies) return c.policies;
  if (c.policy_files) {
    const loaded = loadPolicies(c.policy_files.map((f) => resolve(opts.baseDir ?? ".", f)));
    if (hasErrors(loaded.diagnostics)) {
      throw new PolicyFilesError(loaded.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic).join("; "));
    }
    return loaded.policies.map((p) => p.policy);
  }
  return opts.policies ?? [];
}

/** Envoy's effective policy id as the case format writes it. */
function decidedBy(d: Decision): string {
  if (d.policy === null) return "no-enforced-allow-policy";
  return d.policy;
}

function skipReason(c: DecisionCase, policies: AuthorizationPolicy[]): string | null {
  if (policies.some((p) => p.spec?.action === "CUSTOM")) {
    return "CUSTOM (ext_authz) policies are not evaluated by meshauthz yet";
  }
  return null;
}

async function runDecisionCase(file: CaseFile, c: DecisionCase, opts: RunOptions): Promise<CaseResult> {
  const expected = { decision: c.expected.decision, decided_by: c.expected.decided_by };
  let policies: AuthorizationPolicy[];
  try {
    policies = casePolicies(c, opts);
  } catch (e) {
    if (!(e instanceof PolicyFilesError)) throw e;
    return { id: c.id, status: "fail", expected, actual: null, reason: `policy_files: ${e.message}` };
  }
  const skip = skipReason(c, policies);
  if (skip) return { id: c.id, status: "skip", expected, actual: null, reason: skip };
  const compiled = compilePolicyObjects(policies, meshSettings(file.meta, c.mesh));
  if (!compiled.blob) {
    const errors = compiled.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic);
    return { id: c.id, status: "fail", expected, actual: null, reason: `policies rejected: ${errors.join("; ")}` };
  }
  // A TCP case goes through the filter as a network filter (a NETWORK WasmPlugin's config).
  const mode = modeForRequest(c.request);
  const filter = await startFilter(opts.wasm, pluginConfigJson(compiled.blob, undefined, { mode }), c.workload, mode === "network");
  const d = filter.decide(c.request);
  const actual = { decision: d.decision, decided_by: decidedBy(d), status: d.status, shadow: d.shadow, audit: d.audit };
  const problems: string[] = [];
  if (d.decision !== c.expected.decision) problems.push(`decision ${d.decision}, expected ${c.expected.decision}`);
  if (c.expected.decided_by !== undefined && actual.decided_by !== c.expected.decided_by) {
    problems.push(`decided by ${actual.decided_by}, expected ${c.expected.decided_by}`);
  }
  if (d.config_error) problems.push(`filter rejected its configuration: ${d.config_error}`);
  return { id: c.id, status: problems.length ? "fail" : "pass", expected, actual, reason: problems.join("; ") };
}

function runValidationCase(c: ValidationCase): CaseResult {
  const diagnostics = validatePolicy(c.policy);
  const errors = diagnostics.filter((d) => d.severity === "error");
  const warnings = diagnostics.filter((d) => d.severity === "warning");
  const actual = {
    valid: !hasErrors(diagnostics),
    warning: warnings.length > 0,
    messages: diagnostics.map((d) => `${d.severity}: ${d.path ? d.path + ": " : ""}${d.message}`),
  };
  const problems: string[] = [];
  if (actual.valid !== c.expected.valid) problems.push(`valid=${actual.valid}, expected ${c.expected.valid}`);
  if (c.expected.warning !== undefined && actual.warning !== c.expected.warning) {
    problems.push(`warning=${actual.warning}, expected ${c.expected.warning}`);
  }
  const needle = c.expected.message_contains;
  if (needle !== undefined && ![...errors, ...warnings].some((d) => d.message.includes(needle))) {
    problems.push(`no message contains "${needle}"`);
  }
  return { id: c.id, status: problems.length ? "fail" : "pass", expected: c.expected, actual, reason: problems.join("; ") };
}

export async function runCaseFile(file: CaseFile, opts: RunOptions): Promise<TestReport> {
  const results: CaseResult[] = [];
  for (const c of file.cases ?? []) {
    try {
      results.push(await runDecisionCase(file, c, opts));
    } catch (e) {
      results.push({ id: c.id, status: "fail", expected: c.expected, actual: null, reason: `error: ${(e as Error).message}` });
    }
  }
  for (const c of file.validation_cases ?? []) results.push(runValidationCase(c));
  const count = (s: CaseStatus) => results.filter((r) => r.status === s).length;
  return { total: results.length, passed: count("pass"), failed: count("fail"), skipped: count("skip"), results };
}
