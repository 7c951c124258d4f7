// Per-sidecar delivery through the real filter: every workload's sidecar runs the WasmPlugins
// Istio gives it (its namespace's, then the root namespace's, by priority) in one HTTP filter
// chain, and each request is decided exactly once with exactly the policies Istio applies.
import assert from "node:assert/strict";
import { test } from "node:test";
import { startFilter } from "../../tools/cases/filter-decision.ts";
import { pluginConfigJson } from "../../tools/pipeline/plugin-config.ts";
import { compilePolicyObjects } from "../../tools/pipeline/policy-set.ts";
import { evaluateReference } from "../reference/evaluate.ts";
import { chainPlugins, decide, key, MESH, MESH_POLICIES, plan, policy, REQUESTS, sidecar, WASM, WORKLOADS } from "./mesh.ts";

test("plan: a namespace plugin for ns-a (ns-a + root policies, higher priority), then the root plugin", () => {
  const p = plan(MESH_POLICIES);
  assert.deepEqual(
    p.plugins.map((o) => [o.role, o.namespace, o.priority, o.policyCount]),
    [
      ["namespace", "ns-a", 20, 4],
      ["root", "istio-system", 10, 2],
    ],
  );
  for (const o of p.plugins) {
    assert.equal(o.object.spec.selector, undefined, "a selector would leave workloads without their namespace instance");
    assert.equal((o.object.spec.pluginConfig as { rootDigest: string }).rootDigest, p.rootDigest);
  }
});

test("each sidecar's chain: its namespace's plugin first, then the root plugin; other namespaces' never", async () => {
  const plugins = chainPlugins(plan(MESH_POLICIES));
  const order = async (ns: string) => (await sidecar({ namespace: ns, labels: { app: "x" } }, plugins)).chainOrder();
  assert.deepEqual(await order("ns-a"), ["ns-a/meshauthz", "istio-system/meshauthz"]);
  assert.deepEqual(await order("ns-b"), ["istio-system/meshauthz"]);
  assert.deepEqual(await order("ns-new"), ["istio-system/meshauthz"]);
  assert.deepEqual(await order("istio-system"), ["istio-system/meshauthz"]);
});

test("every workload, every request: the chain decides as one instance with the whole mesh, and as Istio (reference)", async () => {
  const plugins = chainPlugins(plan(MESH_POLICIES));
  const whole = compilePolicyObjects(MESH_POLICIES, MESH).blob!;
  let compared = 0;
  for (const w of WORKLOADS) {
    const chain = await sidecar(w, plugins);
    const single = await startFilter(WASM, pluginConfigJson(whole), w);
    for (const r of REQUESTS) {
      const got = decide(chain, r);
      const one = single.decide(r);
      const ref = evaluateReference(MESH_POLICIES, w, r, MESH);
      const what = `${w.namespace}/${w.labels?.app} ${r.method} ${r.path} from ${r.source_principal}`;
      assert.equal(key(got), key(one), what);
      assert.equal(got.decision, ref.decision, what);
      assert.equal(got.policy, ref.decision === "DENY" ? (ref.policy ?? "none") : ref.policy, what);
      compared++;
    }
  }
  assert.equal(compared, WORKLOADS.length * REQUESTS.length);
});

test("exactly once: counters equal one instance's, the root instance skips what ns-a's instance passed", async () => {
  const p = plan(MESH_POLICIES);
  const plugins = chainPlugins(p);
  const whole = compilePolicyObjects(MESH_POLICIES, MESH).blob!;
  for (const w of WORKLOADS) {
    const host = await sidecar(w, plugins);
    const single = await startFilter(WASM, pluginConfigJson(whole), w);
    for (const r of REQUESTS) {
      const d = decide(host, r);
      single.decide(r);
      // Only a namespace instance marks, and only what it let through.
      const expected = w.namespace === "ns-a" && d.decision === "ALLOW" ? p.rootDigest : null;
      assert.equal(d.marker, expected, `${w.namespace} ${r.method} ${r.path}`);
    }
    host.tick();
    single.host.tick();
    // Istio's RBAC counters (one count per RBAC stage that exists): a second enforcement would add its own.
    assert.deepEqual(host.metrics(), single.host.metrics(), `${w.namespace}/${w.labels?.app}`);
    assert.ok((host.metrics()["rbac.denied"] ?? 0) > 0);
  }
});

test("a marker with another root digest does not make the root instance skip (over-deny, never under-enforce)", async () => {
  const p = plan(MESH_POLICIES);
  const [nsPlugin, rootPlugin] = chainPlugins(p);
  // ns-a's plugin generated with a different root set (digest): the root instance enforces too.
  const stale = JSON.parse(nsPlugin.configuration as string);
  stale.rootDigest = "0123456789abcdef0123456789abcdef";
  const w = { namespace: "ns-a", labels: { app: "payments" } };
  const host = await sidecar(w, [{ ...nsPlugin, configuration: JSON.stringify(stale) }, rootPlugin]);
  const fresh = await sidecar(w, [nsPlugin, rootPlugin]);
  // ops -> payments is allowed by the root ALLOW payments-from-ops, which both instances hold.
  const ops = REQUESTS.find((r) => r.source_principal?.endsWith("/sa/ops") && r.path === "/health")!;
  assert.equal(decide(host, ops).decision, "ALLOW");
  assert.equal(decide(fresh, ops).decision, "ALLOW");
  host.tick();
  fresh.tick();
  assert.equal(host.metrics()["rbac.allowed"], 2 * fresh.metrics()["rbac.allowed"]!, "both instances decided");
});

test("a namespace plugin loaded by another namespace's workload denies everything (fail closed)", async () => {
  const [nsPlugin] = chainPlugins(plan(MESH_POLICIES));
  // Istio never does this; if it did, the marker would make the root instance skip ns-b's sidecar.
  const host = await sidecar({ namespace: "ns-b", labels: { app: "backend" } }, [{ ...nsPlugin, namespace: "ns-b" }]);
  const d = decide(host, REQUESTS[0]!);
  assert.equal(d.decision, "DENY");
  assert.equal(d.config_error, "invalid configuration");
  assert.ok(host.logs.some((l) => l.level === 5 && /role "namespace" for namespace "ns-a" loaded by a workload in namespace "ns-b"/.test(l.message)));
});

test("unknown or incomplete delivery settings fail closed", async () => {
  const blob = compilePolicyObjects([policy("ns-a", "allow-all", { rules: [{}] })], MESH).blob!;
  const b64 = Buffer.from(blob).toString("base64");
  const digest = "00112233445566778899aabbccddeeff";
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ policy: b64, role: "gateway", rootDigest: digest }, /role must be "namespace" or "root", got "gateway"/],
    [{ policy: b64, role: "root" }, /role "root" needs rootDigest/],
    [{ policy: b64, role: "root", rootDigest: "XYZ" }, /needs rootDigest: 16 to 64 lower-case hex digits/],
    [{ policy: b64, role: "namespace", rootDigest: digest }, /role "namespace" needs the "namespace"/],
    [{ policy: b64, role: "root", rootDigest: digest, namespace: "ns-a" }, /role "root" takes no "namespace"/],
    [{ policy: b64, rootDigest: digest }, /rootDigest and namespace need a "role"/],
    [{ policy: b64, role: 7 }, /member "role" is not a string/],
  ];
  for (const [config, why] of bad) {
    const host = await sidecar({ namespace: "ns-a", labels: {} }, [{ namespace: "ns-a", name: "m", configuration: JSON.stringify(config), phase: "AUTHZ" }]);
    const d = decide(host, REQUESTS[0]!);
    assert.equal(d.decision, "DENY", JSON.stringify(config));
    assert.ok(host.logs.some((l) => l.level === 5 && why.test(l.message)), `${JSON.stringify(config)}: ${host.logs.map((l) => l.message).join(" | ")}`);
  }
  // The same policy without delivery settings is the standalone filter: allowed.
  const ok = await sidecar({ namespace: "ns-a", labels: {} }, [{ namespace: "ns-a", name: "m", configuration: JSON.stringify({ policy: b64 }), phase: "AUTHZ" }]);
  assert.equal(decide(ok, REQUESTS[0]!).decision, "ALLOW");
});

test("a client cannot forge the marker: a request header of the same name is not filter state", async () => {
  const p = plan(MESH_POLICIES);
  const host = await sidecar({ namespace: "ns-b", labels: { app: "payments" } }, chainPlugins(p));
  const r = { ...REQUESTS[0]!, headers: { "wasm.meshauthz.enforced": p.rootDigest, "meshauthz.enforced": p.rootDigest } };
  const d = decide(host, r);
  assert.equal(d.decision, "DENY", "payments in ns-b only admits ops (root ALLOW)");
  assert.equal(d.policy, "none");
});
