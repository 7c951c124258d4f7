// parse + validate together: validation diagnostics carry file:line:col of the offending node.

import { test } from "node:test";
import assert from "node:assert/strict";
import { loadPolicyText } from "../../tools/parse/index.ts";
import { validatePolicy } from "../../tools/validate/index.ts";
import { formatDiagnostic } from "../../tools/model/diagnostic.ts";

const TEXT = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-admin
  namespace: shop
  annotations:
    istio.io/dry-run: "false"
spec:
  action: DENY
  rules:
  - from:
    - source:
        principal: ["cluster.local/ns/shop/sa/x"]
        ipBlocks: ["10.0.0.1", "10.0.0.300"]
    to:
    - operation:
        ports: [8080]
        paths: ["/admin/{**}/x/{*}"]
    when:
    - key: destination.labels[app]
      values: ["web"]
`;

test("validation diagnostics are located in the source file", () => {
  const r = loadPolicyText(TEXT, "policies/deny.yaml");
  assert.equal(r.diagnostics.length, 0);
  const p = r.policies[0];
  const lines = validatePolicy(p.policy, { locate: p.locate, file: p.file }).map(formatDiagnostic);
  const expected = [
    'policies/deny.yaml:13:9: error: shop/deny-admin: spec.rules[0].from[0].source.principal: unknown field "spec.rules[0].from[0].source.principal" (did you mean "principals"?)',
    'policies/deny.yaml:17:17: error: shop/deny-admin: spec.rules[0].to[0].operation.ports[0]: Invalid value: "integer": must be of type string: "integer"',
    "policies/deny.yaml:14:32: error: shop/deny-admin: spec.rules[0].from[0].source.ipBlocks[1]: bad IP address (10.0.0.300)",
    "policies/deny.yaml:18:17: error: shop/deny-admin: spec.rules[0].to[0].operation.paths[0]: invalid or unsupported path admin/{**}/x/{*}, found in Paths. {**} is not the last operator",
    "policies/deny.yaml:20:7: error: shop/deny-admin: spec.rules[0].when[0].key: invalid `value` for `key` destination.labels[app]: attribute destination.labels[app] is replaced by the workload selector",
  ];
  for (const e of expected) assert.ok(lines.includes(e), `missing:\n${e}\nin:\n${lines.join("\n")}`);
  assert.equal(lines.length, expected.length, lines.join("\n"));
});

test("without locate, diagnostics fall back to the file", () => {
  const r = loadPolicyText(TEXT, "x.yaml");
  const ds = validatePolicy(r.policies[0].policy, { file: "x.yaml" });
  assert.ok(ds.length > 0);
  for (const d of ds) assert.deepEqual(d.location, { file: "x.yaml", line: 1, column: 1 });
  assert.ok(validatePolicy(r.policies[0].policy).every((d) => d.location === undefined));
});

test("a clean policy from YAML validates without diagnostics", () => {
  const r = loadPolicyText(
    `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: ok}
spec:
  selector: {matchLabels: {app: web}}
  rules:
  - to: [{operation: {ports: ["8080"], methods: [GET]}}]
    when: [{key: "request.auth.claims[groups]", values: [admins]}]
`,
    "ok.yaml",
  );
  assert.equal(r.policies[0].namespaceDefaulted, true);
  assert.deepEqual(validatePolicy(r.policies[0].policy, { locate: r.policies[0].locate }), []);
});
