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
import { type Decision, type FilterUnderTest, startFilter } from "./filter-decision.ts";
import { customProviderNames, decideWithProviders, syntheticProviders } from "./ext-authz-responder.ts";
import type { ResolvedProviders } from "../meshconfig/providers.ts";
import { isRequestAuthentication, type RequestAuthentication, validateRequestAuthentication } from "./jwt-authn.ts";
import type { ConnectionResult, StreamResult } from "../host/types.ts";
import type { SourceLocation } from "../model/diagnostic.ts";
import type { IstioVersion } from "../validate/istio-version.ts";

export type CaseStatus = "pass" | "fail" | "skip";

export interface CaseResult {
  id: string;
  status: CaseStatus;
  expected: unknown;
  actual: unknown;
  reason: string;
  /** Wall time of the case, for reports (JUnit). */
  seconds?: number;
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
  /** kubectl -n for policy files without metadata.namespace. */
  namespace?: string;
  /** Source positions in the case file (ReadResult.locate), so that errors in inline policies have file:line:col. */
  locate?: (path: string) => SourceLocation | undefined;
  istioVersion?: IstioVersion;
  /** The mesh config's ext_authz providers (`--mesh-config`); without it, every provider a case
   *  names exists (an HTTP provider with Istio's defaults). */
  extensionProviders?: ResolvedProviders;
}

/** `locate` for the policy at `prefix` (e.g. `cases[3].policies[0]`) of the case file. */
function locateUnder(opts: RunOptions, prefix: string): ((path: string) => SourceLocation | undefined) | undefined {
  const locate = opts.locate;
  if (!locate) return undefined;
  return (path: string) => locate(path === "" ? prefix : path.startsWith("[") ? prefix + path : `${prefix}.${path}`);
}

class PolicyFilesError extends Error {}

function casePolicies(c: DecisionCase, opts: RunOptions): AuthorizationPolicy[] {
  if (c.policies) return c.policies;
  if (c.policy_files) {
    const loaded = loadPolicies(c.policy_files.map((f) => resolve(opts.baseDir ?? ".", f)), { namespace: opts.namespace });
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

function skipReason(_c: DecisionCase, _policies: AuthorizationPolicy[]): string | null {
  return null;
}

async function runDecisionCase(file: CaseFile, c: DecisionCase, opts: RunOptions, index: number): Promise<CaseResult> {
  const expected = { decision: c.expected.decision, decided_by: c.expected.decided_by };
  let policies: AuthorizationPolicy[];
  try {
    policies = casePolicies(c, opts);
  } catch (e) {
    if (!(e instanceof PolicyFilesError)) throw e;
    return { id: c.id, status: "fail", expected, actual: null, reason: `policy_files: ${e.message}` };
  }
  // RequestAuthentications among a case's policies configure jwt_authn (jwt-authn.ts), not RBAC.
  const requestAuthentications: RequestAuthentication[] = [];
  const raErrors: string[] = [];
  const kept: number[] = []; // positions in c.policies of the AuthorizationPolicies (for locations)
  policies = policies.filter((p, i) => {
    if (!isRequestAuthentication(p)) {
      kept.push(i);
      return true;
    }
    const at = c.policies ? opts.locate?.(`cases[${index}].policies[${i}]`) : undefined;
    const where = at ? `${at.file}:${at.line}:${at.column}: ` : "";
    raErrors.push(...validateRequestAuthentication(p, `policies[${i}]`).map((e) => where + e));
    requestAuthentications.push(p);
    return false;
  });
  if (raErrors.length) return { id: c.id, status: "fail", expected, actual: null, reason: `RequestAuthentication rejected: ${raErrors.join("; ")}` };
  const skip = skipReason(c, policies);
  if (skip) return { id: c.id, status: "skip", expected, actual: null, reason: skip };
  // CUSTOM: the case's providers (the mesh config's, or every named one) answer ext_authz_decision.
  const names = customProviderNames(policies);
  const extensionProviders = names.length === 0 ? opts.extensionProviders : (opts.extensionProviders ?? syntheticProviders(names));
  const mesh = { ...meshSettings(file.meta, c.mesh), extensionProviders };
  const locates = c.policies ? kept.map((j) => locateUnder(opts, `cases[${index}].policies[${j}]`)) : undefined;
  const compiled = compilePolicyObjects(policies, mesh, locates, undefined, opts.istioVersion);
  if (!compiled.blob) {
    const errors = compiled.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic);
    return { id: c.id, status: "fail", expected, actual: null, reason: `policies rejected: ${errors.join("; ")}` };
  }
  // A TCP case goes through the filter as a network filter (a NETWORK WasmPlugin's config).
  const mode = modeForRequest(c.request);
  const used = names.map((n) => extensionProviders?.valid.get(n)).filter((p) => p !== undefined);
  const blob = compiled.blob;
  let filter: FilterUnderTest | null = null;
  const { decision: d, unexpected } = await decideWithProviders(async (clusters) => {
    filter = await startFilter(opts.wasm, pluginConfigJson(blob, undefined, { mode }), c.workload, mode === "network", {
      requestAuthentications,
      rootNamespace: mesh.rootNamespace,
      clusters,
    });
    return filter;
  }, used, c.request);
  if (unexpected) {
    return { id: c.id, status: "fail", expected, actual: null, reason: "the filter consulted the ext_authz provider, but the case gives no request.ext_authz_decision" };
  }
  const ran = filter as FilterUnderTest | null;
  const response = c.expected.response !== undefined ? checkResponse(c.expected.response, ran?.lastResult ?? null, ran?.lastConnection ?? null) : null;
  if (response?.unchecked) return { id: c.id, status: "skip", expected, actual: null, reason: response.unchecked };
  const actual = { decision: d.decision, decided_by: decidedBy(d), status: d.status, shadow: d.shadow, audit: d.audit };
  const problems: string[] = [];
  if (d.decision !== c.expected.decision) problems.push(`decision ${d.decision}, expected ${c.expected.decision}`);
  if (c.expected.decided_by !== undefined && actual.decided_by !== c.expected.decided_by) {
    problems.push(`decided by ${actual.decided_by}, expected ${c.expected.decided_by}`);
  }
  if (response?.problem) problems.push(response.problem);
  if (d.config_error) problems.push(`filter rejected its configuration: ${d.config_error}`);
  return { id: c.id, status: problems.length ? "fail" : "pass", expected, actual, reason: problems.join("; ") };
}

/**
 * `expected.response` as the corpus writes it: "HTTP 403, body 'RBAC: access denied', details <details>", or
 * for a connection "connection closed (<termination details>)". Any other form cannot be checked: the case
 * is a skip, never a silent pass.
 */
function checkResponse(text: string, result: StreamResult | null, conn: ConnectionResult | null): { problem?: string; unchecked?: string } {
  const closed = /^connection closed \((\S+)\)$/.exec(text);
  if (closed && conn) {
    const details = conn.filterState["meshauthz.termination_details"] ?? "";
    if (conn.allowed || details !== closed[1]) {
      return { problem: `connection ${conn.allowed ? "allowed" : `closed (${details})`}; expected ${text}` };
    }
    return {};
  }
  const m = /^HTTP (\d{3}), body '(.*)', details (\S+)$/.exec(text);
  if (!m || !result) {
    return {
      unchecked: `expected.response ${JSON.stringify(text)} is not a form meshauthz can check for this request ` +
        `("HTTP <status>, body '<body>', details <details>" or, for TCP, "connection closed (<details>)")`,
    };
  }
  const [, status, body, details] = m;
  const got = { status: String(result.status), body: result.localReply?.body ?? "", details: result.details };
  if (got.status !== status || got.body !== body || got.details !== details) {
    return { problem: `response HTTP ${got.status}, body '${got.body}', details ${got.details}; expected ${text}` };
  }
  return {};
}

function runValidationCase(c: ValidationCase, opts: RunOptions, index: number): CaseResult {
  const diagnostics = validatePolicy(c.policy, { locate: locateUnder(opts, `validation_cases[${index}].policy`), istioVersion: opts.istioVersion });
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
  for (const [i, c] of (file.cases ?? []).entries()) {
    const t0 = performance.now();
    try {
      results.push(await runDecisionCase(file, c, opts, i));
    } catch (e) {
      results.push({ id: c.id, status: "fail", expected: c.expected, actual: null, reason: `error: ${(e as Error).message}` });
    }
    results[results.length - 1].seconds = (performance.now() - t0) / 1000;
  }
  for (const [i, c] of (file.validation_cases ?? []).entries()) {
    const t0 = performance.now();
    results.push({ ...runValidationCase(c, opts, i), seconds: (performance.now() - t0) / 1000 });
  }
  const count = (s: CaseStatus) => results.filter((r) => r.status === s).length;
  return { total: results.length, passed: count("pass"), failed: count("fail"), skipped: count("skip"), results };
}
