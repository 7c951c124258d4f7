// JWT-based attributes, spec §5.1.6 and §5.3 (request.auth.*).
// Istio matches Envoy dynamic metadata `envoy.filters.http.jwt_authn` -> `payload` -> <claim path> with Envoy's
// MetadataMatcher on the TYPED google.protobuf.Struct (source/common/common/matchers.cc, config/metadata.cc):
// the path walks struct fields only (never a list index); a string matcher matches a string value only; a
// ListMatcher matches a list one of whose elements matches; an OrMatcher any of its matchers. The case's
// `request.jwt` is the verified token payload (JSON: null, bool, number, string, object, list); jwt_authn
// stores it after `normalize_payload_in_metadata` (normalizeJwtPayload). No JWT -> no payload -> false.

import { istioStringMatcher, matchString, regexMatcher, type StringMatcher } from "./string-match.ts";

const MATCH_ANY = regexMatcher(".+");

/**
 * requestPrincipals / request.auth.principal (generator.go requestPrincipalGenerator, 1.22+): split the value
 * at the LAST `/` into iss/sub, then build one string matcher for each.
 */
export function requestPrincipalMatchers(value: string): { iss: StringMatcher; sub: StringMatcher } {
  const idx = value.lastIndexOf("/");
  const found = idx >= 0;
  const iss = found ? value.slice(0, idx) : value;
  const sub = found ? value.slice(idx + 1) : "";
  if (value === "*") return { iss: MATCH_ANY, sub: MATCH_ANY };
  if (value.startsWith("*")) {
    if (found) {
      return {
        iss: iss === "*" ? MATCH_ANY : { kind: "suffix", value: iss.slice(1) },
        sub: { kind: "exact", value: sub },
      };
    }
    return { iss: MATCH_ANY, sub: { kind: "suffix", value: value.slice(1) } };
  }
  if (value.endsWith("*")) {
    if (found) {
      return {
        iss: { kind: "exact", value: iss },
        sub: sub === "*" ? MATCH_ANY : { kind: "prefix", value: sub.slice(0, -1) },
      };
    }
    return { iss: { kind: "prefix", value: value.slice(0, -1) }, sub: MATCH_ANY };
  }
  return { iss: { kind: "exact", value: iss }, sub: { kind: "exact", value: sub } };
}

/**
 * Istio's jwt_authn provider config sets `normalize_payload_in_metadata.space_delimited_claims` to `scope` and
 * `permission` plus a RequestAuthentication's `spaceDelimitedClaims` (pilot/pkg/security/authn/policy_applier.go).
 */
export const ISTIO_SPACE_DELIMITED_CLAIMS = ["scope", "permission"];

/**
 * Envoy jwt_authn AuthenticatorImpl::setPayloadMetadata: a listed top-level claim holding a string becomes the
 * list of its pieces split on ' ' (absl::SkipEmpty); a string with no piece (empty, only spaces) stays a string;
 * lists and other types are untouched.
 */
export function normalizeJwtPayload(payload: Record<string, unknown>, spaceDelimited: readonly string[] = ISTIO_SPACE_DELIMITED_CLAIMS): Record<string, unknown> {
  let out = payload;
  for (const claim of spaceDelimited) {
    if (!Object.prototype.hasOwnProperty.call(payload, claim)) continue;
    const v = payload[claim];
    if (typeof v !== "string") continue;
    const pieces = v.split(" ").filter((x) => x !== "");
    if (pieces.length === 0) continue;
    if (out === payload) out = { ...payload };
    out[claim] = pieces;
  }
  return out;
}

/** Envoy Config::Metadata::metadataValue: every step must be a struct holding the key; otherwise "not found". */
export function lookupPath(root: unknown, path: string[]): unknown {
  let cur: unknown = root;
  for (const k of path) {
    if (cur === null || typeof cur !== "object" || Array.isArray(cur) || ArrayBuffer.isView(cur)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, k)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** A ValueMatcher string_match: only a string value can match. */
function stringValueMatches(m: StringMatcher, v: unknown): boolean {
  // a Uint8Array is a string value given as raw bytes
  return (typeof v === "string" || v instanceof Uint8Array) && matchString(m, v);
}

export function matchRequestPrincipal(value: string, jwt: Record<string, unknown> | null | undefined): boolean {
  if (!jwt) return false;
  const { iss, sub } = requestPrincipalMatchers(value);
  return stringValueMatches(iss, lookupPath(jwt, ["iss"])) && stringValueMatches(sub, lookupPath(jwt, ["sub"]));
}

/**
 * Istio util.go extractNameInNestedBrackets: `[a][b.c]` -> ["a", "b.c"]; falls back to the single-bracket
 * form `[<name>]` (whose name may itself contain brackets); null on a malformed key (translation error).
 */
export function claimPathFromKeySuffix(s: string): string[] | null {
  const single = (): string[] | null => (s.startsWith("[") && s.endsWith("]") ? [s.slice(1, -1)] : null);
  const claims: string[] = [];
  let begin = 0;
  while (begin < s.length) {
    let end = -1;
    if (s[begin] === "[") {
      for (let i = begin + 1; i < s.length; i++) {
        if (s[i] === "[") break;
        if (s[i] === "]") {
          end = i;
          break;
        }
      }
    }
    if (end === -1) return single();
    claims.push(s.slice(begin + 1, end));
    begin = end + 1;
  }
  return claims;
}

/**
 * Claim / audiences / presenter matching (MetadataListValueMatcherForJWTClaims with the OR of a list
 * `one_of` and a direct value matcher): the claim must be a string matching one of `values`, or a list
 * with some string element matching one of them. Numbers, booleans, objects never match.
 */
export function matchClaim(path: string[], values: string[], jwt: Record<string, unknown> | null | undefined): boolean {
  if (!jwt) return false;
  const v = lookupPath(jwt, path);
  const ms = values.map((x) => istioStringMatcher(x));
  const one = (e: unknown) => ms.some((m) => stringValueMatches(m, e));
  if (Array.isArray(v)) return v.some(one);
  return one(v);
}
