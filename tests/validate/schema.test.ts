// CRD structural schema and API-server object checks.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ap, assertError, assertValid, diagnostics, rule } from "./helpers.ts";

describe("unknown fields (strict decoding)", () => {
  test("a misspelled field is an error naming the field, with a suggestion", () => {
    const ds = assertError(
      rule({ from: [{ source: { principal: ["a"] } }] }),
      "spec.rules[0].from[0].source.principal",
      'unknown field "spec.rules[0].from[0].source.principal"',
    );
    assert.ok(ds.some((d) => d.message.includes('did you mean "principals"?')));
  });

  test("at every level", () => {
    assertError(ap({ rule: [] }), "spec.rule", 'unknown field "spec.rule"');
    assertError(ap({ selector: { labels: { a: "b" } } }), "spec.selector.labels", "unknown field");
    assertError(rule({ to: [{ operation: { method: ["GET"] } }] }), "spec.rules[0].to[0].operation.method", 'did you mean "methods"?');
    assertError(rule({ to: [{ operations: { methods: ["GET"] } }] }), "spec.rules[0].to[0].operations", "unknown field");
    assertError(rule({ when: [{ key: "source.ip", value: ["1.1.1.1"] }] }), "spec.rules[0].when[0].value", "unknown field");
    assertError(rule({ form: [{ source: { principals: ["a"] } }] }), "spec.rules[0].form", 'did you mean "from"?');
    assertError(ap({ targetRef: { kind: "Service", name: "s", port: 80 } }), "spec.targetRef.port", "unknown field");
    assertError(ap({ provider: { name: "x", kind: "y" }, action: "CUSTOM", rules: [{}] }), "spec.provider.kind", "unknown field");
    assertError({ ...ap({}), extra: 1 }, "extra", 'unknown field "extra"');
    assertError(ap({}, { labelz: { a: "b" } }), "metadata.labelz", "unknown field");
  });

  test("field names are case-sensitive and proto names are not accepted", () => {
    assertError(rule({ from: [{ source: { Principals: ["a"] } }] }), "spec.rules[0].from[0].source.Principals", "unknown field");
    assertError(rule({ from: [{ source: { not_principals: ["a"] } }] }), "spec.rules[0].from[0].source.not_principals", "unknown field");
  });

  test("kubectl get -o yaml fields are accepted", () => {
    assertValid({
      ...ap({ rules: [{}] }, {
        uid: "1",
        resourceVersion: "2",
        generation: 3,
        creationTimestamp: "2024-01-01T00:00:00Z",
        managedFields: [{ manager: "kubectl" }],
        labels: { app: "x" },
        annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" },
      }),
      status: { anything: true },
    });
  });
});

describe("types", () => {
  test("unquoted ports are integers, not strings", () => {
    assertError(rule({ to: [{ operation: { ports: [8080] } }] }), "spec.rules[0].to[0].operation.ports[0]", 'Invalid value: "integer": must be of type string: "integer"');
  });
  test("wrong container types", () => {
    assertError(rule({ from: [{ source: { principals: "a" } }] }), "spec.rules[0].from[0].source.principals", 'must be of type array: "string"');
    assertError(ap({ rules: {} }), "spec.rules", 'must be of type array: "object"');
    assertError(ap([]), "spec", 'must be of type object: "array"');
    assertError(ap({ selector: { matchLabels: ["a"] } }), "spec.selector.matchLabels", "must be of type object");
    assertError(ap({ selector: { matchLabels: { version: 1.5 } } }), "spec.selector.matchLabels.version", 'Invalid value: "number"');
    assertError(rule({ when: [{ key: true, values: ["x"] }] }), "spec.rules[0].when[0].key", 'Invalid value: "boolean"');
    assertError(ap({ rules: ["x"] }), "spec.rules[0]", "must be of type object");
  });
  test("annotation and label values must be strings (unquoted true is a boolean)", () => {
    assertError(ap({}, { annotations: { "istio.io/dry-run": true } }), "metadata.annotations[istio.io/dry-run]", 'Invalid value: "boolean"');
    assertError(ap({}, { labels: { a: 1 } }), "metadata.labels.a", 'Invalid value: "integer"');
  });
  test("null fields are pruned (treated as absent)", () => {
    assertValid(ap({ rules: [{ from: null, to: null, when: null }], selector: null, targetRef: null, provider: null }));
    assertValid(rule({ from: [{ source: { principals: ["a"], namespaces: null } }] }));
  });
});

describe("enum, limits, patterns, CEL", () => {
  test("action enum", () => {
    assertError(ap({ action: "allow", rules: [{}] }), "spec.action", 'Unsupported value: "allow": supported values: "ALLOW", "DENY", "AUDIT", "CUSTOM"');
    assertError(ap({ action: "", rules: [{}] }), "spec.action", "Unsupported value");
    for (const a of ["ALLOW", "DENY", "AUDIT"]) assertValid(ap({ action: a, rules: [{}] }));
  });
  test("maxItems: rules and from 512, targetRefs 16", () => {
    assertError(ap({ rules: Array.from({ length: 513 }, () => ({})) }), "spec.rules", "Too many: 513: must have at most 512 items");
    assertValid(ap({ rules: Array.from({ length: 512 }, () => ({})) }));
    const froms = Array.from({ length: 513 }, () => ({ source: { principals: ["a"] } }));
    assertError(rule({ from: froms }), "spec.rules[0].from", "must have at most 512 items");
    const refs = Array.from({ length: 17 }, (_, i) => ({ kind: "Service", name: `s${i}` }));
    assertError(ap({ targetRefs: refs }), "spec.targetRefs", "must have at most 16 items");
  });
  test("matchLabels values at most 63 characters, at most 4096 labels", () => {
    assertError(ap({ selector: { matchLabels: { a: "x".repeat(64) } } }), "spec.selector.matchLabels.a", "Too long: may not be longer than 63");
    assertValid(ap({ selector: { matchLabels: { a: "x".repeat(63) } } }));
    const many: Record<string, string> = {};
    for (let i = 0; i < 4097; i++) many[`k${i}`] = "v";
    assertError(ap({ selector: { matchLabels: many } }), "spec.selector.matchLabels", "Too many: 4097");
  });
  test("targetRef kind and group patterns, kind required", () => {
    assertError(ap({ targetRef: { name: "s" } }), "spec.targetRef.kind", "Required value");
    assertError(ap({ targetRef: { kind: "9Service", name: "s" } }), "spec.targetRef.kind", "should match");
    assertError(ap({ targetRef: { group: "Gateway.Networking", kind: "Gateway", name: "s" } }), "spec.targetRef.group", "should match");
    assertError(ap({ targetRef: { kind: "Service", name: "x".repeat(254) } }), "spec.targetRef.name", "Too long");
  });
});

describe("object metadata (API server)", () => {
  test("name required and a DNS-1123 subdomain", () => {
    assertError({ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { namespace: "x" } }, "metadata.name", "Required value");
    assertError(ap({}, { name: "Bad_Name" }), "metadata.name", "a lowercase RFC 1123 subdomain");
    assertValid(ap({}, { name: "a.b-c" }));
  });
  test("namespace is a DNS-1123 label", () => {
    assertError(ap({}, { namespace: "Foo" }), "metadata.namespace", "a lowercase RFC 1123 label");
    assertError(ap({}, { namespace: "a.b" }), "metadata.namespace", "a lowercase RFC 1123 label");
  });
  test("label keys and values, annotation keys", () => {
    assertError(ap({}, { labels: { "bad key": "v" } }), "metadata.labels", "name part must consist of alphanumeric characters");
    assertError(ap({}, { labels: { a: "bad value!" } }), "metadata.labels.a", "a valid label must be an empty string");
    assertError(ap({}, { annotations: { "a/b/c": "v" } }), "metadata.annotations", "a qualified name must consist of");
    assertValid(ap({}, { labels: { "app.kubernetes.io/name": "x", empty: "" }, annotations: { "istio.io/dry-run": "false" } }));
  });
  test("apiVersion and kind", () => {
    assertError({ ...ap({}), apiVersion: "security.istio.io/v1alpha1" }, "apiVersion", "Unsupported value");
    assertError({ ...ap({}), kind: "PeerAuthentication" }, "kind", "must be AuthorizationPolicy");
    assertValid({ ...ap({}), apiVersion: "security.istio.io/v1beta1" });
  });
  test("not an object at all", () => {
    const ds = diagnostics("nope");
    assert.equal(ds.length, 1);
    assert.equal(ds[0].severity, "error");
  });
});
