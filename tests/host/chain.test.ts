// EnvoyChainHost: Istio's selection and order of WasmPlugins in one sidecar's HTTP chain, one VM
// per module shared by the plugins, and the stream's filter state shared by the filters.
import assert from "node:assert/strict";
import { test } from "node:test";
import { EnvoyChainHost } from "../../tools/host/chain-host.ts";
import { compileWat } from "./fixtures.ts";

// A filter that appends its plugin_name ("<ns>.<name>", Envoy's property) and "," to filter state
// "trail" (read, then written back): the trail shows which filters ran, in which order, sharing one
// stream's filter state. All plugins share the module's one VM.
const TRAIL = `(module
  (import "env" "proxy_get_buffer_bytes" (func $gb (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_property" (func $gp (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_property" (func $sp (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 4096))
  (global $cfg (mut i32) (i32.const 0))
  (global $cfgLen (mut i32) (i32.const 0))
  (data (i32.const 100) "trail")
  (data (i32.const 120) "plugin_name")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param $n i32) (result i32) (local $p i32)
    global.get $heap local.set $p
    global.get $heap local.get $n i32.add global.set $heap
    local.get $p)
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) i32.const 1)
  (func (export "proxy_on_configure") (param $root i32) (param $n i32) (result i32)
    i32.const 1)
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (local $old i32) (local $oldLen i32) (local $buf i32)
    (i32.store (i32.const 208) (i32.const 0))
    (i32.store (i32.const 212) (i32.const 0))
    (drop (call $gp (i32.const 100) (i32.const 5) (i32.const 208) (i32.const 212)))
    (local.set $old (i32.load (i32.const 208)))
    (local.set $oldLen (i32.load (i32.const 212)))
    (drop (call $gp (i32.const 120) (i32.const 11) (i32.const 200) (i32.const 204)))
    (global.set $cfg (i32.load (i32.const 200)))
    (global.set $cfgLen (i32.add (i32.load (i32.const 204)) (i32.const 1)))
    (i32.store8 (i32.add (global.get $cfg) (i32.load (i32.const 204))) (i32.const 44))
    (global.set $heap (i32.add (global.get $heap) (i32.const 1)))
    (local.set $buf (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $oldLen) (global.get $cfgLen))))
    (memory.copy (local.get $buf) (local.get $old) (local.get $oldLen))
    (memory.copy (i32.add (local.get $buf) (local.get $oldLen)) (global.get $cfg) (global.get $cfgLen))
    (drop (call $sp (i32.const 100) (i32.const 5) (local.get $buf) (i32.add (local.get $oldLen) (global.get $cfgLen))))
    i32.const 0)
)`;

const REQ = { headers: [[":method", "GET"], [":path", "/"], [":authority", "a"]] as Array<[string, string]>, downstreamRemote: "10.0.0.1:1000", downstreamLocal: "10.0.0.2:80", tls: null };

test("chain order: phase, then priority (highest first), ties in lookup order; other namespaces and unselected plugins never", async () => {
  const wasm = await compileWat(TRAIL);
  const host = await EnvoyChainHost.create({
    wasm,
    node: { metadata: { NAMESPACE: "shop", LABELS: { app: "orders" } } },
    workers: 1,
    plugins: [
      { namespace: "istio-system", name: "root-authz", configuration: "R", phase: "AUTHZ", priority: 10 },
      { namespace: "shop", name: "ns-authz", configuration: "N", phase: "AUTHZ", priority: 20 },
      { namespace: "shop", name: "stats", configuration: "S", phase: "STATS", priority: 1000 },
      { namespace: "istio-system", name: "authn", configuration: "A", phase: "AUTHN" },
      { namespace: "shop", name: "tie-ns", configuration: "t", phase: "AUTHZ", priority: 10 },
      { namespace: "other", name: "elsewhere", configuration: "X", phase: "AUTHZ", priority: 99 },
      { namespace: "shop", name: "unselected", configuration: "U", phase: "AUTHZ", priority: 99, selector: { app: "payments" } },
      { namespace: "shop", name: "no-phase", configuration: "Z" },
    ],
  });
  assert.deepEqual(host.chainOrder(), ["istio-system/authn", "shop/ns-authz", "shop/tie-ns", "istio-system/root-authz", "shop/stats", "shop/no-phase"]);
  const r = host.request(REQ);
  assert.equal(r.filterState.trail, "istio-system.authn,shop.ns-authz,shop.tie-ns,istio-system.root-authz,shop.stats,shop.no-phase,", "every filter saw the previous ones' filter state");
  assert.equal(new Set(r.filters.map((f) => f.rootContextId)).size, 6, "one root context per plugin");
  assert.equal(r.status, 200);
});
