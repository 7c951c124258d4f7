// Issue 9: the reference models Istio and Envoy, not the filter. Each test is a bypass class of the issue,
// with the decision Istio makes (pilot/pkg/security/authz, Envoy matchers.cc / rbac matchers.cc / RE2).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CaseRequest } from "../../tools/model/case-file.ts";
import type { AuthorizationPolicy, Rule } from "../../tools/model/policy.ts";
import { evaluateReference } from "./evaluate.ts";
import { normalizeJwtPayload } from "./jwt.ts";

const MESH = { rootNamespace: "istio-system", trustDomain: "cluster.local", trustDomainAliases: [] };
const WL = { namespace: "a" };
const pol = (action: "ALLOW" | "DENY", rules: Rule[]): AuthorizationPolicy => ({
  apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "p", namespace: "a" }, spec: { action, rules },
});
const REQ: CaseRequest = { method: "GET", path: "/", host: "svc" };
const decide = (p: AuthorizationPolicy, r: Partial<CaseRequest>) => evaluateReference([p], WL, { ...REQ, ...r }, MESH).decision;
const bytes = (...b: number[]) => Uint8Array.from(b);

describe("class 1: `*` is RE2 `.+` (full match, `.` is one UTF-8 sequence, never `\\n`)", () => {
  test("notRequestPrincipals: ['*'] denies a token whose sub holds a newline", () => {
    const deny = pol("DENY", [{ from: [{ source: { notRequestPrincipals: ["*"] } }] }]);
    assert.equal(decide(deny, { jwt: { iss: "https://i", sub: "user1" } }), "ALLOW");
    assert.equal(decide(deny, { jwt: { iss: "https://i", sub: "user\n1" } }), "DENY");
    const allow = pol("ALLOW", [{ from: [{ source: { requestPrincipals: ["*"] } }] }]);
    assert.equal(decide(allow, { jwt: { iss: "https://i\n", sub: "u" } }), "DENY");
  });
  test("claim presence, audiences and SNI `*`", () => {
    const claim = pol("ALLOW", [{ when: [{ key: "request.auth.claims[role]", values: ["*"] }] }]);
    assert.equal(decide(claim, { jwt: { role: "a\nb" } }), "DENY");
    assert.equal(decide(claim, { jwt: { role: ["x\n", "ok"] } }), "ALLOW");
    const aud = pol("ALLOW", [{ when: [{ key: "request.auth.audiences", values: ["*"] }] }]);
    assert.equal(decide(aud, { jwt: { aud: "\n" } }), "DENY");
    const sni = pol("ALLOW", [{ when: [{ key: "connection.sni", values: ["*"] }] }]);
    assert.equal(decide(sni, { sni: "a.example" }), "ALLOW");
    assert.equal(decide(sni, { sni: "a\n.example" }), "DENY");
    assert.equal(decide(sni, { sni: bytes(0x61, 0xc0, 0x80) }), "DENY"); // C0 80: not a `.` for RE2
    assert.equal(decide(sni, { sni: bytes(0x61, 0xed, 0xa0, 0x80) }), "ALLOW"); // surrogate: RE2's lenient 80-10FFFF
  });
  test("principal regexes run on the SAN bytes", () => {
    const ns = pol("ALLOW", [{ from: [{ source: { namespaces: ["foo"] } }] }]);
    assert.equal(decide(ns, { source_principal: "spiffe://td/ns/foo/sa/x" }), "ALLOW");
    assert.equal(decide(ns, { source_principal: "spiffe://td\n/ns/foo/sa/x" }), "DENY"); // `.*` stops at \n
  });
});

describe("class 2: typed claims, Envoy's metadata matcher", () => {
  const groups = pol("ALLOW", [{ when: [{ key: "request.auth.claims[groups]", values: ["admin"] }] }]);
  test("a string matcher matches strings only; a list matches when one element does", () => {
    assert.equal(decide(groups, { jwt: { groups: "admin" } }), "ALLOW");
    assert.equal(decide(groups, { jwt: { groups: ["x", null, { a: 1 }, "admin"] } }), "ALLOW"); // a null does not spoil the list
    assert.equal(decide(groups, { jwt: { groups: { admin: "" } } }), "DENY"); // an object is not a list of its keys
    assert.equal(decide(groups, { jwt: { groups: 1.5 } }), "DENY");
    assert.equal(decide(groups, { jwt: { groups: true } }), "DENY");
    assert.equal(decide(groups, { jwt: { groups: null } }), "DENY");
  });
  test("strings of any shape are strings (1 byte, 8 bytes with a control character, the pairs encoding)", () => {
    const one = pol("ALLOW", [{ when: [{ key: "request.auth.claims[f]", values: ["\u0001"] }] }]);
    assert.equal(decide(one, { jwt: { f: "\u0001" } }), "ALLOW");
    const eight = pol("ALLOW", [{ when: [{ key: "request.auth.claims[f]", values: ["abc\u0001defg"] }] }]);
    assert.equal(decide(eight, { jwt: { f: "abc\u0001defg" } }), "ALLOW");
    const pairsShaped = "\u0001\u0000\u0000\u0000\u0005\u0000\u0000\u0000\u0000\u0000\u0000\u0000admin\u0000\u0000";
    assert.equal(decide(groups, { jwt: { groups: pairsShaped } }), "DENY");
  });
  test("a DENY on a claim still applies when its list holds a null", () => {
    const deny = pol("DENY", [{ when: [{ key: "request.auth.claims[groups]", values: ["banned"] }] }]);
    assert.equal(decide(deny, { jwt: { groups: [null, "banned"] } }), "DENY");
  });
});

describe("class 3: metadata paths as Istio builds them", () => {
  test("claims[groups][0] walks struct fields only: never a list index", () => {
    const p = pol("ALLOW", [{ when: [{ key: "request.auth.claims[groups][0]", values: ["admin"] }] }]);
    assert.equal(decide(p, { jwt: { groups: ["admin"] } }), "DENY");
    assert.equal(decide(p, { jwt: { groups: { "0": "admin" } } }), "ALLOW");
  });
  test("experimental key split once: [payload][sub] is the literal key `payload][sub`", () => {
    const p = pol("ALLOW", [{ when: [{ key: "experimental.envoy.filters.http.jwt_authn[payload][sub]", values: ["alice"] }] }]);
    assert.equal(decide(p, { jwt: { sub: "alice" } }), "DENY");
    const deny = pol("DENY", [{ when: [{ key: "experimental.envoy.filters.http.jwt_authn[payload][sub]", notValues: ["alice"] }] }]);
    assert.equal(decide(deny, { jwt: { sub: "alice" } }), "DENY");
  });
  test("[v] values: strings.Trim strips every bracket and matches lists only", () => {
    const p = pol("ALLOW", [{ when: [{ key: "experimental.envoy.filters.http.jwt_authn[payload]", values: ["[[x]]"] }] }]);
    assert.equal(decide(p, { jwt: { x: 1 } }), "DENY"); // payload is a struct, not a list
    const meta = { "envoy.filters.http.jwt_authn": { payload: ["x"] } };
    assert.equal(evaluateReference([p], WL, { ...REQ, metadata: meta } as CaseRequest, MESH).decision, "ALLOW");
    const str = { "envoy.filters.http.jwt_authn": { payload: "x" } };
    assert.equal(evaluateReference([p], WL, { ...REQ, metadata: str } as CaseRequest, MESH).decision, "DENY");
  });
  test("a claim key with NUL is one literal key", () => {
    const p = pol("ALLOW", [{ when: [{ key: "request.auth.claims[a\u0000b]", values: ["v"] }] }]);
    assert.equal(decide(p, { jwt: { "a\u0000b": "v" } }), "ALLOW");
    assert.equal(decide(p, { jwt: { a: { b: "v" } } }), "DENY");
  });
});

describe("class 4: `host` is :authority", () => {
  test("request.headers[host] reads the authority", () => {
    const p = pol("ALLOW", [{ when: [{ key: "request.headers[host]", values: ["api.example"] }] }]);
    assert.equal(decide(p, { host: "api.example" }), "ALLOW");
    assert.equal(decide(p, { host: "other", headers: { host: "api.example" } }), "DENY"); // appended: "other,api.example"
    assert.equal(decide(p, { protocol: "GRPC", host: "api.example", headers: { host: "x" } }), "ALLOW"); // HTTP/2 drops host
    assert.equal(decide(p, { host: undefined, headers: { Host: "api.example" } }), "ALLOW");
  });
});

describe("class 5: every SAN, as Envoy RBAC's AuthenticatedMatcher", () => {
  test("URI SANs in order, then DNS SANs, then the subject", () => {
    const deny = pol("DENY", [{ from: [{ source: { principals: ["cluster.local/ns/evil/sa/x"] } }] }]);
    const cert = (uri: string[], dns: string[] = [], subject = "") => ({ peer_certificate: { uri_sans: uri, dns_sans: dns, subject } });
    assert.equal(decide(deny, cert(["spiffe://cluster.local/ns/good/sa/y", "spiffe://cluster.local/ns/evil/sa/x"])), "DENY");
    assert.equal(decide(deny, cert([], ["spiffe://cluster.local/ns/evil/sa/x"])), "DENY");
    assert.equal(decide(deny, cert([], [], "spiffe://cluster.local/ns/evil/sa/x")), "DENY");
    assert.equal(decide(deny, cert(["spiffe://cluster.local/ns/good/sa/y"])), "ALLOW");
    assert.equal(decide(deny, { source_principal: null }), "ALLOW");
  });
});

describe("class 7: jwt_authn normalization as Istio configures it", () => {
  test("scope and permission strings become lists split on spaces", () => {
    assert.deepEqual(normalizeJwtPayload({ scope: "read  write", permission: "p", other: "a b" }), { scope: ["read", "write"], permission: ["p"], other: "a b" });
    assert.deepEqual(normalizeJwtPayload({ scope: "   " }), { scope: "   " });
    assert.deepEqual(normalizeJwtPayload({ scope: ["a b"] }), { scope: ["a b"] });
    const p = pol("ALLOW", [{ when: [{ key: "request.auth.claims[scope]", values: ["read"] }] }]);
    assert.equal(decide(p, { jwt: { scope: "read write" } }), "ALLOW");
    assert.equal(evaluateReference([p], WL, { ...REQ, jwt: { scope: "read write" } }, MESH, { spaceDelimitedClaims: [] }).decision, "DENY");
  });
});
