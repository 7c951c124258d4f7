// `meshauthz package` output: the delivery plan as one multi-document YAML in apply order, each
// object a valid WasmPlugin (the CRD's schema) under 262,144 bytes as JSON at any mesh size.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as yaml from "js-yaml";
import { meshPolicies } from "../../tools/bench/mesh-policies.ts";
import { CLIENT_SIDE_APPLY_LIMIT, planDelivery, PlanError } from "../../tools/package/plan.ts";
import { compilePolicyObjects } from "../../tools/pipeline/policy-set.ts";
import { meshauthz, SHARED, tempFile } from "../e2e/cli-runner.ts";
import { MESH, policy } from "./mesh.ts";
import { schemaIssues } from "./crd.ts";

const PKG_URL = `oci://registry.example.com/meshauthz@sha256:${"c".repeat(64)}`;

test("10,000 policies in 500 namespaces: 501 objects in apply order, each valid and under 256 KiB as JSON", () => {
  const file = tempFile("mesh-10k.yaml", meshPolicies(10_000, 1, 500).map((p) => yaml.dump(p)).join("---\n"));
  const out = tempFile("mesh-10k-plan.yaml", "");
  const r = meshauthz(["package", file, "--url", PKG_URL, "-o", out]);
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const text = readFileSync(out, "utf8");
  const docs = yaml.loadAll(text) as any[];
  assert.equal(docs.length, 501);
  const roles = docs.map((d) => d.spec.pluginConfig.role);
  assert.deepEqual(roles.slice(0, 500), Array(500).fill("namespace"));
  assert.equal(roles[500], "root", "the root plugin is applied last");
  const namespaces = docs.slice(0, 500).map((d) => d.metadata.namespace);
  assert.deepEqual(namespaces, [...namespaces].sort(), "namespace plugins in a stable order");
  assert.equal(new Set(namespaces).size, 500);
  const digest = docs[500].spec.pluginConfig.rootDigest;
  let largest = 0;
  for (const d of docs) {
    const bytes = Buffer.byteLength(JSON.stringify(d));
    largest = Math.max(largest, bytes);
    assert.ok(bytes < CLIENT_SIDE_APPLY_LIMIT, `${d.metadata.namespace}: ${bytes} bytes`);
    assert.deepEqual(schemaIssues(d), [], d.metadata.namespace);
    assert.equal(d.spec.pluginConfig.rootDigest, digest);
    assert.equal(d.spec.priority, d.spec.pluginConfig.role === "namespace" ? 20 : 10);
  }
  // Flat in the mesh size: a namespace plugin carries ~20 namespace policies + 1 root policy.
  assert.ok(largest < 20_000, `largest object ${largest} bytes`);
  assert.match(text, /kubectl apply -f THIS_FILE -l meshauthz\.io\/role=namespace/);
});

test("an object that cannot fit: a clear error naming the namespace and what to do, and nothing written", () => {
  const many = Array.from({ length: 1400 }, (_, i) =>
    policy("team-x", `p-${i}`, { selector: { matchLabels: { app: `a-${i}` } }, rules: [{ from: [{ source: { principals: [`cluster.local/ns/team-x/sa/caller-${i}-with-a-longish-name`] } }] }] }),
  );
  const file = tempFile("big-ns.yaml", many.map((p) => yaml.dump(p)).join("---\n"));
  const out = tempFile("big-ns-plan.yaml", "untouched");
  const r = meshauthz(["package", file, "--url", PKG_URL, "-o", out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /namespace team-x's WasmPlugin \(1400 policies: its own and the root namespace istio-system's\) is \d+ bytes as JSON, over the 262144-byte limit/);
  assert.match(r.stderr, /--max-object-bytes \d+ and apply with `kubectl apply --server-side`/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
  assert.equal(readFileSync(out, "utf8"), "untouched");
  // Raising the limit: written, with a warning about client-side apply.
  const raised = meshauthz(["package", file, "--url", PKG_URL, "--max-object-bytes", "1048576", "-o", out]);
  assert.equal(raised.status, 0, raised.stderr);
  assert.match(raised.stderr, /warning: --max-object-bytes 1048576 is above 262144 bytes: objects that large need `kubectl apply --server-side`/);
  assert.equal((yaml.loadAll(readFileSync(out, "utf8")) as any[]).length, 2);
  const etcd = meshauthz(["package", file, "--url", PKG_URL, "--max-object-bytes", "2000000", "-o", out]);
  assert.match(etcd.stderr, /above etcd's default request limit \(1572864 bytes\)/);
  assert.equal(meshauthz(["package", file, "--url", PKG_URL, "--max-object-bytes", "12k"]).status, 2);
});

test("the root plugin too large: the error says it reaches every sidecar", () => {
  const compiled = compilePolicyObjects(
    Array.from({ length: 40 }, (_, i) => policy("istio-system", `root-${i}`, { rules: [{ to: [{ operation: { paths: [`/p-${i}-${"x".repeat(40)}`] } }] }] })),
    MESH,
  );
  assert.throws(() => planDelivery(compiled.mesh!, { name: "m", url: "oci://r/m:1", maxObjectBytes: 4000 }), (e: unknown) => {
    assert.ok(e instanceof PlanError);
    assert.match(e.message, /the root namespace istio-system's WasmPlugin \(40 policies, sent to every sidecar\)/);
    return true;
  });
});

test("--selector is refused: it would leave workloads without their namespace instance", () => {
  const r = meshauthz(["package", "deploy/examples/seed/manifests", "--url", PKG_URL, "--selector", "app=backend"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /a --selector would leave workloads enforced without their namespace's policies/);
});

test("the root namespace's policies are never in a namespace plugin of their own; a mesh with only root policies is one object", () => {
  const compiled = compilePolicyObjects([policy("istio-system", "deny-debug", { action: "DENY", rules: [{ to: [{ operation: { paths: ["/debug/*"] } }] }] })], MESH);
  const p = planDelivery(compiled.mesh!, { name: "meshauthz", url: "oci://r/m:1" });
  assert.deepEqual(p.plugins.map((o) => `${o.role} ${o.namespace}`), ["root istio-system"]);
  assert.deepEqual(schemaIssues(p.plugins[0]!.object), []);
});

test("--network: the NETWORK WasmPlugin (whole mesh) gets the same size check", () => {
  const file = tempFile("mesh-3k.yaml", meshPolicies(3000, 1, 150).map((p) => yaml.dump(p)).join("---\n"));
  const r = meshauthz(["package", file, "--url", PKG_URL, "--network", "--tcp-ports", "5432"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the NETWORK WasmPlugin \(--network\) carries the whole mesh's 3000 policies and is \d+ bytes as JSON, over the 262144-byte limit/);
  assert.equal(r.stdout, "");
});

test("package --namespace is refused (WasmPlugins go to their policies' namespaces); --policy-namespace places documents without one", () => {
  const r = meshauthz(["package", "deploy/examples/seed/manifests", "--url", PKG_URL, "--namespace", "default"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /use --policy-namespace NS/);
  const f = tempFile("no-ns.yaml", "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p}\nspec: {rules: [{}]}\n");
  const ok = meshauthz(["package", f, "--url", PKG_URL, "--policy-namespace", "team-y"]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual((yaml.loadAll(ok.stdout) as any[]).map((d) => d.metadata.namespace), ["team-y", "istio-system"]);
});
