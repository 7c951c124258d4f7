// meshauthz package on a large mesh (issue 8): 10,000 policies in 500 namespaces used to crash in
// the YAML writer ("RangeError: Maximum call stack size exceeded", tools/package/yaml-writer.ts).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as yaml from "js-yaml";
import { meshPolicies } from "../../tools/bench/mesh-policies.ts";
import { meshauthz, tempFile } from "./cli-runner.ts";

test("package writes 10,000 policies in 500 namespaces", () => {
  const policies = meshPolicies(10_000).map((p, i) =>
    p.metadata.namespace === "istio-system" ? p : { ...p, metadata: { ...p.metadata, namespace: `ns-${i % 500}` } },
  );
  assert.equal(new Set(policies.map((p) => p.metadata.namespace).filter((ns) => ns !== "istio-system")).size, 500);
  const input = tempFile("mesh-10k.yaml", policies.map((p) => yaml.dump(p)).join("---\n"));
  const output = tempFile("mesh-10k-wasmplugin.yaml", "");
  const r = meshauthz(["package", input, "--url", `oci://registry.example.com/meshauthz@sha256:${"d".repeat(64)}`, "-o", output]);
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  assert.doesNotMatch(r.stderr, /internal error/);
  const docs = yaml.loadAll(readFileSync(output, "utf8")) as any[];
  const plugins = docs.filter((d) => d?.kind === "WasmPlugin");
  assert.ok(plugins.length >= 1);
  for (const plugin of plugins) {
    const blob = Buffer.from(plugin.spec.pluginConfig.policy, "base64");
    assert.equal(blob.subarray(0, 4).toString("latin1"), "MAZB");
  }
});
