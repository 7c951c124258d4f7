// Matchers on the verified JWT payload that jwt_authn stores in dynamic metadata
// (filter_metadata["envoy.filters.http.jwt_authn"]["payload"], Istio's PayloadInMetadata), as Istio
// builds them (pilot/pkg/security/authz/model/generator.go, util.go):
// - requestPrincipals / request.auth.principal: split at the last `/` into iss and sub, each a
//   MetadataMatcher with a plain string matcher (MetadataStringMatcherForJWTClaim): string values only;
// - audiences (`aud`), presenter (`azp`), claims: MetadataListValueMatcherForJWTClaims with
//   useExtendedJwt, i.e. OR(ListMatcher one_of <values>, <values>): a string value or a list with a
//   matching string element (LIST_ELEMENTS).
// `*` is the regex `.+` (matchAny / StringMatcherWithPrefix), an RE2 full match (NONEMPTY).
import { Attribute, MatchKind, type MatchNode } from "../ir.ts";
import { allOf, classify, leaf } from "./string-form.ts";

export const JWT_FILTER = "envoy.filters.http.jwt_authn";
export const JWT_PAYLOAD = "payload";

const payloadPath = (claims: string[]): string[] => [JWT_FILTER, JWT_PAYLOAD, ...claims];

/** One claim with a string matcher where `*` is regex `.+`. */
function claim(claims: string[], value: string, listElements: boolean): MatchNode {
  const f = classify(value);
  const base = { attribute: Attribute.DynamicMetadata, path: payloadPath(claims), listElements };
  switch (f.form) {
    case "presence":
      return leaf({ ...base, kind: MatchKind.NonEmpty });
    case "suffix":
      return leaf({ ...base, kind: MatchKind.Suffix, value: f.text });
    case "prefix":
      return leaf({ ...base, kind: MatchKind.Prefix, value: f.text });
    case "exact":
      return leaf({ ...base, kind: MatchKind.Exact, value: f.text });
  }
}

const stringClaim = (name: string, kind: MatchKind, value?: string): MatchNode =>
  leaf({ attribute: Attribute.DynamicMetadata, path: payloadPath([name]), kind, value, listElements: false });
const nonEmpty = (name: string): MatchNode => stringClaim(name, MatchKind.NonEmpty);
const exact = (name: string, value: string): MatchNode => stringClaim(name, MatchKind.Exact, value);

/** requestPrincipals / request.auth.principal: split at the last `/` into iss and sub. */
export function requestPrincipalMatcher(value: string): MatchNode {
  if (value === "*") return allOf([nonEmpty("iss"), nonEmpty("sub")]);
  const slash = value.lastIndexOf("/");
  const iss = slash >= 0 ? value.slice(0, slash) : value;
  const sub = slash >= 0 ? value.slice(slash + 1) : "";
  if (value.startsWith("*")) {
    if (slash >= 0) {
      const issNode = iss === "*" ? nonEmpty("iss") : stringClaim("iss", MatchKind.Suffix, iss.slice(1));
      return allOf([issNode, exact("sub", sub)]);
    }
    return allOf([nonEmpty("iss"), stringClaim("sub", MatchKind.Suffix, value.slice(1))]);
  }
  if (value.endsWith("*")) {
    if (slash >= 0) {
      const subNode = sub === "*" ? nonEmpty("sub") : stringClaim("sub", MatchKind.Prefix, sub.slice(0, -1));
      return allOf([exact("iss", iss), subNode]);
    }
    return allOf([stringClaim("iss", MatchKind.Prefix, value.slice(0, -1)), nonEmpty("sub")]);
  }
  return allOf([exact("iss", iss), exact("sub", sub)]);
}

export function audienceMatcher(value: string): MatchNode {
  return claim(["aud"], value, true);
}

export function presenterMatcher(value: string): MatchNode {
  return claim(["azp"], value, true);
}

/** request.auth.claims[a][b]...: nested struct keys (never list indexes); string or list claims. */
export function claimMatcher(path: string[], value: string): MatchNode {
  return claim(path, value, true);
}

/**
 * The claim names of `request.auth.claims<s>`, as Istio's extractNameInNestedBrackets
 * (model/util.go): `[a][b]` -> [a, b]; when that form does not parse (a `[` inside a name,
 * text between brackets, ...), the whole of `s` as one name with its first `[` and last `]`
 * removed (extractNameInBrackets), e.g. `[a[b]` -> [`a[b`], `[a]x[b]` -> [`a]x[b`]; null when
 * that fails too (Istio's generator error). Names are literal: NUL, dots and spaces included.
 */
export function claimNames(s: string): string[] | null {
  const claims: string[] = [];
  const findEnd = (begin: number): number => {
    if (begin >= s.length || s[begin] !== "[") return -1;
    for (let i = begin + 1; i < s.length; i++) {
      if (s[i] === "[") return -1;
      if (s[i] === "]") return i;
    }
    return -1;
  };
  for (let begin = 0; begin < s.length; ) {
    const end = findEnd(begin);
    if (end === -1) return s.startsWith("[") && s.endsWith("]") ? [s.slice(1, -1)] : null;
    claims.push(s.slice(begin + 1, end));
    begin = end + 1;
  }
  return claims;
}
