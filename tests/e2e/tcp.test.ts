// check, explain and test with `protocol: TCP`: decided by the filter's network mode, with the rules
// as Istio builds them for TCP chains (docs/tcp.md).
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { lastJsonLine, meshauthz } from "./cli-runner.ts";

const dir = mkdtempSync(join(tmpdir(), "meshauthz-tcp-"));
const policies = join(dir, "policies.yaml");
writeFileSync(policies, `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: tcp-policy, namespace: foo}
spec:
  selector: {matchLabels: {app: tcp-echo}}
  action: ALLOW
  rules:
  - to: [{operation: {methods: ["GET"], ports: ["9000"]}}]
  - to: [{operation: {ports: ["9001"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: no-admin, namespace: foo}
spec:
  action: DENY
  rules:
  - from: [{source: {namespaces: ["admin"]}}]
    to: [{operation: {paths: ["/admin"]}}]
`);

function requestFile(name: string, port: number, principal: string, protocol = "TCP"): string {
  const path = join(dir, name);
  writeFileSync(path, `workload: {namespace: foo, labels: {app: tcp-echo}}
request: {protocol: ${protocol}, method: GET, path: /admin, source_principal: "${principal}", source_ip: 10.0.0.1, destination_port: ${port}}
`);
  return path;
}

test("check: a TCP request is a connection; ALLOW rules with HTTP fields are dropped, DENY rules lose them", () => {
  const sleep = "spiffe://cluster.local/ns/foo/sa/sleep";
  const dropped = meshauthz(["check", "--policies", policies, "--request", requestFile("a.yaml", 9000, sleep), "-o", "json"]);
  assert.equal(dropped.status, 0, dropped.stderr);
  assert.deepEqual(lastJsonLine(dropped.stdout), { decision: "DENY", status: 0, policy: "none", shadow: {}, audit: false });
  const http = meshauthz(["check", "--policies", policies, "--request", requestFile("b.yaml", 9000, sleep, "HTTP"), "-o", "json"]);
  assert.equal(lastJsonLine(http.stdout).decision, "ALLOW", "the same request over HTTP matches rule[0]");
  const other = meshauthz(["check", "--policies", policies, "--request", requestFile("c.yaml", 9001, sleep)]);
  assert.match(other.stdout, /^ALLOW \(connection\) by ns\[foo\]-policy\[tcp-policy\]-rule\[1\]/);
  const admin = meshauthz(["check", "--policies", policies, "--request", requestFile("d.yaml", 9001, "spiffe://cluster.local/ns/admin/sa/x")]);
  assert.match(admin.stdout, /^DENY \(connection closed\) by ns\[foo\]-policy\[no-admin\]-rule\[0\]/, "paths is left out of the DENY rule");
});

test("explain: a TCP request says how TCP chains translate the rules", () => {
  const r = meshauthz(["explain", "--policies", policies, "--request", requestFile("e.yaml", 9000, "spiffe://cluster.local/ns/foo/sa/sleep")]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^DENY \(connection closed\) by none/);
  assert.match(r.stdout, /A TCP connection: rules as Istio builds them for TCP chains/);
});

test("test: TCP cases run through the network mode and are never skipped", () => {
  const cases = join(dir, "cases.yaml");
  writeFileSync(cases, `meta: {root_namespace: istio-system, trust_domain: cluster.local}
cases:
  - id: tcp-dropped
    workload: {namespace: foo, labels: {app: tcp-echo}}
    request: {protocol: TCP, source_principal: "spiffe://cluster.local/ns/foo/sa/sleep", destination_port: 9000}
    expected: {decision: DENY, decided_by: none}
  - id: tcp-port
    workload: {namespace: foo, labels: {app: tcp-echo}}
    request: {protocol: TCP, source_principal: "spiffe://cluster.local/ns/foo/sa/sleep", destination_port: 9001}
    expected: {decision: ALLOW, decided_by: "ns[foo]-policy[tcp-policy]-rule[1]"}
`);
  const r = meshauthz(["test", cases, "--policies", policies, "-o", "json"]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const report = lastJsonLine(r.stdout);
  assert.equal(report.passed, 2);
  assert.equal(report.skipped, 0);
});
