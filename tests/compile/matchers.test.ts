import assert from "node:assert/strict";
import { test } from "node:test";
import { Attribute, GapClass, MatchKind, type MatchNode } from "../../tools/compile/ir.ts";
import { parseCidr } from "../../tools/compile/matchers/ip.ts";
import {
  namespaceMatcher,
  principalMatcher,
  serviceAccountMatcher,
  trustDomainMatcher,
} from "../../tools/compile/matchers/peer-identity.ts";
import { audienceMatcher, claimMatcher, claimNames, requestPrincipalMatcher } from "../../tools/compile/matchers/request-auth.ts";
import { headerMatcher, hostMatcher, inlineHeaderMatcher, metadataMatcher, pathMatcher, splitMetadataKey, trimBrackets, uriTemplatePieces } from "../../tools/compile/matchers/request-http.ts";
import { TrustDomainBundle } from "../../tools/compile/matchers/trust-domain-bundle.ts";

const leafOf = (n: MatchNode) => {
  assert.equal(n.op, "leaf");
  return (n as { op: "leaf"; leaf: import("../../tools/compile/ir.ts").Leaf }).leaf;
};

test("principals get spiffe:// and Istio's four forms", () => {
  assert.deepEqual(leafOf(principalMatcher("cluster.local/ns/a/sa/b")), {
    attribute: Attribute.PeerPrincipal, kind: MatchKind.Exact, value: "spiffe://cluster.local/ns/a/sa/b",
  });
  assert.equal(leafOf(principalMatcher("cluster.local/ns/a/*")).kind, MatchKind.Prefix);
  assert.equal(leafOf(principalMatcher("cluster.local/ns/a/*")).value, "spiffe://cluster.local/ns/a/");
  assert.equal(leafOf(principalMatcher("*")).kind, MatchKind.NonEmpty);
  assert.deepEqual(leafOf(principalMatcher("*/sa/b")).pattern, [
    { kind: "literal", text: "spiffe://" }, { kind: "gap", cls: GapClass.Any, min: 0 }, { kind: "literal", text: "/sa/b" },
  ]);
  // A star elsewhere is a literal character.
  assert.equal(leafOf(principalMatcher("a*b")).kind, MatchKind.Exact);
});

test("namespaces become .*/ns/<glob>/.* with every star a wildcard", () => {
  assert.deepEqual(leafOf(namespaceMatcher("ns.*.prod")).pattern, [
    { kind: "gap", cls: GapClass.Any, min: 0 }, { kind: "literal", text: "/ns/ns." }, { kind: "gap", cls: GapClass.Any, min: 0 },
    { kind: "literal", text: ".prod/" }, { kind: "gap", cls: GapClass.Any, min: 0 },
  ]);
  assert.deepEqual(leafOf(namespaceMatcher("*")).pattern, [
    { kind: "gap", cls: GapClass.Any, min: 0 }, { kind: "literal", text: "/ns/" }, { kind: "gap", cls: GapClass.Any, min: 0 },
    { kind: "literal", text: "/" }, { kind: "gap", cls: GapClass.Any, min: 0 },
  ]);
});

test("serviceAccounts: bare sa means the policy namespace; four regex alternatives", () => {
  const n = serviceAccountMatcher("web", "shop");
  assert.equal(n.op, "or");
  const first = leafOf((n as { children: MatchNode[] }).children[0]).pattern!;
  assert.deepEqual(first, [
    { kind: "literal", text: "spiffe://" }, { kind: "gap", cls: GapClass.Any, min: 1 }, { kind: "literal", text: "/ns/shop/sa/web" },
  ]);
  const other = leafOf((serviceAccountMatcher("other/bot", "shop") as { children: MatchNode[] }).children[0]).pattern!;
  assert.deepEqual(other[2], { kind: "literal", text: "/ns/other/sa/bot" });
});

test("trustDomains: exact is a prefix with a slash, wildcards exclude slashes", () => {
  assert.deepEqual(leafOf(trustDomainMatcher("td1")), { attribute: Attribute.PeerPrincipal, kind: MatchKind.Prefix, value: "spiffe://td1/" });
  assert.deepEqual(leafOf(trustDomainMatcher("*")), { attribute: Attribute.PeerPrincipal, kind: MatchKind.Prefix, value: "spiffe://" });
  assert.deepEqual(leafOf(trustDomainMatcher("corp*")).pattern, [
    { kind: "literal", text: "spiffe://corp" }, { kind: "gap", cls: GapClass.NotSlash, min: 0 },
    { kind: "literal", text: "/" }, { kind: "gap", cls: GapClass.Any, min: 0 },
  ]);
});

test("trust domain aliases: cluster.local and local domains expand, others stay", () => {
  const b = new TrustDomainBundle("td1", ["td2"]);
  assert.deepEqual(b.replaceAliases(["cluster.local/ns/a/sa/b"]), ["td1/ns/a/sa/b", "td2/ns/a/sa/b"]);
  assert.deepEqual(b.replaceAliases(["other/ns/a/sa/b"]), ["other/ns/a/sa/b"]);
  assert.deepEqual(b.replaceAliases(["*/ns/a/sa/b", "sa/b"]), ["*/ns/a/sa/b", "sa/b"]);
  assert.deepEqual(b.expandAliases(["td2", "x"]), ["td1", "td2", "x"]);
  assert.deepEqual(new TrustDomainBundle("cluster.local", []).replaceAliases(["cluster.local/ns/a/sa/b"]), ["cluster.local/ns/a/sa/b"]);
});

const JWT = "envoy.filters.http.jwt_authn";
const claimOf = (n: MatchNode) => leafOf(n).path?.slice(2).join(".");

test("requestPrincipals split at the last slash into iss and sub, string matchers on the typed payload", () => {
  const n = requestPrincipalMatcher("https://accounts.google.com/1234") as { op: string; children: MatchNode[] };
  assert.equal(n.op, "and");
  assert.deepEqual(leafOf(n.children[0]), { attribute: Attribute.DynamicMetadata, path: [JWT, "payload", "iss"], kind: MatchKind.Exact, value: "https://accounts.google.com", listElements: false });
  assert.deepEqual(leafOf(n.children[1]), { attribute: Attribute.DynamicMetadata, path: [JWT, "payload", "sub"], kind: MatchKind.Exact, value: "1234", listElements: false });
  const star = requestPrincipalMatcher("*") as { children: MatchNode[] };
  assert.deepEqual(star.children.map((c) => [claimOf(c), leafOf(c).kind]), [["iss", MatchKind.NonEmpty], ["sub", MatchKind.NonEmpty]]);
  const issOnly = requestPrincipalMatcher("iss.example.com/*") as { children: MatchNode[] };
  assert.deepEqual(issOnly.children.map((c) => [claimOf(c), leafOf(c).kind]), [["iss", MatchKind.Exact], ["sub", MatchKind.NonEmpty]]);
  const noSlash = requestPrincipalMatcher("*suffix") as { children: MatchNode[] };
  assert.deepEqual(noSlash.children.map((c) => [claimOf(c), leafOf(c).kind, leafOf(c).value]), [["iss", MatchKind.NonEmpty, undefined], ["sub", MatchKind.Suffix, "suffix"]]);
});

test("claim keys as Istio's extractNameInNestedBrackets: struct keys, literal, with its fallback", () => {
  assert.deepEqual(claimNames("[groups]"), ["groups"]);
  assert.deepEqual(claimNames("[realm][role]"), ["realm", "role"]);
  assert.deepEqual(claimNames("[groups][0]"), ["groups", "0"]); // a struct key "0", never a list index
  assert.deepEqual(claimNames("[a\0b]"), ["a\0b"]); // NUL is a key character
  assert.deepEqual(claimNames("[a.b]"), ["a.b"]);
  assert.deepEqual(claimNames("[a][]"), ["a", ""]);
  assert.deepEqual(claimNames("[a[b]"), ["a[b"]); // fallback: whole name, outer brackets removed
  assert.deepEqual(claimNames("[a]x[b]"), ["a]x[b"]);
  assert.deepEqual(claimNames("[a]]"), ["a]"]);
  assert.deepEqual(claimNames("[[a]]"), ["[a]"]);
  assert.equal(claimNames("[a][b"), null);
  assert.equal(claimNames("x[a]"), null);
  const leaf = leafOf(claimMatcher(["groups", "0"], "admins"));
  assert.deepEqual(leaf, { attribute: Attribute.DynamicMetadata, path: [JWT, "payload", "groups", "0"], kind: MatchKind.Exact, value: "admins", listElements: true });
  assert.equal(leafOf(audienceMatcher("*")).kind, MatchKind.NonEmpty);
  assert.equal(leafOf(audienceMatcher("*")).listElements, true);
});

test("experimental.envoy.filters keys split once; [v] values trim every bracket and match lists only", () => {
  assert.deepEqual(splitMetadataKey("experimental.envoy.filters.http.jwt_authn[payload][sub]"), ["envoy.filters.http.jwt_authn", "payload][sub"]);
  assert.deepEqual(splitMetadataKey("experimental.envoy.filters.a.b[c]"), ["envoy.filters.a.b", "c"]);
  assert.deepEqual(splitMetadataKey("experimental.envoy.filters.a[c]]"), ["envoy.filters.a", "c]"]);
  assert.deepEqual(splitMetadataKey("experimental.envoy.filters.a[x\0y]"), ["envoy.filters.a", "x\0y"]);
  assert.equal(splitMetadataKey("experimental.envoy.filters.a"), null);
  assert.equal(trimBrackets("[[gold]]"), "gold");
  assert.equal(trimBrackets("[a]b]"), "a]b");
  assert.equal(trimBrackets("[]"), "");
  const list = leafOf(metadataMatcher("envoy.filters.http.ext_authz", "tenant", "[[gold]]"));
  assert.deepEqual(list, { attribute: Attribute.DynamicMetadata, path: ["envoy.filters.http.ext_authz", "tenant"], kind: MatchKind.Exact, value: "gold", listOnly: true });
  const str = leafOf(metadataMatcher("envoy.filters.http.ext_authz", "tenant", "gold"));
  assert.equal(str.listOnly, undefined);
  assert.equal(str.listElements, undefined);
  assert.equal(leafOf(metadataMatcher("f", "k", "*")).kind, MatchKind.NonEmpty);
});

test("hosts ignore case and `*` means present; paths `*` means non-empty", () => {
  assert.equal(leafOf(hostMatcher("*")).kind, MatchKind.Present);
  assert.equal(leafOf(hostMatcher("Example.com")).ignoreCase, true);
  assert.equal(leafOf(pathMatcher("*")).kind, MatchKind.NonEmpty);
  assert.equal(leafOf(headerMatcher("X-Tenant", "*")).kind, MatchKind.Present);
  assert.equal(leafOf(headerMatcher("X-Tenant", "a")).key, "x-tenant");
  assert.equal(leafOf(headerMatcher(":authority", "a")).attribute, Attribute.Host);
});

test("path templates map to Envoy's uri template classes", () => {
  assert.deepEqual(uriTemplatePieces("/foo/{*}/bar/{**}"), [
    { kind: "literal", text: "/foo/" }, { kind: "gap", cls: GapClass.Pchar, min: 1 },
    { kind: "literal", text: "/bar/" }, { kind: "gap", cls: GapClass.PcharOrSlash, min: 0 },
  ]);
});

test("CIDRs are masked as Envoy masks them", () => {
  assert.deepEqual(parseCidr("10.1.2.3/16"), { address: Uint8Array.from([10, 1, 0, 0]), prefixLength: 16 });
  assert.deepEqual(parseCidr("10.1.2.3"), { address: Uint8Array.from([10, 1, 2, 3]), prefixLength: 32 });
  const v6 = parseCidr("2001:db8::1/48");
  assert.equal(v6.prefixLength, 48);
  assert.deepEqual(Array.from(v6.address.subarray(0, 8)), [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(parseCidr("::ffff:1.2.3.4").address.subarray(10)), [0xff, 0xff, 1, 2, 3, 4]);
  assert.throws(() => parseCidr("10.1.2.300"));
  assert.throws(() => parseCidr("10.1.2.3/33"));
});

test("inline headers: every `.*` of Istio's regex is an RE2 gap, never a byte prefix/suffix", () => {
  const kinds = (n: MatchNode): MatchKind[] => (n.op === "or" ? n.children.map((c) => leafOf(c).kind) : [leafOf(n).kind]);
  assert.deepEqual(kinds(inlineHeaderMatcher("x-a", "b*")), [MatchKind.Pattern, MatchKind.Pattern]);
  assert.deepEqual(kinds(inlineHeaderMatcher("x-a", "*b")), [MatchKind.Pattern, MatchKind.Pattern]);
  assert.deepEqual(kinds(inlineHeaderMatcher("x-a", "b")), [MatchKind.Exact, MatchKind.Pattern, MatchKind.Pattern, MatchKind.Pattern]);
  const first = inlineHeaderMatcher("X-A", "b*") as { children: MatchNode[] };
  assert.deepEqual(leafOf(first.children[0]).pattern, [{ kind: "literal", text: "b" }, { kind: "gap", cls: GapClass.Any, min: 0 }]);
  assert.equal(leafOf(first.children[0]).key, "x-a");
});
