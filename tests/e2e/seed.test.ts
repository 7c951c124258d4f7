// The tutorial's scenario, as Istio decides it, through the real filter.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readCaseFile } from "../../tools/cases/case-file.ts";
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

test("each seed case tests what its id says: its request is frontend's GET /api/v1/data with only the named attribute changed", () => {
  const file = readCaseFile("deploy/examples/seed/seed-cases.yaml");
  const byId = new Map(file.cases!.map((c) => [c.id, c.request as Record<string, unknown>]));
  const base = byId.get("seed-allow-only/frontend-get-data")!;
  assert.equal(base.source_principal, "spiffe://cluster.local/ns/default/sa/frontend");
  const changed = (id: string) => {
    const r = byId.get(id)!;
    return Object.keys({ ...base, ...r }).filter((k) => JSON.stringify(r[k]) !== JSON.stringify(base[k])).sort();
  };
  for (const prefix of ["seed-allow-only", "seed-with-deny-all"]) {
    assert.deepEqual(changed(`${prefix}/frontend-post-data`), ["method"]);
    assert.deepEqual(changed(`${prefix}/frontend-get-other`), ["path"]);
    assert.deepEqual(changed(`${prefix}/other-service-get-data`), ["source_ip", "source_principal"]);
  }
  assert.deepEqual(changed("seed-allow-only/frontend-is-not-selected"), ["host", "sni"]);
  // ... and the allowed request, checked through the .wasm, is allowed: the denials above are the named attribute's.
  const f = tempFile("seed-base.yaml", `workload: {namespace: default, labels: {app: backend}}\nrequest: ${JSON.stringify(base)}\n`);
  const r = meshauthz(["check", "--policies", "deploy/examples/seed/manifests/allow-frontend-get-data.yaml", "--request", f, "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(lastJsonLine(r.stdout).decision, "ALLOW");
});
