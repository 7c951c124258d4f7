// meshauthz explain: the decision, the applicable policies, and the field that failed, all asked
// of the real filter.
import assert from "node:assert/strict";
import { test } from "node:test";
import { lastJsonLine, meshauthz, tempFile } from "./cli-runner.ts";

const request = (method: string, labels = "{app: backend}") => `workload: {namespace: default, labels: ${labels}}
request:
  method: ${method}
  path: /api/v1/data
  host: backend.default.svc.cluster.local
  source_principal: spiffe://cluster.local/ns/default/sa/frontend
`;

test("explain names the deciding DENY rule and the ALLOW field that fails", () => {
  const r = meshauthz(["explain", "--policies", "deploy/examples/seed/manifests", "--request", tempFile("post.yaml", request("POST")), "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const e = lastJsonLine(r.stdout);
  assert.equal(e.decision.decision, "DENY");
  assert.equal(e.decision.policy, "ns[default]-policy[deny-all-backend]-rule[0]");
  const allow = e.policies.find((p: any) => p.policy === "default/allow-frontend-get-data");
  assert.equal(allow.applies, true);
  assert.equal(allow.rules[0].matches, false);
  assert.deepEqual(
    allow.rules[0].parts.map((p: any) => [p.path, p.matches]),
    [["from[0].source.principals", true], ["to[0].operation.methods", false], ["to[0].operation.paths", true]],
  );
});

test("explain tells which policies do not apply to the workload", () => {
  const r = meshauthz(["explain", "--policies", "deploy/examples/seed/manifests", "--request", tempFile("fe.yaml", request("GET", "{app: frontend}"))]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ALLOW \(200\) \(no enforced ALLOW policy applies\)/);
  assert.match(r.stdout, /Policies that apply to this workload \(0 of 2\)/);
  assert.match(r.stdout, /DENY\s+default\/deny-all-backend/);
});
