// The tutorial's scenario, as Istio decides it, through the real filter.
import assert from "node:assert/strict";
import { test } from "node:test";
import { lastJsonLine, meshauthz, tempFile } from "./cli-runner.ts";

test("seed case file passes through the .wasm", () => {
  const r = meshauthz(["test", "deploy/examples/seed/seed-cases.yaml", "-o", "json"]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const report = lastJsonLine(r.stdout);
  assert.equal(report.failed, 0);
  assert.equal(report.skipped, 0);
  assert.equal(report.passed, report.total);
  assert.ok(report.total >= 8);
  const getData = report.results.find((x: any) => x.id === "seed-with-deny-all/frontend-get-data");
  assert.deepEqual(
    { decision: getData.actual.decision, status: getData.actual.status, by: getData.actual.decided_by },
    { decision: "DENY", status: 403, by: "ns[default]-policy[deny-all-backend]-rule[0]" },
  );
});

test("lint tells the user that DENY wins over the seed's ALLOW", () => {
  const r = meshauthz(["lint", "deploy/examples/seed/manifests", "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const out = lastJsonLine(r.stdout);
  const f = out.findings.find((x: any) => x.code === "deny-shadows-allow");
  assert.ok(f, JSON.stringify(out));
  assert.equal(f.policy, "default/allow-frontend-get-data");
  assert.match(f.message, /deny-all-backend/);
  assert.match(f.message, /DENY before ALLOW/);
});

test("a wrong expectation fails the run with exit 1", () => {
  const cases = `
cases:
- id: wrong
  policies:
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: deny-all, namespace: default}
    spec: {action: DENY, rules: [{}]}
  workload: {namespace: default}
  request: {method: GET, path: /, host: x}
  expected: {decision: ALLOW}
`;
  const r = meshauthz(["test", tempFile("wrong-cases.yaml", cases), "-o", "json"]);
  assert.equal(r.status, 1);
  const report = lastJsonLine(r.stdout);
  assert.equal(report.failed, 1);
  assert.match(report.results[0].reason, /decision DENY, expected ALLOW/);
});
