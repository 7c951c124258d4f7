// deploy/: the generated WasmPlugins carry exactly what `meshauthz package` plans for their policies
// (regenerate them when this fails), are valid WasmPlugins, and the mesh-wide example decides as
// Istio on every kind of sidecar it reaches.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as yaml from "js-yaml";
import { loadPolicies } from "../../tools/parse/index.ts";
import { planDelivery } from "../../tools/package/plan.ts";
import { compileSources } from "../../tools/pipeline/policy-set.ts";
import { evaluateReference } from "../reference/evaluate.ts";
import { REPO } from "../e2e/cli-runner.ts";
import type { Workload } from "../../tools/model/case-file.ts";
import { schemaIssues } from "./crd.ts";
import { chainPlugins, decide, MESH, sidecar } from "./mesh.ts";

const GENERATED: Array<[string, string]> = [
  ["deploy/overlays/seed/wasmplugins.yaml", "deploy/overlays/seed/policies"],
  ["deploy/examples/mesh-wide/wasmplugins.yaml", "deploy/examples/mesh-wide/policies"],
  ["deploy/wasmplugin/meshauthz.yaml", "deploy/examples/seed/manifests"],
];

for (const [file, policies] of GENERATED) {
  test(`${file}: the delivery plan of ${policies}, in apply order, valid WasmPlugins`, () => {
    const docs = yaml.loadAll(readFileSync(join(REPO, file), "utf8")) as any[];
    const compiled = compileSources([join(REPO, policies)], MESH);
    assert.ok(compiled.mesh, compiled.diagnostics.map((d) => d.message).join("\n"));
    const plan = planDelivery(compiled.mesh!, { name: "meshauthz", url: docs[0].spec.url, sha256: docs[0].spec.sha256 });
    assert.deepEqual(
      docs.map((d) => `${d.metadata.namespace}/${d.metadata.name}`),
      plan.plugins.map((p) => `${p.namespace}/${p.name}`),
    );
    docs.forEach((d, i) => {
      assert.deepEqual(d, plan.plugins[i]!.object, `${file} is stale: regenerate it with the command in its header`);
      assert.deepEqual(schemaIssues(d), []);
      const spec = (docs[i] as { spec: { url: string; sha256: string } }).spec;
      assert.match(spec.sha256, /^[a-f0-9]{64}$/);
      assert.equal(spec.url.endsWith(`@sha256:${spec.sha256}`), true);
    });
  });
}

test("deploy/overlays/seed: the kustomization lists files that exist, and the corrected policy lets frontend GET /api/v1/data", async () => {
  const dir = join(REPO, "deploy/overlays/seed");
  const k = yaml.load(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as { resources: string[] };
  for (const r of k.resources) assert.ok(existsSync(join(dir, r)), r);
  const loaded = loadPolicies([join(dir, "policies")]);
  const policies = loaded.policies.map((p) => p.policy);
  const docs = yaml.loadAll(readFileSync(join(dir, "wasmplugins.yaml"), "utf8")) as any[];
  const plugins = docs.map((d) => ({
    namespace: d.metadata.namespace,
    name: d.metadata.name,
    configuration: JSON.stringify(d.spec.pluginConfig),
    phase: d.spec.phase,
    priority: d.spec.priority,
  }));
  const backend = await sidecar({ namespace: "default", labels: { app: "backend" } }, plugins);
  const frontend = "spiffe://cluster.local/ns/default/sa/frontend";
  const get = { method: "GET", path: "/api/v1/data", host: "backend.default.svc.cluster.local", source_principal: frontend };
  assert.equal(decide(backend, get).decision, "ALLOW");
  assert.equal(decide(backend, { ...get, method: "POST" }).decision, "DENY");
  assert.equal(decide(backend, { ...get, source_principal: "spiffe://cluster.local/ns/default/sa/other" }).decision, "DENY");
  assert.equal(policies.length, 1);
});

test("deploy/examples/mesh-wide: every kind of sidecar decides as Istio through the generated plugins", async () => {
  const dir = join(REPO, "deploy/examples/mesh-wide");
  const policies = loadPolicies([join(dir, "policies")]).policies.map((p) => p.policy);
  const docs = yaml.loadAll(readFileSync(join(dir, "wasmplugins.yaml"), "utf8")) as any[];
  const plugins = docs.map((d) => ({ namespace: d.metadata.namespace, name: d.metadata.name, configuration: JSON.stringify(d.spec.pluginConfig), phase: d.spec.phase, priority: d.spec.priority }));
  const workloads: Workload[] = [
    { namespace: "shop", labels: { app: "orders" } },
    { namespace: "shop", labels: { app: "frontend", metrics: "exposed" } },
    { namespace: "payments", labels: { app: "charge", metrics: "exposed" } },
    { namespace: "inventory", labels: { app: "stock", metrics: "exposed" } }, // no policies of its own
    { namespace: "created-later", labels: { app: "x" } },
  ];
  const principals = [null, "spiffe://cluster.local/ns/shop/sa/frontend", "spiffe://cluster.local/ns/shop/sa/orders", "spiffe://cluster.local/ns/monitoring/sa/prometheus"];
  const ops: Array<[string, string, Record<string, string>]> = [
    ["GET", "/api/orders", {}],
    ["POST", "/v1/charges", { "x-tenant": "acme" }],
    ["POST", "/v1/charges", { "x-tenant": "initech" }],
    ["GET", "/metrics", {}],
    ["GET", "/debug/pprof", {}],
  ];
  for (const w of workloads) {
    const host = await sidecar(w, plugins);
    for (const p of principals) {
      for (const [method, path, headers] of ops) {
        const r = { method, path, headers, host: "svc", source_principal: p };
        const ref = evaluateReference(policies, w, r, MESH);
        const got = decide(host, r);
        assert.equal(got.decision, ref.decision, `${w.namespace}/${w.labels?.app} ${method} ${path} ${p}`);
        assert.equal(got.policy, ref.decision === "DENY" ? (ref.policy ?? "none") : ref.policy);
      }
    }
  }
});

test("the CRD check bites: a wrong phase, a string priority and an unknown field are reported", () => {
  const issues = schemaIssues({ spec: { url: "oci://r/m", phase: "LATE", priority: "high", selectr: {} } });
  assert.equal(issues.length, 3, issues.join("; "));
});
