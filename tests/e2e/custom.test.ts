// CUSTOM through the CLI: providers from --mesh-config or the istio ConfigMap among the inputs,
// istiod's warning for an undefined provider, and check/test/explain asking a real loopback provider.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lastJsonLine, meshauthz } from "./cli-runner.ts";

const dir = mkdtempSync(join(tmpdir(), "meshauthz-custom-"));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const policy = file("custom.yaml", `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext, namespace: foo}
spec:
  action: CUSTOM
  provider: {name: my-authz}
  rules: [{to: [{operation: {paths: ["/api/*"]}}]}]
`);
const configMap = file("istio-cm.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
    extensionProviders:
    - name: my-authz
      envoyExtAuthzGrpc: {service: authz.foo.svc.cluster.local, port: 9000, timeout: 5s}
`);
const request = (decision: string) =>
  file(`req-${decision}.yaml`, `workload: {namespace: foo, labels: {app: b}}\nrequest: {method: GET, path: /api/x, host: b, ext_authz_decision: ${decision}}\n`);

test("compile: an undefined provider warns in istiod's words; the ConfigMap or --mesh-config defines it", () => {
  const none = meshauthz(["compile", policy, "-o", join(dir, "a.blob")]);
  assert.equal(none.status, 0);
  assert.match(none.stderr, /CUSTOM provider "my-authz" cannot be resolved: no mesh config given/);
  const other = file("other.yaml", "extensionProviders:\n- name: other\n  envoyExtAuthzHttp: {service: o.foo.svc.cluster.local, port: 80}\n");
  const missing = meshauthz(["compile", policy, "--mesh-config", other, "-o", join(dir, "b.blob")]);
  assert.match(missing.stderr, /failed to process CUSTOM action for provider my-authz, will generate deny configs: available providers are \[other\] but found "my-authz"/);
  for (const args of [[policy, configMap], [policy, "--mesh-config", configMap]]) {
    const ok = meshauthz(["compile", ...args, "-o", join(dir, "c.blob")]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr, /warning/);
  }
  const bad = meshauthz(["compile", policy, "--mesh-config", join(dir, "nope.yaml"), "-o", join(dir, "d.blob")]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /cannot read mesh config/);
});

test("check and explain ask the (gRPC) provider, which answers ext_authz_decision", () => {
  const deny = meshauthz(["check", "--policies", policy, "--mesh-config", configMap, "--request", request("deny"), "-o", "json"]);
  assert.equal(deny.status, 0, deny.stderr);
  assert.deepEqual([lastJsonLine(deny.stdout).decision, lastJsonLine(deny.stdout).policy], ["DENY", "ext_authz(ns[foo]-policy[ext]-rule[0])"]);
  const allow = meshauthz(["check", "--policies", policy, "--policies", configMap, "--request", request("allow"), "-o", "json"]);
  assert.equal(lastJsonLine(allow.stdout).decision, "ALLOW");
  const explained = meshauthz(["explain", "--policies", policy, "--mesh-config", configMap, "--request", request("deny")]);
  assert.match(explained.stdout, /^DENY \(403\) by ext_authz\(ns\[foo\]-policy\[ext\]-rule\[0\]\)/);
});

test("test: CUSTOM cases run through the filter, none skipped", () => {
  const cases = file("cases.yaml", `cases:
- id: denied
  policy_files: [custom.yaml]
  workload: {namespace: foo, labels: {app: b}}
  request: {method: GET, path: /api/x, host: b, ext_authz_decision: deny}
  expected: {decision: DENY, decided_by: "ext_authz(ns[foo]-policy[ext]-rule[0])"}
- id: not-consulted
  policy_files: [custom.yaml]
  workload: {namespace: foo, labels: {app: b}}
  request: {method: GET, path: /health, host: b, ext_authz_decision: deny}
  expected: {decision: ALLOW}
`);
  const r = meshauthz(["test", cases, "--mesh-config", configMap]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /2 passed, 0 failed, 0 skipped/);
});
