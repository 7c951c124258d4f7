// Unit tests of the reference evaluator's building blocks (the tricky parts of the semantics).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { cidrContains, parseCidr, parseIp } from "./cidr.ts";
import {
  expandTrustDomains,
  matchPeer,
  namespaceMatcher,
  principalMatcher,
  replaceTrustDomainAliases,
  serviceAccountMatcher,
  trustDomainMatcher,
} from "./identity.ts";
import { claimPathFromKeySuffix, matchClaim, matchRequestPrincipal, requestPrincipalMatchers } from "./jwt.ts";
import { envoyTemplateRegex, istioToEnvoyTemplate, matchPathTemplate } from "./path-template.ts";
import { compareIds, goParseBool } from "./evaluate.ts";
import { istioHeaderMatcher, istioInlineHeaderMatcher, istioStringMatcher, matchHeader, matchString } from "./string-match.ts";

const SAN = (ns: string, sa: string, td = "cluster.local") => `spiffe://${td}/ns/${ns}/sa/${sa}`;

describe("string forms (spec §4)", () => {
  test("classification: *, *x (suffix), x* (prefix), exact; interior * is literal", () => {
    assert.deepEqual(istioStringMatcher("abc"), { kind: "exact", value: "abc" });
    assert.deepEqual(istioStringMatcher("abc*"), { kind: "prefix", value: "abc" });
    assert.deepEqual(istioStringMatcher("*abc"), { kind: "suffix", value: "abc" });
    assert.deepEqual(istioStringMatcher("*foo*"), { kind: "suffix", value: "foo*" });
    assert.equal(matchString(istioStringMatcher("/a*b"), "/a*b"), true);
    assert.equal(matchString(istioStringMatcher("/a*b"), "/axxb"), false);
  });
  test("presence `*` is .+ for strings (empty never matches) but present_match for headers", () => {
    assert.equal(matchString(istioStringMatcher("*"), ""), false);
    assert.equal(matchString(istioStringMatcher("*"), "x"), true);
    assert.equal(matchHeader(istioHeaderMatcher("*", false), ""), true);
    assert.equal(matchHeader(istioHeaderMatcher("*", false), undefined), false);
  });
  test("hosts ignore case, other headers do not", () => {
    assert.equal(matchHeader(istioHeaderMatcher("*.Example.com", true), "API.EXAMPLE.COM"), true);
    assert.equal(matchHeader(istioHeaderMatcher("GET", false), "get"), false);
  });
  test("inline header matcher matches one comma-separated element", () => {
    const m = istioInlineHeaderMatcher("b*");
    assert.equal(matchHeader(m, "a,bc,d"), true);
    assert.equal(matchHeader(m, "a,cb"), false);
    assert.equal(matchHeader(istioInlineHeaderMatcher("x.y"), "xzy"), false);
  });
});

describe("principals (spec §5.1.1)", () => {
  test("spiffe:// is prepended; `*` does not require it; suffix is a quoted regex", () => {
    assert.equal(matchPeer(principalMatcher("cluster.local/ns/a/sa/b"), SAN("a", "b")), true);
    assert.equal(matchPeer(principalMatcher("cluster.local/ns/a/*"), SAN("a", "zzz")), true);
    assert.equal(matchPeer(principalMatcher("*/sa/b"), SAN("q", "b")), true);
    assert.equal(matchPeer(principalMatcher("*.local/ns/a/sa/b"), "spiffe://clusterXlocal/ns/a/sa/b"), false);
    assert.equal(matchPeer(principalMatcher("*"), "urn:not-spiffe"), true);
    assert.equal(matchPeer(principalMatcher("*"), null), false);
    assert.equal(matchPeer(principalMatcher("spiffe://cluster.local/ns/a/sa/b"), SAN("a", "b")), false);
  });
  test("trust domain aliases: cluster.local and bundle members expand; others and `*` td are kept", () => {
    const b = { trustDomain: "td1", aliases: ["td2"] };
    assert.deepEqual(replaceTrustDomainAliases(["cluster.local/ns/a/sa/b"], b), ["td1/ns/a/sa/b", "td2/ns/a/sa/b"]);
    assert.deepEqual(replaceTrustDomainAliases(["td2/ns/a/sa/b"], b), ["td1/ns/a/sa/b", "td2/ns/a/sa/b"]);
    assert.deepEqual(replaceTrustDomainAliases(["other/ns/a/sa/b"], b), ["other/ns/a/sa/b"]);
    assert.deepEqual(replaceTrustDomainAliases(["*/ns/a/sa/b", "a/b"], b), ["*/ns/a/sa/b", "a/b"]);
    assert.deepEqual(replaceTrustDomainAliases(["*2/ns/a/sa/b"], b), ["td1/ns/a/sa/b", "*2/ns/a/sa/b"]);
    const def = { trustDomain: "cluster.local", aliases: [] };
    assert.deepEqual(replaceTrustDomainAliases(["cluster.local/ns/a/sa/b"], def), ["cluster.local/ns/a/sa/b"]);
  });
});

describe("namespaces glob (spec §5.1.2)", () => {
  test("`.*/ns/<v>/.*` with interior `*` and quoted dots", () => {
    assert.equal(matchPeer(namespaceMatcher("foo"), SAN("foo", "x")), true);
    assert.equal(matchPeer(namespaceMatcher("foo"), SAN("foobar", "x")), false);
    assert.equal(matchPeer(namespaceMatcher("ns-prefix-*"), SAN("ns-prefix-a", "x")), true);
    assert.equal(matchPeer(namespaceMatcher("*-prod"), SAN("team-prod", "x")), true);
    assert.equal(matchPeer(namespaceMatcher("ns.*.prod"), SAN("ns.any.prod", "x")), true);
    assert.equal(matchPeer(namespaceMatcher("ns.*.prod"), SAN("nsXanyXprod", "x")), false);
    assert.equal(matchPeer(namespaceMatcher("*"), SAN("anything", "x")), true);
    assert.equal(matchPeer(namespaceMatcher("*"), null), false);
  });
  test("a glob is not confined to one segment", () => {
    assert.equal(matchPeer(namespaceMatcher("a*"), "spiffe://td/ns/a/b/c/sa/x"), true);
  });
});

describe("serviceAccounts regex (spec §5.1.3)", () => {
  const m = serviceAccountMatcher("my-ns/my-sa", "ignored");
  test("generator_test TestServiceAccount cases", () => {
    assert.equal(matchPeer(m, SAN("my-ns", "my-sa")), true);
    assert.equal(matchPeer(m, SAN("my-ns", "my-sa") + "/k/v"), true);
    assert.equal(matchPeer(m, "spiffe://cluster.local/ns/my-ns/k/v/sa/my-sa"), true);
    assert.equal(matchPeer(m, SAN("my-ns", "my-sa-suffix")), false);
    assert.equal(matchPeer(m, SAN("my-ns-suffix", "my-sa")), false);
    assert.equal(matchPeer(m, "cluster.local/ns/my-ns/sa/my-sa"), false);
  });
  test("bare `sa` means the policy namespace; regex metacharacters are literal", () => {
    assert.equal(matchPeer(serviceAccountMatcher("fe", "istio-system"), SAN("istio-system", "fe")), true);
    assert.equal(matchPeer(serviceAccountMatcher("fe", "istio-system"), SAN("default", "fe")), false);
    assert.equal(matchPeer(serviceAccountMatcher("my.ns/my.sa", "x"), SAN("myXns", "my.sa")), false);
  });
});

describe("trustDomains (spec §5.1.4)", () => {
  test("exact is a `spiffe://td/` prefix; wildcards stay within the td", () => {
    assert.equal(matchPeer(trustDomainMatcher("td1"), SAN("a", "b", "td1")), true);
    assert.equal(matchPeer(trustDomainMatcher("td1"), SAN("a", "b", "td1.example")), false);
    assert.equal(matchPeer(trustDomainMatcher("*"), SAN("a", "b", "x")), true);
    assert.equal(matchPeer(trustDomainMatcher("*.example"), SAN("a", "b", "td.example")), true);
    assert.equal(matchPeer(trustDomainMatcher("td*"), SAN("a", "b", "td7")), true);
    assert.equal(matchPeer(trustDomainMatcher("td*"), "spiffe://x/td7/ns/a/sa/b"), false);
  });
  test("mesh trust domain and aliases expand to each other", () => {
    assert.deepEqual(expandTrustDomains(["td2", "x"], { trustDomain: "td1", aliases: ["td2"] }), ["td1", "td2", "x"]);
  });
});

describe("requestPrincipals split at the last `/` (spec §5.1.6)", () => {
  const jwt = (iss: unknown, sub: unknown) => ({ iss, sub });
  test("URL issuer", () => {
    const m = requestPrincipalMatchers("https://accounts.google.com/1234");
    assert.deepEqual(m.iss, { kind: "exact", value: "https://accounts.google.com" });
    assert.deepEqual(m.sub, { kind: "exact", value: "1234" });
    assert.equal(matchRequestPrincipal("https://accounts.google.com/1234", jwt("https://accounts.google.com", "1234")), true);
  });
  test("wildcard forms", () => {
    assert.equal(matchRequestPrincipal("*", jwt("i", "s")), true);
    assert.equal(matchRequestPrincipal("*", jwt("i", "")), false);
    assert.equal(matchRequestPrincipal("iss/*", jwt("iss", "anything")), true);
    assert.equal(matchRequestPrincipal("iss/ab*", jwt("iss", "abc")), true);
    assert.equal(matchRequestPrincipal("*/sub", jwt("whatever", "sub")), true);
    assert.equal(matchRequestPrincipal("*.com/sub", jwt("https://a.com", "sub")), true);
    assert.equal(matchRequestPrincipal("*xyz", jwt("i", "sxyz")), true); // no `/`: iss any, sub suffix
    assert.equal(matchRequestPrincipal("ab*", jwt("abc", "s")), true); // no `/`: iss prefix, sub any
  });
  test("no `/` needs an empty sub; a sub with `/` cannot be matched exactly; lists/absent never match", () => {
    assert.equal(matchRequestPrincipal("issuer", jwt("issuer", "x")), false);
    assert.equal(matchRequestPrincipal("issuer", jwt("issuer", "")), true);
    assert.equal(matchRequestPrincipal("iss/a/b", jwt("iss", "a/b")), false);
    assert.equal(matchRequestPrincipal("iss/sub", jwt("iss", ["sub"])), false);
    assert.equal(matchRequestPrincipal("iss/sub", null), false);
  });
});

describe("JWT claims (spec §5.3)", () => {
  test("nested bracket keys, each bracket one literal key", () => {
    assert.deepEqual(claimPathFromKeySuffix("[a][b]"), ["a", "b"]);
    assert.deepEqual(claimPathFromKeySuffix("[a.b]"), ["a.b"]);
    assert.equal(claimPathFromKeySuffix("a]"), null);
    assert.deepEqual(claimPathFromKeySuffix("[a[b]"), ["a[b"]);
  });
  test("string or list of strings; numbers/objects never match", () => {
    const j = { groups: ["g1", "g2"], n: { k: "v" }, num: 1, aud: "x" };
    assert.equal(matchClaim(["groups"], ["g2"], j), true);
    assert.equal(matchClaim(["n", "k"], ["v"], j), true);
    assert.equal(matchClaim(["n"], ["*"], j), false);
    assert.equal(matchClaim(["num"], ["1"], j), false);
    assert.equal(matchClaim(["missing"], ["*"], j), false);
    assert.equal(matchClaim(["aud"], ["x"], j), true);
  });
});

describe("path templates (spec §5.2.5)", () => {
  const ok = (t: string, p: string) => matchPathTemplate(t, p);
  test("IT TestAuthz_PathTemplating outcomes", () => {
    assert.equal(ok("/allow/admin/{**}", "/allow/admin/"), true);
    assert.equal(ok("/allow/admin/{**}", "/allow/admin/temp"), true);
    assert.equal(ok("/allow/admin/{**}", "/allow/admin/foo/temp.txt"), true);
    assert.equal(ok("/allow/admin/{**}", "/allow/admin"), false);
    assert.equal(ok("/allow/admin/{**}", "/allow/admin?param=value"), false);
    assert.equal(ok("/foo/{*}/bar/{**}", "/foo/buzz/bar/bat.txt"), true);
    assert.equal(ok("/foo/{*}/bar/{**}", "/foo//bar/bat.txt"), false);
    assert.equal(ok("/store/{**}/cart", "/store//cart"), true);
    assert.equal(ok("/store/{**}/cart", "/store/cart"), false);
  });
  test("Envoy character classes: `*` is one segment of pchars, `**` may include `/`", () => {
    assert.equal(ok("/a/{*}", "/a/b/c"), false);
    assert.equal(ok("/a/{*}", "/a/x*y"), false);
    assert.equal(ok("/a/{*}", "/a/x%20!$&'()+,;:@=~y"), true);
    assert.equal(ok("/a/{*}", "/a/x?q=1"), true); // query stripped
    assert.equal(ok("/foo/{**}/", "/foo/bar/baz.txt"), false); // trailing `/` stays literal
    assert.equal(ok("/{**}", "/"), true);
  });
  test("translation and rejection", () => {
    assert.equal(istioToEnvoyTemplate("/a/{*}/{**}"), "/a/*/**");
    assert.equal(envoyTemplateRegex("/a/**/*"), null); // operator after text glob
    assert.equal(envoyTemplateRegex("/a b/*"), null); // not [[:graph:]]
    assert.equal(envoyTemplateRegex("/a/*.txt")?.test("/a/x.txt"), true); // suffix literal
    assert.equal(envoyTemplateRegex("/a/*.txt")?.test("/a/xtxt"), false);
  });
});

describe("CIDR (spec §5.1.5)", () => {
  test("host bits are masked as Envoy's CidrRange does", () => {
    const c = parseCidr("10.1.2.3/16")!;
    assert.equal(cidrContains(c, "10.1.200.7"), true);
    assert.equal(cidrContains(c, "10.2.0.1"), false);
    assert.equal(cidrContains(parseCidr("10.1.2.3/23")!, "10.1.3.255"), true);
    assert.equal(cidrContains(parseCidr("10.1.2.3/23")!, "10.1.4.0"), false);
  });
  test("single IP is /32 or /128; IPv6; versions never mix", () => {
    assert.equal(cidrContains(parseCidr("1.2.3.4")!, "1.2.3.4"), true);
    assert.equal(cidrContains(parseCidr("1.2.3.4")!, "1.2.3.5"), false);
    assert.equal(cidrContains(parseCidr("2001:db8::1/32")!, "2001:db8:ffff::9"), true);
    assert.equal(cidrContains(parseCidr("2001:db8::1/32")!, "2001:db9::9"), false);
    assert.equal(cidrContains(parseCidr("::ffff:1.2.3.4")!, "1.2.3.4"), false);
    assert.equal(cidrContains(parseCidr("0.0.0.0/0")!, "::1"), false);
    assert.equal(cidrContains(parseCidr("0.0.0.0/0")!, "8.8.8.8"), true);
    assert.equal(cidrContains(parseCidr("1.2.3.4")!, null), false);
  });
  test("Go netip rejects what Istio rejects", () => {
    for (const bad of ["1.2.3", "01.2.3.4", "1.2.3.4/33", "1.2.3.4/", "1.2.3.4/08", "::1::2", "fe80::1%eth0/64", "x"]) {
      assert.equal(parseCidr(bad), null, bad);
    }
    assert.deepEqual(parseIp("::ffff:1.2.3.4")?.bytes.slice(10), [0xff, 0xff, 1, 2, 3, 4]);
  });
});

describe("Envoy effective policy id order (spec §7.3)", () => {
  test("bytewise: rule[10] sorts before rule[2]", () => {
    const ids = ["ns[a]-policy[p]-rule[2]", "ns[a]-policy[p]-rule[10]", "ns[a]-policy[p]-rule[1]"];
    assert.deepEqual([...ids].sort(compareIds), [
      "ns[a]-policy[p]-rule[10]",
      "ns[a]-policy[p]-rule[1]",
      "ns[a]-policy[p]-rule[2]",
    ]);
  });
  test("UTF-8 byte order, not UTF-16 code unit order", () => {
    // U+FF01 (EF BC 81) < U+1F600 (F0 9F 98 80) in UTF-8, but "\uD83D" < "\uFF01" in UTF-16.
    assert.ok(compareIds("\uFF01", "\u{1F600}") < 0);
    assert.ok(compareIds("ns[a]", "ns[b]") < 0 && compareIds("ns[b]", "ns[a]") > 0 && compareIds("x", "x") === 0);
  });
});

test("Go strconv.ParseBool (spec §2.1)", () => {
  for (const t of ["1", "t", "T", "TRUE", "true", "True"]) assert.equal(goParseBool(t), true, t);
  for (const f of ["0", "f", "F", "FALSE", "false", "False"]) assert.equal(goParseBool(f), false, f);
  for (const x of ["yes", "tRUE", " true", "", "on"]) assert.equal(goParseBool(x), undefined, x);
});
