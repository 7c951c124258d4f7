// The TCP projection (Istio builder.go BuildTCP, model.go Generate(forTCP) and checkError): what a
// rule becomes on a TCP filter chain, per action.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Attribute, type MatchNode } from "../../tools/compile/ir.ts";
import { compileRule, compileTcpRule } from "../../tools/compile/rule.ts";
import { TrustDomainBundle } from "../../tools/compile/matchers/trust-domain-bundle.ts";
import type { PolicyAction } from "../../tools/compile/ir.ts";
import type { Rule } from "../../tools/model/policy.ts";

const ctx = { policyNamespace: "foo", trustDomains: new TrustDomainBundle("cluster.local", []) };
const tcp = (rule: Rule, action: PolicyAction) => compileTcpRule(rule, ctx, "spec.rules[0]", action);

function attributes(n: MatchNode | null, out = new Set<Attribute>()): Set<Attribute> {
  if (n === null) return out;
  if (n.op === "leaf") out.add(n.leaf.attribute);
  else if (n.op === "not") attributes(n.child, out);
  else if (n.op === "and" || n.op === "or") n.children.forEach((c) => attributes(c, out));
  return out;
}

const HTTP_FIELDS: Rule[] = [
  { to: [{ operation: { methods: ["GET"] } }] },
  { to: [{ operation: { notPaths: ["/public"] } }] },
  { to: [{ operation: { hosts: ["a.example.com"] } }] },
  { from: [{ source: { requestPrincipals: ["iss/sub"] } }] },
  { when: [{ key: "request.headers[x-tenant]", values: ["acme"] }] },
  { when: [{ key: "request.auth.claims[groups]", notValues: ["guest"] }] },
  { when: [{ key: "request.auth.audiences", values: ["web"] }] },
  { when: [{ key: "request.auth.presenter", values: ["app"] }] },
  { when: [{ key: "request.auth.principal", values: ["iss/sub"] }] },
];

test("ALLOW: a rule with any HTTP-only field is dropped on TCP (null), whatever else it has", () => {
  for (const r of HTTP_FIELDS) {
    assert.equal(tcp({ ...r, from: [...(r.from ?? []), { source: { namespaces: ["foo"] } }] }, "ALLOW"), null, JSON.stringify(r));
  }
  assert.notEqual(tcp({ to: [{ operation: { ports: ["9000"] } }] }, "ALLOW"), null);
});

test("DENY, AUDIT, CUSTOM: the HTTP-only field is left out (values and notValues), the rest stays", () => {
  for (const action of ["DENY", "AUDIT", "CUSTOM"] as const) {
    for (const r of HTTP_FIELDS) assert.deepEqual(tcp(r, action), { op: "any" }, `${action} ${JSON.stringify(r)} matches every connection`);
    // namespaces ns-2 + requestPrincipals, ports 8080 + methods GET -> namespaces ns-2 AND port 8080 (golden deny-both-http-tcp rule[6]).
    const mixed = tcp({ from: [{ source: { namespaces: ["ns-2"], requestPrincipals: ["id-1"] } }], to: [{ operation: { ports: ["8080"], methods: ["GET"] } }] }, action)!;
    assert.deepEqual([...attributes(mixed)].sort(), [Attribute.PeerPrincipal, Attribute.DestinationPort].sort());
  }
});

test("fields TCP chains keep: identities, IPs, ports, destination, SNI, experimental metadata", () => {
  const rule: Rule = {
    from: [{ source: { principals: ["cluster.local/ns/a/sa/b"], ipBlocks: ["10.0.0.0/8"], remoteIpBlocks: ["10.0.0.1"] } }],
    to: [{ operation: { ports: ["9000"] } }],
    when: [
      { key: "destination.ip", values: ["10.1.0.0/16"] },
      { key: "connection.sni", values: ["*.local"] },
      { key: "experimental.envoy.filters.network.mx[peer]", values: ["x"] },
    ],
  };
  for (const action of ["ALLOW", "DENY"] as const) {
    assert.deepEqual(tcp(rule, action), compileRule(rule, ctx, "spec.rules[0]"), `${action}: same tree as for HTTP`);
  }
});

test("an unknown when key is still an error on TCP (the rule is skipped for every action)", () => {
  assert.throws(() => tcp({ when: [{ key: "destination.labels[app]", values: ["x"] }] }, "DENY"), /unknown attribute/);
});
