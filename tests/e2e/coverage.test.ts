// `meshauthz coverage`: rules exercised, never matched, never deciding; text, JSON, lcov.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { lastJsonLine, meshauthz, REPO, tempFile } from "./cli-runner.ts";

const POLICIES = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: shop}
spec:
  action: DENY
  rules:
  - to: [{operation: {paths: ["/admin*"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-web, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  rules:
  - from: [{source: {principals: ["cluster.local/ns/shop/sa/web"]}}]
    to: [{operation: {methods: ["GET"]}}]
  - from: [{source: {principals: ["cluster.local/ns/shop/sa/web"]}}]
    to: [{operation: {paths: ["/admin/stats"]}}]
  - from: [{source: {principals: ["cluster.local/ns/shop/sa/batch"]}}]
`;

const CASES = `cases:
- id: web-get
  workload: {namespace: shop, labels: {app: cart}}
  request: {method: GET, path: /items, source_principal: spiffe://cluster.local/ns/shop/sa/web}
  expected: {decision: ALLOW}
- id: web-admin
  workload: {namespace: shop, labels: {app: cart}}
  request: {method: POST, path: /admin/stats, source_principal: spiffe://cluster.local/ns/shop/sa/web}
  expected: {decision: DENY}
- id: own-policies
  policies: []
  workload: {namespace: shop, labels: {app: cart}}
  request: {method: GET, path: /}
  expected: {decision: ALLOW}
`;

test("coverage tells rules that decide, rules shadowed by another, and rules no case reaches", () => {
  const policies = tempFile("cov-policies.yaml", POLICIES);
  const cases = tempFile("cov-cases.yaml", CASES);
  const r = meshauthz(["coverage", "--policies", policies, cases, "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const report = lastJsonLine(r.stdout);
  assert.equal(report.cases, 2);
  assert.equal(report.skipped.length, 1);
  const byId = Object.fromEntries(report.rules.map((x: { id: string }) => [x.id, x]));
  assert.equal(byId["ns[shop]-policy[deny-admin]-rule[0]"].status, "decides");
  assert.equal(byId["ns[shop]-policy[allow-web]-rule[0]"].status, "decides");
  // /admin/stats is allowed by rule[1] on paper, but deny-admin decides first: shadowed.
  assert.equal(byId["ns[shop]-policy[allow-web]-rule[1]"].status, "never-decides");
  assert.deepEqual(byId["ns[shop]-policy[allow-web]-rule[1]"].decidedInstead, ["ns[shop]-policy[deny-admin]-rule[0]"]);
  assert.equal(byId["ns[shop]-policy[allow-web]-rule[2]"].status, "never-matched");
  assert.equal(byId["ns[shop]-policy[allow-web]-rule[2]"].line, 19);
});

test("coverage writes lcov and gates on --fail-under", () => {
  const policies = tempFile("cov-policies2.yaml", POLICIES);
  const cases = tempFile("cov-cases2.yaml", CASES);
  const lcov = tempFile("cov.lcov", "");
  const r = meshauthz(["coverage", "--policies", policies, cases, "--lcov", lcov]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /4 rule\(s\): 3 matched \(75\.0%\), 2 decide \(50\.0%\), 1 never decide, 1 never matched/);
  const trace = readFileSync(lcov, "utf8");
  assert.match(trace, /^SF:.*cov-policies2\.yaml$/m);
  assert.match(trace, /^DA:19,0$/m);
  assert.match(trace, /^LF:4\nLH:3\nend_of_record$/m);
  assert.equal(meshauthz(["coverage", "--policies", policies, cases, "--fail-under", "75"]).status, 0);
  const under = meshauthz(["coverage", "--policies", policies, cases, "--fail-under", "100"]);
  assert.equal(under.status, 1);
  assert.match(under.stderr, /75\.0% of rules matched by a case, under --fail-under 100/);
});

const SEED_CASES = `cases:
- id: frontend-get-data
  workload: {namespace: default, labels: {app: backend}}
  request: {method: GET, path: /api/v1/data, source_principal: spiffe://cluster.local/ns/default/sa/frontend}
  expected: {decision: DENY}
`;

test("coverage of the seed: the ALLOW rule matches but never decides while deny-all-backend is active", () => {
  const r = meshauthz(["coverage", "--policies", join(REPO, "deploy/examples/seed/manifests"), tempFile("seed-cov.yaml", SEED_CASES), "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const byId = Object.fromEntries(lastJsonLine(r.stdout).rules.map((x: { id: string }) => [x.id, x]));
  assert.equal(byId["ns[default]-policy[allow-frontend-get-data]-rule[0]"].status, "never-decides");
  assert.equal(byId["ns[default]-policy[deny-all-backend]-rule[0]"].status, "decides");
});

test("cases that name their policy_files measure those policies", () => {
  const r = meshauthz(["coverage", "--policies", join(REPO, "deploy/examples/seed/manifests"), join(REPO, "deploy/examples/seed/seed-cases.yaml"), "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const report = lastJsonLine(r.stdout);
  assert.equal(report.skipped.length, 0);
  assert.ok(report.cases > 0);
  // seed-allow-only lets the ALLOW rule decide; with deny-all-backend it never can.
  for (const rule of report.rules) assert.equal(rule.status, "decides", JSON.stringify(rule));
});

test("CUSTOM rules: the provider answers the case's ext_authz_decision; a provider denial is the CUSTOM rule deciding", () => {
  const policies = tempFile(
    "cov-custom.yaml",
    `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext, namespace: shop}
spec:
  action: CUSTOM
  provider: {name: authz}
  rules: [{to: [{operation: {paths: ["/admin*"]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-put, namespace: shop}
spec:
  action: DENY
  rules: [{to: [{operation: {methods: ["PUT"]}}]}]
`,
  );
  const cases = tempFile(
    "cov-custom-cases.yaml",
    `cases:
- id: provider-denies
  workload: {namespace: shop, labels: {app: cart}}
  request: {method: GET, path: /admin/x, host: cart.shop, ext_authz_decision: deny}
  expected: {decision: DENY, decided_by: "ext_authz(ns[shop]-policy[ext]-rule[0])"}
- id: provider-allows-deny-decides
  workload: {namespace: shop, labels: {app: cart}}
  request: {method: PUT, path: /admin/y, host: cart.shop, ext_authz_decision: allow}
  expected: {decision: DENY}
`,
  );
  const r = meshauthz(["coverage", "--policies", policies, cases, "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const byId = Object.fromEntries(lastJsonLine(r.stdout).rules.map((x: { id: string }) => [x.id, x]));
  assert.equal(byId["ns[shop]-policy[ext]-rule[0]"].matched, 2);
  assert.equal(byId["ns[shop]-policy[ext]-rule[0]"].decided, 1);
  assert.equal(byId["ns[shop]-policy[deny-put]-rule[0]"].decided, 1);
});

test("a DENY rule with HTTP fields that decides a TCP connection is covered (on TCP it loses those fields and matches)", () => {
  const policies = tempFile(
    "cov-tcp.yaml",
    `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-get, namespace: foo}
spec:
  action: DENY
  rules:
  - to: [{operation: {methods: ["GET"], ports: ["5432"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-get, namespace: foo}
spec:
  rules:
  - to: [{operation: {methods: ["GET"]}}]
`,
  );
  const cases = tempFile(
    "cov-tcp-cases.yaml",
    `cases:
- id: conn
  workload: {namespace: foo, labels: {app: db}}
  request: {protocol: TCP, destination_port: 5432}
  expected: {decision: DENY}
`,
  );
  const r = meshauthz(["coverage", "--policies", policies, cases, "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const byId = Object.fromEntries(lastJsonLine(r.stdout).rules.map((x: { id: string }) => [x.id, x]));
  assert.equal(byId["ns[foo]-policy[deny-get]-rule[0]"].status, "decides");
  assert.equal(byId["ns[foo]-policy[deny-get]-rule[0]"].matched, 1);
  // The ALLOW rule is dropped on TCP chains: it matches no connection.
  assert.equal(byId["ns[foo]-policy[allow-get]-rule[0]"].status, "never-matched");
});

test("coverage with no rule to measure fails, even under --fail-under 100, unless --allow-empty", () => {
  const notPolicies = join(REPO, "deploy/examples/seed/manifests/backend-deployment.yaml");
  const cases = join(REPO, "deploy/examples/seed/seed-cases.yaml");
  const r = meshauthz(["coverage", "--policies", notPolicies, cases, "--fail-under", "100"]);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /has no AuthorizationPolicy rule to measure \(--allow-empty accepts this\)/);
  assert.equal(meshauthz(["coverage", "--policies", notPolicies, cases, "--allow-empty"]).status, 0);
});
