// Matchers on the peer certificate's URI SAN: principals, namespaces, serviceAccounts, trustDomains.
// Each mirrors the matcher Istio generates (pilot/pkg/security/authz/model/generator.go) and is
// evaluated the way Envoy evaluates it (RE2 full match), expressed as exact/prefix/pattern leaves.
import { Attribute, GapClass, MatchKind, type PatternPiece, type MatchNode } from "../ir.ts";
import { anyOf, classify, leaf } from "./string-form.ts";

const SPIFFE = "spiffe://";

function pattern(pieces: PatternPiece[]): MatchNode {
  return leaf({ attribute: Attribute.PeerPrincipal, kind: MatchKind.Pattern, pattern: pieces });
}
const lit = (text: string): PatternPiece => ({ kind: "literal", text });
const gap = (cls: GapClass, min: 0 | 1): PatternPiece => ({ kind: "gap", cls, min });

/** principals / source.principal: StringMatcherWithPrefix(v, "spiffe://"). */
export function principalMatcher(value: string): MatchNode {
  const f = classify(value);
  switch (f.form) {
    case "presence": // regex .+ : any non-empty identity, no spiffe:// constraint
      return leaf({ attribute: Attribute.PeerPrincipal, kind: MatchKind.NonEmpty });
    case "suffix": // regex spiffe://.*<quoted suffix>
      return pattern([lit(SPIFFE), gap(GapClass.Any, 0), lit(f.text)]);
    case "prefix":
      return leaf({ attribute: Attribute.PeerPrincipal, kind: MatchKind.Prefix, value: SPIFFE + f.text });
    case "exact":
      return leaf({ attribute: Attribute.PeerPrincipal, kind: MatchKind.Exact, value: SPIFFE + f.text });
  }
}

// namespaces / source.namespace: regex `.*/ns/<v, every * as .*>/.*` on the URI SAN.
export function namespaceMatcher(value: string): MatchNode {
  const pieces: PatternPiece[] = [gap(GapClass.Any, 0), lit("/ns/")];
  value.split("*").forEach((part, i) => {
    if (i > 0) pieces.push(gap(GapClass.Any, 0));
    if (part) pieces.push(lit(part));
  });
  pieces.push(lit("/"), gap(GapClass.Any, 0));
  return pattern(mergeLiterals(pieces));
}

// serviceAccounts / source.serviceAccount: `spiffe://.+/ns/<ns>/(.+/|)sa/<sa>(/.+)?`.
// `sa` alone means the policy's own namespace.
export function serviceAccountMatcher(value: string, policyNamespace: string): MatchNode {
  const slash = value.indexOf("/");
  const ns = slash >= 0 ? value.slice(0, slash) : policyNamespace;
  const sa = slash >= 0 ? value.slice(slash + 1) : value;
  const alternatives: MatchNode[] = [];
  for (const middle of [false, true]) {
    for (const tail of [false, true]) {
      const pieces: PatternPiece[] = [lit(SPIFFE), gap(GapClass.Any, 1), lit(`/ns/${ns}/`)];
      if (middle) pieces.push(gap(GapClass.Any, 1), lit("/"));
      pieces.push(lit(`sa/${sa}`));
      if (tail) pieces.push(lit("/"), gap(GapClass.Any, 1));
      alternatives.push(pattern(mergeLiterals(pieces)));
    }
  }
  return anyOf(alternatives);
}

/** trustDomains / source.trustDomain. */
export function trustDomainMatcher(value: string): MatchNode {
  if (value === "*") return leaf({ attribute: Attribute.PeerPrincipal, kind: MatchKind.Prefix, value: SPIFFE });
  const star = value.indexOf("*");
  if (star < 0) return leaf({ attribute: Attribute.PeerPrincipal, kind: MatchKind.Prefix, value: `${SPIFFE}${value}/` });
  // x* or *x: spiffe://<x-part>[^/]*<other part>/.*
  const before = value.slice(0, star);
  const after = value.slice(star + 1);
  return pattern(
    mergeLiterals([lit(SPIFFE + before), gap(GapClass.NotSlash, 0), lit(`${after}/`), gap(GapClass.Any, 0)]),
  );
}

function mergeLiterals(pieces: PatternPiece[]): PatternPiece[] {
  const out: PatternPiece[] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    if (p.kind === "literal" && last?.kind === "literal") out[out.length - 1] = lit(last.text + p.text);
    else if (p.kind !== "literal" || p.text !== "") out.push(p);
  }
  return out;
}
