// A pluginConfig-only change as Envoy applies it (proxy-wasm-cpp-host src/wasm.cc
// getOrCreateThreadLocalPlugin / startShutdown; the plugin key is root_id + configuration, the VM
// key leaves the configuration out): the same VM gets a new root context and on_configure; a stream
// created before the change finishes on the old root, which gets on_done/on_delete after it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { streamForRequest } from "../../tools/cases/request-stream.ts";
import { pluginConfigJson } from "../../tools/pipeline/plugin-config.ts";
import { compilePolicyObjects } from "../../tools/pipeline/policy-set.ts";
import { MESH, policy, REQUESTS, sidecar } from "./mesh.ts";

const W = { namespace: "ns-a", labels: { app: "backend" } };
const GET = REQUESTS.find((r) => r.method === "GET" && r.path === "/api/v1/data" && r.source_principal?.includes("ns-a/sa/frontend"))!;
const allowAll = pluginConfigJson(compilePolicyObjects([policy("ns-a", "allow-all", { rules: [{}] })], MESH).blob!);
const denyGet = pluginConfigJson(compilePolicyObjects([policy("ns-a", "deny-get", { action: "DENY", rules: [{ to: [{ operation: { methods: ["GET"] } }] }] })], MESH).blob!);

function callbacks(logs: ReadonlyArray<{ message: string }>): string[] {
  return logs.map((l) => l.message);
}

test("pluginConfig update: new streams use the new configuration, a stream in flight finishes on the old root", async () => {
  const host = await sidecar(W, [{ namespace: "ns-a", name: "meshauthz", configuration: allowAll, phase: "AUTHZ", priority: 20 }]);
  const [before] = host.liveRoots(0);
  assert.equal(before!.retired, false);

  const inFlight = host.open(streamForRequest(GET)); // decided (allowed) and forwarded; response pending
  assert.equal(inFlight.forwarded, true);
  assert.equal(host.updatePlugin("ns-a", "meshauthz", denyGet), null);

  // The same VM now has two roots: the new one, and the old one draining its stream.
  const roots = host.liveRoots(0);
  assert.equal(roots.length, 2);
  const old = roots.find((r) => r.rootContextId === before!.rootContextId)!;
  const fresh = roots.find((r) => r.rootContextId !== before!.rootContextId)!;
  assert.deepEqual([old.retired, old.streams, fresh.retired], [true, 1, false]);

  const after = host.request(streamForRequest(GET));
  assert.equal(after.status, 403, "a stream created after the change is decided by the new configuration");
  assert.equal(after.details, "rbac_access_denied_matched_policy[ns[ns-a]-policy[deny-get]-rule[0]]");
  assert.equal(after.filters[0]!.rootContextId, fresh.rootContextId);

  const logsBefore = host.logs.length;
  const done = inFlight.finish();
  assert.equal(done.status, 200, "the stream created before the change completes as its old configuration decided");
  assert.equal(done.forwarded, true);
  assert.equal(done.filters[0]!.rootContextId, old.rootContextId);
  assert.deepEqual(host.liveRoots(0).map((r) => r.rootContextId), [fresh.rootContextId], "the old root is gone once its last stream ended");
  // The filter logs nothing at warning+ for a normal shutdown; no trap, and the VM keeps serving.
  assert.ok(!callbacks(host.logs.slice(logsBefore)).some((m) => /trap|failed/i.test(m)));
  assert.equal(host.request(streamForRequest(GET)).status, 403);
});

test("pluginConfig update with no stream in flight: the old root is shut down at once; memory is reused", async () => {
  const host = await sidecar(W, [{ namespace: "ns-a", name: "meshauthz", configuration: allowAll, phase: "AUTHZ" }]);
  host.request(streamForRequest(GET));
  const first = host.liveRoots(0)[0]!.rootContextId;
  for (let i = 0; i < 20; i++) {
    assert.equal(host.updatePlugin("ns-a", "meshauthz", i % 2 === 0 ? denyGet : allowAll), null);
    const live = host.liveRoots(0);
    assert.equal(live.length, 1);
    assert.notEqual(live[0]!.rootContextId, first);
    assert.equal(host.request(streamForRequest(GET)).status, i % 2 === 0 ? 403 : 200);
  }
  const settled = host.memoryBytes(0);
  for (let i = 0; i < 20; i++) host.updatePlugin("ns-a", "meshauthz", i % 2 === 0 ? denyGet : allowAll);
  assert.equal(host.memoryBytes(0), settled, "replaced configurations are freed (no growth over 20 more updates)");
});

test("an invalid configuration update is accepted (on_configure returns 1) and denies every request (fail closed)", async () => {
  const host = await sidecar(W, [{ namespace: "ns-a", name: "meshauthz", configuration: allowAll, phase: "AUTHZ" }]);
  // The filter never rejects (on_configure returns 1): a bad config becomes deny-all, logged critical.
  assert.equal(host.updatePlugin("ns-a", "meshauthz", '{"policy": "not base64!"}'), null);
  const r = host.request(streamForRequest(GET));
  assert.equal(r.status, 403);
  assert.equal(r.details, "meshauthz_invalid_config");
});
