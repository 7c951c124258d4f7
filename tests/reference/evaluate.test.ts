// Decision-level unit tests of the reference evaluator (applicability, actions, dry-run, TCP, ids).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Action, AuthorizationPolicy, Rule } from "../../tools/model/policy.ts";
import type { CaseRequest, Workload } from "../../tools/model/case-file.ts";
import { evaluateReference, type ReferenceMesh } from "./evaluate.ts";

const MESH: ReferenceMesh = { rootNamespace: "istio-system", trustDomain: "cluster.local", trustDomainAliases: [] };
const WL: Workload = { namespace: "default", labels: { app: "backend" } };
const REQ: CaseRequest = {
  protocol: "HTTP",
  method: "GET",
  path: "/api",
  host: "backend:8080",
  headers: {},
  source_principal: "spiffe://cluster.local/ns/default/sa/frontend",
  source_ip: "10.0.0.1",
  remote_ip: "10.0.0.1",
  destination_ip: "10.0.0.2",
  destination_port: 8080,
  sni: "outbound_.8080_._.backend.default.svc.cluster.local",
  jwt: null,
};

function pol(name: string, action: Action | undefined, rules: Rule[] | undefined, extra: Partial<AuthorizationPolicy["spec"]> = {}, meta: { namespace?: string; annotations?: Record<string, string> } = {}): AuthorizationPolicy {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name, namespace: meta.namespace ?? "default", ...(meta.annotations ? { annotations: meta.annotations } : {}) },
    spec: { ...(action ? { action } : {}), ...(rules ? { rules } : {}), ...extra },
  };
}
const ev = (ps: AuthorizationPolicy[], req: Partial<CaseRequest> = {}, mesh = MESH, wl = WL) =>
  evaluateReference(ps, wl, { ...REQ, ...req }, mesh);

describe("applicability (spec §1)", () => {
  test("root namespace applies everywhere, other namespaces never, selector is a subset match", () => {
    assert.equal(ev([pol("a", undefined, undefined, {}, { namespace: "istio-system" })]).policy, "none");
    assert.equal(ev([pol("a", undefined, undefined, {}, { namespace: "other" })]).policy, null);
    assert.equal(ev([pol("a", undefined, undefined, { selector: { matchLabels: { app: "backend" } } })]).policy, "none");
    assert.equal(ev([pol("a", undefined, undefined, { selector: { matchLabels: { app: "x" } } })]).policy, null);
    assert.equal(ev([pol("a", undefined, undefined, { selector: {} })]).policy, "none");
  });
  test("targetRef / targetRefs policies are ignored on a sidecar", () => {
    const d = ev([
      pol("a", "DENY", [{}], { targetRef: { kind: "Service", name: "backend" } }),
      pol("b", "DENY", [{}], { targetRefs: [{ kind: "Service", name: "backend" }] }),
    ]);
    assert.deepEqual(d, { decision: "ALLOW", policy: null, audit: false, shadow: {} });
  });
});

describe("actions (spec §2)", () => {
  test("DENY beats ALLOW; allow-nothing denies; ALLOW match reports its rule", () => {
    assert.equal(ev([pol("d", "DENY", [{}]), pol("a", "ALLOW", [{}])]).policy, "ns[default]-policy[d]-rule[0]");
    assert.deepEqual(ev([pol("a", "ALLOW", undefined)]), { decision: "DENY", policy: "none", audit: false, shadow: {} });
    assert.equal(ev([pol("a", "ALLOW", undefined), pol("b", "ALLOW", [{}, {}])]).policy, "ns[default]-policy[b]-rule[0]");
  });
  test("AUDIT marks but never decides", () => {
    assert.deepEqual(ev([pol("au", "AUDIT", [{}])]), { decision: "ALLOW", policy: null, audit: true, shadow: {} });
    assert.equal(ev([pol("au", "AUDIT", [{ to: [{ operation: { paths: ["/x"] } }] }])]).audit, false);
  });
  test("CUSTOM: an undefined provider, or two providers on one workload, is istiod's bad-CUSTOM DENY", () => {
    const c = pol("c", "CUSTOM", [{ to: [{ operation: { paths: ["/api"] } }] }], { provider: { name: "ext" } });
    const c2 = pol("b", "CUSTOM", [{}], { provider: { name: "zz" } });
    const mesh = { rootNamespace: "istio-system", trustDomain: "cluster.local", trustDomainAliases: [] };
    const req = { method: "GET", path: "/api", ext_authz_decision: "allow" } as CaseRequest;
    const w = { namespace: "default", labels: {} };
    const undef = evaluateReference([c], w, req, { ...mesh, extAuthzProviders: ["other"] });
    assert.equal(undef.policy, "istio-ext-authz-ext-ns[default]-policy[c]-rule[0]-deny-due-to-bad-CUSTOM-action");
    assert.equal(evaluateReference([c], w, req, { ...mesh, extAuthzProviders: ["ext"] }).decision, "ALLOW");
    const two = evaluateReference([c, c2], w, req, mesh);
    assert.equal(two.policy, "istio-ext-authz-ext-ns[default]-policy[c]-rule[0]-deny-due-to-bad-CUSTOM-action");
    assert.equal(evaluateReference([c, c2], w, { ...req, path: "/x" }, mesh).policy, "istio-ext-authz-zz-ns[default]-policy[b]-rule[0]-deny-due-to-bad-CUSTOM-action");
  });

  test("CUSTOM: provider consulted only when a rule matches, and never bypasses DENY/ALLOW", () => {
    const c = pol("c", "CUSTOM", [{ to: [{ operation: { paths: ["/api"] } }] }], { provider: { name: "ext" } });
    assert.deepEqual(ev([c], { ext_authz_decision: "deny" }), {
      decision: "DENY",
      policy: "ext_authz(ns[default]-policy[c]-rule[0])",
      audit: false,
      shadow: {},
    });
    assert.equal(ev([c], { path: "/other", ext_authz_decision: "deny" }).decision, "ALLOW");
    assert.equal(ev([c, pol("d", "DENY", [{}])], { ext_authz_decision: "allow" }).policy, "ns[default]-policy[d]-rule[0]");
  });
});

describe("dry-run (spec §2.1)", () => {
  const dry = (v: string) => ({ annotations: { "istio.io/dry-run": v } });
  test("dry-run policies are not enforced, but their shadow engines report", () => {
    const d = ev([pol("d", "DENY", [{}], {}, dry("true")), pol("a", "ALLOW", [{ to: [{ operation: { paths: ["/x"] } }] }], {}, dry("T"))]);
    assert.deepEqual(d, {
      decision: "ALLOW",
      policy: null,
      audit: false,
      shadow: {
        deny: { result: "denied", policy: "ns[default]-policy[d]-rule[0]" },
        allow: { result: "denied", policy: null },
      },
    });
  });
  test("an enforced DENY stops the chain before the shadow ALLOW engine; unparsable value = enforced", () => {
    const d = ev([pol("d", "DENY", [{}], {}, dry("yes")), pol("a", "ALLOW", [{}], {}, dry("1"))]);
    assert.deepEqual(d, { decision: "DENY", policy: "ns[default]-policy[d]-rule[0]", audit: false, shadow: {} });
  });
});

describe("missing attributes and negation (spec §3)", () => {
  test("positive matchers on a missing attribute are false, negations true", () => {
    const deny = (rule: Rule) => ev([pol("d", "DENY", [rule])], { source_principal: null, jwt: null }).decision;
    assert.equal(deny({ from: [{ source: { notPrincipals: ["*"] } }] }), "DENY");
    assert.equal(deny({ from: [{ source: { principals: ["*"] } }] }), "ALLOW");
    assert.equal(deny({ from: [{ source: { notRequestPrincipals: ["iss/sub"] } }] }), "DENY");
    assert.equal(deny({ when: [{ key: "request.headers[x-a]", notValues: ["v"] }] }), "DENY");
    assert.equal(deny({ when: [{ key: "request.headers[x-a]", values: ["*"] }] }), "ALLOW");
    assert.equal(deny({ when: [{ key: "connection.sni", notValues: ["*"] }] }), "ALLOW");
  });
  test("values are OR-ed, notValues are NOT(OR), both are AND-ed", () => {
    const op = (o: object) => pol("d", "DENY", [{ to: [{ operation: o }] }]);
    assert.equal(ev([op({ paths: ["/x", "/api"] })]).decision, "DENY");
    assert.equal(ev([op({ notPaths: ["/x", "/api"] })]).decision, "ALLOW");
    assert.equal(ev([op({ notPaths: ["/x", "/y"] })]).decision, "DENY");
    assert.equal(ev([op({ paths: ["/a*"], notPaths: ["/api"] })]).decision, "ALLOW");
    assert.equal(ev([op({ paths: ["/a*"], notPaths: ["/apix"] })]).decision, "DENY");
  });
  test("repeated headers are joined with ',' and names are case-insensitive", () => {
    const allow = pol("a", "ALLOW", [{ when: [{ key: "request.headers[X-Tok]", values: ["a,b"] }] }]);
    assert.equal(ev([allow], { headers: { "x-tok": ["a", "b"] } }).decision, "ALLOW");
    assert.equal(ev([allow], { headers: { "x-tok": "a" } }).decision, "DENY");
  });
  test("hosts include the port and ignore case; gRPC is POST", () => {
    const a = pol("a", "ALLOW", [{ to: [{ operation: { hosts: ["Backend:8080"], methods: ["POST"] } }] }]);
    assert.equal(ev([a], { protocol: "GRPC", method: undefined }).decision, "ALLOW");
    assert.equal(ev([a], { protocol: "GRPC", method: undefined, host: "backend" }).decision, "DENY");
  });
  test("paths use the normalized path without query", () => {
    const a = pol("a", "ALLOW", [{ to: [{ operation: { paths: ["/private"] } }] }]);
    assert.equal(ev([a], { path: "/public/../private?x=1", path_normalized: "/private?x=1" }).decision, "ALLOW");
    assert.equal(ev([a], { path: "/private#frag" }).decision, "ALLOW");
  });
});

describe("TCP and translation errors (spec §5.4, §6)", () => {
  const tcp = { protocol: "TCP" as const, method: undefined, path: undefined, host: undefined };
  test("ALLOW rules using HTTP-only fields are dropped; DENY rules lose those fields", () => {
    const allowHttp = pol("a", "ALLOW", [{ to: [{ operation: { methods: ["GET"], ports: ["8080"] } }] }]);
    assert.equal(ev([allowHttp], tcp).policy, "none");
    assert.equal(ev([allowHttp]).policy, "ns[default]-policy[a]-rule[0]");
    const denyHttp = pol("d", "DENY", [{ to: [{ operation: { notPaths: ["/api"], ports: ["8080"] } }] }]);
    assert.equal(ev([denyHttp], tcp).policy, "ns[default]-policy[d]-rule[0]");
    assert.equal(ev([denyHttp], { ...tcp, destination_port: 9090 }).decision, "ALLOW");
    assert.equal(ev([denyHttp]).decision, "ALLOW");
  });
  test("an ALLOW rule with an invalid IP disappears; in a DENY rule only that value is ignored", () => {
    const a = pol("a", "ALLOW", [{ from: [{ source: { ipBlocks: ["10.0.0.1", "bad"] } }] }, {}]);
    assert.equal(ev([a]).policy, "ns[default]-policy[a]-rule[1]");
    const d = pol("d", "DENY", [{ from: [{ source: { ipBlocks: ["bad", "10.9.0.0/16"] } }] }]);
    assert.equal(ev([d]).decision, "ALLOW");
    const d2 = pol("d", "DENY", [{ from: [{ source: { ipBlocks: ["bad"] } }] }]);
    assert.equal(ev([d2]).decision, "DENY");
  });
  test("an unknown when key skips the rule for every action", () => {
    const d = pol("d", "DENY", [{ when: [{ key: "destination.namespace", values: ["default"] }] }, {}]);
    assert.equal(ev([d]).policy, "ns[default]-policy[d]-rule[1]");
  });
  test("ipBlocks use the direct peer, remoteIpBlocks the remote address", () => {
    const d = pol("d", "DENY", [{ from: [{ source: { ipBlocks: ["1.1.1.0/24"] } }] }]);
    assert.equal(ev([d], { source_ip: "1.1.1.9", remote_ip: "2.2.2.2" }).decision, "DENY");
    assert.equal(ev([d], { source_ip: "2.2.2.2", remote_ip: "1.1.1.9" }).decision, "ALLOW");
    const r = pol("r", "DENY", [{ from: [{ source: { remoteIpBlocks: ["1.1.1.0/24"] } }] }]);
    assert.equal(ev([r], { source_ip: "2.2.2.2", remote_ip: "1.1.1.9" }).decision, "DENY");
  });
});

describe("effective id (spec §7.3)", () => {
  test("rule[10] is reported before rule[2] when both match", () => {
    const rules: Rule[] = Array.from({ length: 11 }, (_, i) =>
      i === 2 || i === 10 ? {} : { to: [{ operation: { paths: ["/nope"] } }] },
    );
    assert.equal(ev([pol("many", "DENY", rules)]).policy, "ns[default]-policy[many]-rule[10]");
  });
  test("ids sort across policies and namespaces", () => {
    const d = ev([
      pol("z", "DENY", [{}]),
      pol("a", "DENY", [{}], {}, { namespace: "istio-system" }),
    ]);
    assert.equal(d.policy, "ns[default]-policy[z]-rule[0]");
  });
});

describe("JWT and trust domains in decisions", () => {
  test("requestPrincipals and nested claims", () => {
    const a = pol("a", "ALLOW", [
      { from: [{ source: { requestPrincipals: ["https://issuer.example/123"] } }], when: [{ key: "request.auth.claims[nested][key]", values: ["v*"] }] },
    ]);
    const jwt = { iss: "https://issuer.example", sub: "123", nested: { key: "value" } };
    assert.equal(ev([a], { jwt }).decision, "ALLOW");
    assert.equal(ev([a], { jwt: { ...jwt, nested: { key: "x" } } }).decision, "DENY");
    assert.equal(ev([a], { jwt: null }).decision, "DENY");
  });
  test("principals follow trust-domain aliases", () => {
    const a = pol("a", "ALLOW", [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/frontend"] } }] }]);
    const td1 = { ...MESH, trustDomain: "td1" };
    assert.equal(ev([a], { source_principal: "spiffe://td1/ns/default/sa/frontend" }, td1).decision, "ALLOW");
    assert.equal(ev([a], {}, td1).decision, "DENY");
    assert.equal(ev([a], {}, { ...td1, trustDomainAliases: ["cluster.local"] }).decision, "ALLOW");
  });
});

describe("meshauthz's documented fail-safe deviation: direct peer IP unknown (blob-format §3.3)", () => {
  const XFF = { headers: { "X-Forwarded-For": "203.0.113.9" }, remote_ip: "203.0.113.9" };
  const ip = (action: Action, source: Record<string, string[]>, dry = false) =>
    pol(`p-${action.toLowerCase()}`, action, [{ from: [{ source }] }], {}, dry ? { annotations: { "istio.io/dry-run": "true" } } : {});
  const unk = (ps: AuthorizationPolicy[], req: Partial<CaseRequest> = XFF) =>
    evaluateReference(ps, WL, { ...REQ, ...req }, MESH, { directPeerIpUnknown: true });

  test("without the option the direct peer IP is matched as Istio does, even with XFF", () => {
    assert.equal(ev([ip("ALLOW", { ipBlocks: ["10.0.0.0/8"] })], XFF).decision, "ALLOW");
    assert.equal(ev([ip("DENY", { ipBlocks: ["192.168.0.0/16"] })], XFF).decision, "ALLOW");
  });
  test("ALLOW and AUDIT: an UNKNOWN rule does not match; DENY: it matches (both ipBlocks and notIpBlocks)", () => {
    assert.deepEqual(unk([ip("ALLOW", { ipBlocks: ["10.0.0.0/8"] })]), { decision: "DENY", policy: "none", audit: false, shadow: {} });
    assert.equal(unk([ip("ALLOW", { notIpBlocks: ["192.168.0.0/16"] })]).decision, "DENY");
    assert.equal(unk([ip("DENY", { ipBlocks: ["192.168.0.0/16"] })]).policy, "ns[default]-policy[p-deny]-rule[0]");
    assert.equal(unk([ip("DENY", { notIpBlocks: ["10.0.0.0/8"] })]).decision, "DENY");
    assert.equal(unk([ip("AUDIT", { ipBlocks: ["10.0.0.0/8"] })]).audit, false);
    assert.equal(ev([ip("AUDIT", { ipBlocks: ["10.0.0.0/8"] })]).audit, true);
  });
  test("Kleene logic: a false conjunct decides, a true disjunct decides, remoteIpBlocks stays two-valued", () => {
    // UNKNOWN AND false = false: the DENY rule does not match.
    const denyAnd = pol("d", "DENY", [{ from: [{ source: { ipBlocks: ["1.2.3.4"], principals: ["nobody"] } }] }]);
    assert.equal(unk([denyAnd]).decision, "ALLOW");
    // UNKNOWN OR true = true: the ALLOW rule matches through its second source.
    const allowOr = pol("a", "ALLOW", [{ from: [{ source: { ipBlocks: ["10.0.0.1"] } }, { source: { namespaces: ["default"] } }] }]);
    assert.equal(unk([allowOr]).policy, "ns[default]-policy[a]-rule[0]");
    // remote.ip is the XFF address, known.
    const remote = pol("r", "ALLOW", [{ when: [{ key: "remote.ip", values: ["203.0.113.0/24"] }] }]);
    assert.equal(unk([remote]).decision, "ALLOW");
    // source.ip in `when` is the direct peer too.
    const srcIp = pol("s", "DENY", [{ when: [{ key: "source.ip", notValues: ["10.0.0.1"] }] }]);
    assert.equal(ev([srcIp], XFF).decision, "ALLOW");
    assert.equal(unk([srcIp]).decision, "DENY");
  });
  test("shadow engines follow their action", () => {
    const d = unk([ip("DENY", { ipBlocks: ["1.1.1.1"] }, true), ip("ALLOW", { ipBlocks: ["10.0.0.1"] }, true)]);
    assert.deepEqual(d.shadow, {
      deny: { result: "denied", policy: "ns[default]-policy[p-deny]-rule[0]" },
      allow: { result: "denied", policy: null },
    });
    assert.equal(d.decision, "ALLOW");
  });
  test("carriesForwardedFor: any case, any value", async () => {
    const { carriesForwardedFor } = await import("./evaluate.ts");
    assert.equal(carriesForwardedFor({ headers: { "x-FORWARDED-for": "" } }), true);
    assert.equal(carriesForwardedFor({ headers: { "x-forwarded-host": "a" } }), false);
    assert.equal(carriesForwardedFor({}), false);
  });
});

test("a gRPC request carries content-type application/grpc unless the case sets one", () => {
  const p = pol("g", "ALLOW", [{ when: [{ key: "request.headers[content-type]", values: ["application/grpc"] }] }]);
  assert.equal(ev([p], { protocol: "GRPC" }).decision, "ALLOW");
  assert.equal(ev([p], { protocol: "GRPC", headers: { "Content-Type": "application/grpc+proto" } }).decision, "DENY");
  assert.equal(ev([p], { protocol: "HTTP" }).decision, "DENY");
});
