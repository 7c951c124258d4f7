// `meshauthz package` carries the filter's opt-in observability options into every WasmPlugin it
// writes (the delivery plan's namespace and root plugins, and the NETWORK plugin).
import assert from "node:assert/strict";
import { test } from "node:test";
import * as yaml from "js-yaml";
import { meshauthz } from "./cli-runner.ts";

const URL = `oci://registry.example.com/meshauthz@sha256:${"c".repeat(64)}`;

test("package --policy-counters/--decision-log/--deny-header reach every plugin's pluginConfig", () => {
  const r = meshauthz([
    "package", "deploy/examples/seed/manifests", "--url", URL,
    "--policy-counters", "policy", "--decision-log", "debug", "--deny-header",
    "--network", "--tcp-ports", "9000",
  ]);
  assert.equal(r.status, 0, r.stderr);
  const docs = yaml.loadAll(r.stdout).filter(Boolean) as Array<{ kind: string; spec: { pluginConfig: Record<string, unknown> } }>;
  assert.ok(docs.length >= 3, `expected namespace, root and network plugins, got ${docs.length}`);
  for (const d of docs) {
    assert.equal(d.kind, "WasmPlugin");
    assert.equal(d.spec.pluginConfig.policyCounters, "policy");
    assert.equal(d.spec.pluginConfig.decisionLog, "debug");
    assert.equal(d.spec.pluginConfig.denyHeader, true);
  }
});

test("without the flags the pluginConfigs carry no observability option", () => {
  const r = meshauthz(["package", "deploy/examples/seed/manifests", "--url", URL]);
  assert.equal(r.status, 0, r.stderr);
  for (const d of yaml.loadAll(r.stdout).filter(Boolean) as Array<{ spec: { pluginConfig: Record<string, unknown> } }>) {
    for (const k of ["policyCounters", "decisionLog", "denyHeader"]) assert.equal(k in d.spec.pluginConfig, false);
  }
  const bad = meshauthz(["package", "deploy/examples/seed/manifests", "--url", URL, "--policy-counters", "lots"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--policy-counters takes off, policy, rule/);
});
