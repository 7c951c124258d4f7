// meshauthz explain: the decision, the applicable policies, the field that failed with the
// request's value, and why each other policy does not apply, all checked against the real filter.
import assert from "node:assert/strict";
import { test } from "node:test";
import { lastJsonLine, meshauthz, tempFile } from "./cli-runner.ts";

const request = (method: string, labels = "{app: backend}") => `workload: {namespace: default, labels: ${labels}}
request:
  method: ${method}
  path: /api/v1/data?page=2
  host: backend.default.svc.cluster.local
  source_principal: spiffe://cluster.local/ns/default/sa/frontend
`;

test("explain names the deciding DENY rule, the ALLOW field that fails and the request's value", () => {
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
  const failed = allow.rules[0].parts[1];
  assert.equal(failed.attribute, "request.method");
  assert.equal(failed.value, "POST");
  const text = meshauthz(["explain", "--policies", "deploy/examples/seed/manifests", "--request", tempFile("post.yaml", request("POST"))]);
  assert.match(text.stdout, /FAIL to\[0\]\.operation\.methods: request\.method = "POST" does not match \["GET"\]/);
});

const OTHERS = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: mesh-deny-debug, namespace: istio-system}
spec:
  action: DENY
  rules: [{to: [{operation: {paths: ["/debug/*"]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-callers, namespace: default}
spec:
  selector: {matchLabels: {app: backend}}
  rules:
  - from: [{source: {principals: ["cluster.local/ns/default/sa/other"]}}]
    when: [{key: "request.headers[x-tenant]", values: ["acme"]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: other-ns, namespace: payments}
spec: {rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: other-app, namespace: default}
spec: {selector: {matchLabels: {app: frontend}}, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: needs-version, namespace: istio-system}
spec: {selector: {matchLabels: {version: v2}}, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: waypoint, namespace: default}
spec:
  targetRefs: [{kind: Service, group: "", name: backend}]
  rules: [{}]
`;

test("explain prints the applicable policies and one line for the rest; --all and -o json say why each does not apply", () => {
  const policies = tempFile("others.yaml", OTHERS);
  const req = tempFile("get.yaml", request("GET"));
  const r = meshauthz(["explain", "--policies", policies, "--request", req]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^DENY \(403\) by none/);
  assert.match(r.stdout, /Policies that apply to this workload \(2 of 6\)/);
  assert.match(r.stdout, /FAIL from\[0\]\.source\.principals: source\.principal = "spiffe:\/\/cluster\.local\/ns\/default\/sa\/frontend" does not match \["cluster\.local\/ns\/default\/sa\/other"\]/);
  assert.match(r.stdout, /FAIL when\[0\] \(request\.headers\[x-tenant\]\): request\.headers\[x-tenant\] is absent; fails values \["acme"\]/);
  // The mesh-wide DENY tests the path without its query.
  assert.match(r.stdout, /FAIL to\[0\]\.operation\.paths: request\.path = "\/api\/v1\/data" does not match \["\/debug\/\*"\]/);
  assert.match(r.stdout, /^4 other policies do not apply to this workload \(1 by namespace, 2 by selector, 1 by targetRef\); --all says why for each\.$/m);
  assert.doesNotMatch(r.stdout, /other-ns|other-app|needs-version|waypoint/);

  const all = meshauthz(["explain", "--all", "--policies", policies, "--request", req]);
  assert.equal(all.status, 0, all.stderr);
  assert.match(all.stdout, /payments\/other-ns: namespace "payments" is neither the workload's namespace "default" nor the root namespace "istio-system"/);
  assert.match(all.stdout, /default\/other-app: selector app=frontend does not match the workload's label app=backend/);
  assert.match(all.stdout, /istio-system\/needs-version: selector version=v2: the workload has no label "version"/);
  assert.match(all.stdout, /default\/waypoint: targetRefs? Service\/backend: attaches to gateways\/waypoints, never to a sidecar/);

  const json = lastJsonLine(meshauthz(["explain", "-o", "json", "--policies", policies, "--request", req]).stdout);
  assert.equal(json.policies.length, 6);
  assert.deepEqual(
    json.policies.filter((p: any) => !p.applies).map((p: any) => [p.policy, p.notApplicable.kind]),
    [["payments/other-ns", "namespace"], ["default/other-app", "selector"], ["istio-system/needs-version", "selector"], ["default/waypoint", "targetRef"]],
  );
});

test("explain for a workload no policy applies to", () => {
  const r = meshauthz(["explain", "--policies", "deploy/examples/seed/manifests", "--request", tempFile("fe.yaml", request("GET", "{app: frontend}"))]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ALLOW \(200\) \(no enforced ALLOW policy applies\)/);
  assert.match(r.stdout, /Policies that apply to this workload \(0 of 2\)/);
  assert.match(r.stdout, /2 other policies do not apply to this workload \(2 by selector\)/);
});
