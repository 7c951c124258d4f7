// Matchers on the verified JWT payload that jwt_authn stores in dynamic metadata:
// requestPrincipals (iss and sub matched separately, Istio 1.22+), audiences, presenter, claims.
import { Attribute, MatchKind, type MatchNode } from "../ir.ts";
import { allOf, classify, leaf } from "./string-form.ts";

const CLAIM_PATH_SEPARATOR = "\0";

/** One claim with a string matcher where `*` is regex `.+`. */
function claim(path: string[], value: string, listElements: boolean): MatchNode {
  const key = path.join(CLAIM_PATH_SEPARATOR);
  const f = classify(value);
  const base = { attribute: Attribute.JwtClaim, key, listElements };
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

const nonEmpty = (name: string): MatchNode =>
  leaf({ attribute: Attribute.JwtClaim, key: name, kind: MatchKind.NonEmpty, listElements: false });
const exact = (name: string, value: string): MatchNode =>
  leaf({ attribute: Attribute.JwtClaim, key: name, kind: MatchKind.Exact, value, listElements: false });

/** requestPrincipals / request.auth.principal: split at the last `/` into iss and sub. */
export function requestPrincipalMatcher(value: string): MatchNode {
  if (value === "*") return allOf([nonEmpty("iss"), nonEmpty("sub")]);
  const slash = value.lastIndexOf("/");
  const iss = slash >= 0 ? value.slice(0, slash) : value;
  const sub = slash >= 0 ? value.slice(slash + 1) : "";
  if (value.startsWith("*")) {
    if (slash >= 0) {
      const issNode =
        iss === "*"
          ? nonEmpty("iss")
          : leaf({ attribute: Attribute.JwtClaim, key: "iss", kind: MatchKind.Suffix, value: iss.slice(1) });
      return allOf([issNode, exact("sub", sub)]);
    }
    return allOf([
      nonEmpty("iss"),
      leaf({ attribute: Attribute.JwtClaim, key: "sub", kind: MatchKind.Suffix, value: value.slice(1) }),
    ]);
  }
  if (value.endsWith("*")) {
    if (slash >= 0) {
      const subNode =
        sub === "*"
          ? nonEmpty("sub")
          : leaf({ attribute: Attribute.JwtClaim, key: "sub", kind: MatchKind.Prefix, value: sub.slice(0, -1) });
      return allOf([exact("iss", iss), subNode]);
    }
    return allOf([
      leaf({ attribute: Attribute.JwtClaim, key: "iss", kind: MatchKind.Prefix, value: value.slice(0, -1) }),
      nonEmpty("sub"),
    ]);
  }
  return allOf([exact("iss", iss), exact("sub", sub)]);
}

export function audienceMatcher(value: string): MatchNode {
  return claim(["aud"], value, true);
}

export function presenterMatcher(value: string): MatchNode {
  return claim(["azp"], value, true);
}

/** request.auth.claims[a][b]...: nested claim path; string or list-of-strings claims. */
export function claimMatcher(path: string[], value: string): MatchNode {
  return claim(path, value, true);
}
