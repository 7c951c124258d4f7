// Peer-identity fields, spec §5.1.1-§5.1.4. All are Envoy's `authenticated.principal_name` matcher
// (AuthenticatedMatcher, source/extensions/filters/common/rbac/matchers.cc): on a TLS connection it tries
// EVERY URI SAN of the peer certificate, then every DNS SAN, then the subject; plaintext never matches.

import { type Bytes, istioStringMatcher, matchString, quoteMeta, regexMatcher, type StringMatcher } from "./string-match.ts";

/** What Envoy's Ssl::ConnectionInfo exposes of the peer certificate (raw bytes or their UTF-8). */
export interface PeerCertificate {
  uriSans: Bytes[];
  dnsSans: Bytes[];
  /** RFC 2253 subject; "" without a certificate (TLS without a client certificate). */
  subject: Bytes;
}

export interface TrustDomainBundle {
  trustDomain: string;
  aliases: string[];
}

// --- trustdomain/util.go ------------------------------------------------------------------------------
function prefixMatch(a: string, pattern: string): boolean {
  return pattern.endsWith("*") && a.startsWith(pattern.slice(0, -1));
}
function suffixMatch(a: string, pattern: string): boolean {
  return pattern.startsWith("*") && a.endsWith(pattern.slice(1));
}
function tdStringMatch(a: string, list: string[]): boolean {
  return list.some(
    (s) => a === s || s === "*" || prefixMatch(a, s) || prefixMatch(s, a) || suffixMatch(a, s) || suffixMatch(s, a),
  );
}

/**
 * trustdomain.Bundle.ReplaceTrustDomainAliases (spec §5.1.1), applied to `principals`, `notPrincipals` and
 * `source.principal`: a value `<td>/ns/<ns>/sa/<sa>` (exactly 5 `/`-parts, td not `*`) whose td is
 * `cluster.local` or (wildcard-)matches the mesh trust domain or an alias becomes one value per trust domain
 * of the bundle; a td with a leading `*` that suffix-matches a bundle entry is kept as is for that entry.
 */
export function replaceTrustDomainAliases(values: string[], bundle: TrustDomainBundle): string[] {
  const tds = [bundle.trustDomain, ...bundle.aliases];
  const out: string[] = [];
  for (const principal of values) {
    const parts = principal.split("/");
    if (parts.length !== 5 || parts[0] === "*") {
      out.push(principal);
      continue;
    }
    const td = parts[0]!;
    if (tdStringMatch(td, tds) || td === "cluster.local") {
      const forAliases: string[] = [];
      for (const t of tds) {
        const np = suffixMatch(t, td) ? principal : [t, ...parts.slice(1)].join("/");
        if (!forAliases.includes(np)) forAliases.push(np);
      }
      out.push(...forAliases);
    } else {
      out.push(principal);
    }
  }
  return out;
}

/** `principals` value -> matcher: StringMatcherWithPrefix(v, "spiffe://") (spec §5.1.1). */
export function principalMatcher(v: string): StringMatcher {
  return istioStringMatcher(v, "spiffe://");
}

/**
 * `namespaces` value -> regex `.*\/ns/<v>/.*` where every `*` in v becomes `.*` and the other pieces are
 * regex-quoted (spec §5.1.2, 1.31+).
 */
export function namespaceMatcher(v: string): StringMatcher {
  const body = v.split("*").map(quoteMeta).join(".*");
  return regexMatcher(`.*/ns/${body}/.*`);
}

/**
 * `serviceAccounts` value (`sa` or `ns/sa`; a bare `sa` uses the policy's namespace) -> regex
 * `spiffe://.+/ns/<ns>/(.+/|)sa/<sa>(/.+)?` with ns and sa quoted (spec §5.1.3).
 */
export function serviceAccountMatcher(v: string, policyNamespace: string): StringMatcher {
  const slash = v.indexOf("/");
  const ns = slash < 0 ? policyNamespace : v.slice(0, slash);
  const sa = slash < 0 ? v : v.slice(slash + 1);
  return regexMatcher(`spiffe://.+/ns/${quoteMeta(ns)}/(.+/|)sa/${quoteMeta(sa)}(/.+)?`);
}

/**
 * `trustDomains` values (spec §5.1.4): a value equal to the mesh trust domain or an alias expands to all of
 * them; exact `td` -> prefix `spiffe://td/`; `*` -> prefix `spiffe://`; `x*` / `*x` -> regex
 * `spiffe://<x>[^/]*<y>/.*`.
 */
export function expandTrustDomains(values: string[], bundle: TrustDomainBundle): string[] {
  const tds = [bundle.trustDomain, ...bundle.aliases];
  const out: string[] = [];
  for (const v of values) {
    const expanded = tds.includes(v) ? tds : [v];
    for (const e of expanded) if (!out.includes(e)) out.push(e);
  }
  return out;
}

export function trustDomainMatcher(v: string): StringMatcher {
  if (v === "*") return { kind: "prefix", value: "spiffe://" };
  if (v.startsWith("*")) return regexMatcher(`spiffe://[^/]*${quoteMeta(v.slice(1))}/.*`);
  if (v.endsWith("*")) return regexMatcher(`spiffe://${quoteMeta(v.slice(0, -1))}[^/]*/.*`);
  return { kind: "prefix", value: `spiffe://${v}/` };
}

/**
 * Envoy AuthenticatedMatcher: every URI SAN, then every DNS SAN, then the subject. `null` = no TLS; a bare
 * string is a certificate whose only SAN is that URI (what Istio's CA issues).
 */
export function matchPeer(m: StringMatcher, peer: PeerCertificate | string | null | undefined): boolean {
  if (peer === null || peer === undefined) return false;
  if (typeof peer === "string") return matchString(m, peer);
  return peer.uriSans.some((u) => matchString(m, u)) || peer.dnsSans.some((d) => matchString(m, d)) || matchString(m, peer.subject);
}
