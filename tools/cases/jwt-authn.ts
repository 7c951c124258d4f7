// What Envoy's jwt_authn, as Istio configures it, leaves in dynamic metadata for a verified token:
// the payload under filter_metadata["envoy.filters.http.jwt_authn"]["payload"] (Istio
// PayloadInMetadata, pilot/pkg/security/authn/policy_applier.go), normalized by
// normalize_payload_in_metadata.space_delimited_claims = "permission", "scope" plus the jwtRule's
// spaceDelimitedClaims (Istio 1.28+, buildSpaceDelimitedClaims). Envoy
// (extensions/filters/http/jwt_authn/authenticator.cc setPayloadMetadata) replaces each such
// top-level claim that is a string by the list of its pieces split on ' ' with empty pieces skipped;
// a string with no piece (empty, only spaces) stays a string; other types are untouched.
//
// A case file's `jwt` is the verified payload. RequestAuthentication objects in a case's
// `policies` choose the normalization: the jwtRules whose issuer is the token's `iss`, of the
// RequestAuthentications that apply to the workload (its namespace or the root namespace, selector
// labels contained in the workload's, no targetRef). Several matching rules: the union of their
// claims (each would be a provider for the same issuer).
import type { Workload } from "../model/case-file.ts";

export const JWT_AUTHN_FILTER = "envoy.filters.http.jwt_authn";
export const PAYLOAD_IN_METADATA = "payload";
export const DEFAULT_SPACE_DELIMITED_CLAIMS: readonly string[] = ["permission", "scope"];

export interface JwtRuleSpec {
  issuer: string;
  spaceDelimitedClaims?: string[];
}

export interface RequestAuthentication {
  apiVersion?: string;
  kind: "RequestAuthentication";
  metadata: { name: string; namespace?: string };
  spec?: {
    selector?: { matchLabels?: Record<string, string> };
    targetRef?: unknown;
    targetRefs?: unknown[];
    jwtRules?: JwtRuleSpec[];
  };
}

export function isRequestAuthentication(doc: unknown): doc is RequestAuthentication {
  return typeof doc === "object" && doc !== null && (doc as { kind?: unknown }).kind === "RequestAuthentication";
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Checks what the emulation reads against the CRD's schema (requestauthentications.security.istio.io:
 * jwtRules <= 4096 items, issuer a non-empty string (also required by istiod's validation),
 * spaceDelimitedClaims <= 64 non-empty strings, selector.matchLabels a map of strings without `*`,
 * keys non-empty, values <= 63 characters). Returns error messages with field paths.
 */
export function validateRequestAuthentication(ra: unknown, at: string): string[] {
  const errs: string[] = [];
  if (!isObject(ra)) return [`${at}: must be an object`];
  const md = ra.metadata;
  if (!isObject(md) || typeof md.name !== "string" || md.name === "") errs.push(`${at}.metadata.name: Required value`);
  if (isObject(md) && md.namespace !== undefined && typeof md.namespace !== "string") errs.push(`${at}.metadata.namespace: must be a string`);
  const spec = ra.spec;
  if (spec === undefined || spec === null) return errs;
  if (!isObject(spec)) return [...errs, `${at}.spec: must be an object`];
  const sel = spec.selector;
  if (sel !== undefined && sel !== null) {
    if (!isObject(sel)) errs.push(`${at}.spec.selector: must be an object`);
    else if (sel.matchLabels !== undefined && sel.matchLabels !== null) {
      if (!isObject(sel.matchLabels)) errs.push(`${at}.spec.selector.matchLabels: must be an object`);
      else {
        for (const [k, v] of Object.entries(sel.matchLabels)) {
          const p = `${at}.spec.selector.matchLabels[${k}]`;
          if (k === "") errs.push(`${p}: key must not be empty`);
          if (k.includes("*")) errs.push(`${p}: wildcard not allowed in label key match`);
          if (typeof v !== "string") errs.push(`${p}: must be a string`);
          else if (v.includes("*")) errs.push(`${p}: wildcard not allowed in label value match`);
          else if ([...v].length > 63) errs.push(`${p}: Too long: may not be longer than 63`);
        }
      }
    }
  }
  const rules = spec.jwtRules;
  if (rules === undefined || rules === null) return errs;
  if (!Array.isArray(rules)) return [...errs, `${at}.spec.jwtRules: must be a list`];
  if (rules.length > 4096) errs.push(`${at}.spec.jwtRules: Too many: ${rules.length}: must have at most 4096 items`);
  rules.forEach((r, i) => {
    const p = `${at}.spec.jwtRules[${i}]`;
    if (!isObject(r)) {
      errs.push(`${p}: must be an object`);
      return;
    }
    if (typeof r.issuer !== "string" || r.issuer === "") errs.push(`${p}.issuer: issuer must be set`);
    const sdc = r.spaceDelimitedClaims;
    if (sdc === undefined || sdc === null) return;
    if (!Array.isArray(sdc)) {
      errs.push(`${p}.spaceDelimitedClaims: must be a list`);
      return;
    }
    if (sdc.length > 64) errs.push(`${p}.spaceDelimitedClaims: Too many: ${sdc.length}: must have at most 64 items`);
    sdc.forEach((c, j) => {
      if (typeof c !== "string" || c === "") errs.push(`${p}.spaceDelimitedClaims[${j}]: must be a non-empty string`);
    });
  });
  return errs;
}

function applies(ra: RequestAuthentication, workload: Workload, rootNamespace: string): boolean {
  const ns = ra.metadata.namespace ?? "default";
  if (ns !== workload.namespace && ns !== rootNamespace) return false;
  if (ra.spec?.targetRef || (ra.spec?.targetRefs && ra.spec.targetRefs.length > 0)) return false;
  const labels = workload.labels ?? {};
  return Object.entries(ra.spec?.selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

/** The claims jwt_authn splits for a token of issuer `iss` at this workload. */
export function spaceDelimitedClaimsFor(
  ras: readonly RequestAuthentication[],
  workload: Workload,
  rootNamespace: string,
  iss: unknown,
): string[] {
  const out = new Set<string>(DEFAULT_SPACE_DELIMITED_CLAIMS);
  for (const ra of ras) {
    if (!applies(ra, workload, rootNamespace)) continue;
    for (const rule of ra.spec?.jwtRules ?? []) {
      if (rule.issuer === iss) for (const c of rule.spaceDelimitedClaims ?? []) out.add(c);
    }
  }
  return [...out].sort();
}

/** The payload as jwt_authn stores it in metadata (authenticator.cc setPayloadMetadata). */
export function normalizePayload(payload: Record<string, unknown>, spaceDelimited: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...payload };
  for (const claim of spaceDelimited) {
    if (!Object.prototype.hasOwnProperty.call(payload, claim)) continue;
    const v = payload[claim];
    let pieces: Array<string | Uint8Array>;
    if (typeof v === "string") pieces = v.split(" ").filter((s) => s !== "");
    else if (v instanceof Uint8Array) pieces = splitBytes(v);
    else continue;
    if (pieces.length > 0) Object.defineProperty(out, claim, { value: pieces, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** absl::StrSplit(v, ' ', absl::SkipEmpty()) on raw bytes. */
function splitBytes(v: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= v.length; i++) {
    if (i === v.length || v[i] === 0x20) {
      if (i > start) out.push(v.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

/** The dynamic metadata jwt_authn leaves for a verified payload. */
export function jwtAuthnMetadata(
  payload: Record<string, unknown>,
  spaceDelimited: readonly string[] = DEFAULT_SPACE_DELIMITED_CLAIMS,
): Record<string, Record<string, unknown>> {
  return { [JWT_AUTHN_FILTER]: { [PAYLOAD_IN_METADATA]: normalizePayload(payload, spaceDelimited) } };
}
