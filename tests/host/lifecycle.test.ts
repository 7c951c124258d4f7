// VM start, root lifecycle, stream lifecycle and restricted phases (spec §1.2, §1.3, §4.3, §12.2-4).

import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost, HostLoadError } from "../../tools/host/index.ts";
import { callbackTrace, hexText, inbound, messages, NODE, observations, probeModule } from "./fixtures.ts";

test("lifecycle: canary then each worker get create(1,0), vm_start(1,0), configure(1,len); streams get ids from 2", async () => {
  const wasm = await probeModule();
  const config = '{"policy":"x"}';
  const host = await EnvoyHost.create({ wasm, configuration: config, node: NODE, workers: 2 });
  assert.equal(host.configAccepted, true);
  const root = [`cb on_context_create 1 0`, `cb on_vm_start 1 0`, `cb on_configure 1 ${config.length}`];
  assert.deepEqual(callbackTrace(host.logs), [...root, ...root, ...root]);
  assert.deepEqual(host.logs.slice(0, 3).map((l) => l.vm), ["canary", "canary", "canary"]);
  assert.deepEqual([...new Set(host.logs.map((l) => l.vm))], ["canary", "worker0", "worker1"]);

  const a = host.request(inbound());
  assert.deepEqual(callbackTrace(a.logs), [
    "cb on_context_create 2 1",
    "cb on_request_headers 2 5 1",
    "cb on_response_headers 2 2 1",
    "cb on_log 2",
    "cb on_done 2",
    "cb on_delete 2",
  ]);
  assert.equal(a.worker, 0);
  const b = host.request(inbound());
  assert.equal(b.worker, 1);
  assert.equal(b.contextId, 2, "each VM numbers its own contexts");
  const c = host.request(inbound());
  assert.equal(c.worker, 0);
  assert.equal(c.contextId, 3, "ids are never reused");
  assert.equal(host.request(inbound({ worker: 0 })).contextId, 4);
});

test("an empty configuration gives on_configure size 0", async () => {
  const host = await EnvoyHost.create({ wasm: await probeModule(), configuration: "", node: NODE, workers: 1 });
  assert.ok(callbackTrace(host.logs).includes("cb on_configure 1 0"));
});

test("PLUGIN_CONFIGURATION is readable only in on_configure (and the root's on_context_create)", async () => {
  const wasm = await probeModule(() => ({
    on: {
      proxy_on_context_create: "(call $buf (i32.const 7))",
      proxy_on_vm_start: "(call $buf (i32.const 7))",
      proxy_on_configure: "(call $buf (i32.const 7))",
      proxy_on_request_headers: "(call $buf (i32.const 7))",
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: '{"k":"v"}', node: NODE, workers: 1 });
  const canary = host.logs.filter((l) => l.vm === "canary");
  // root create: readable; vm_start: NotFound (1); configure: readable
  assert.deepEqual(observations(canary), ['S:0 V:{"k":"v"} P:131072', "S:1", 'S:0 V:{"k":"v"} P:131088']);
  const r = host.request(inbound());
  // The stream's create is a stream context: NotFound too.
  assert.deepEqual(observations(r.logs), ["S:1", "S:1"]);
});

test("VM_CONFIGURATION is always readable and empty under Istio: Ok with (0, 0)", async () => {
  const wasm = await probeModule(() => ({ on: { proxy_on_request_headers: "(call $buf (i32.const 6))" } }));
  const host = await EnvoyHost.create({ wasm, configuration: "x", node: NODE, workers: 1 });
  assert.deepEqual(observations(host.request(inbound()).logs), ["S:0 V: P:0"]);
});

test("on_configure returning 0 rejects the config; the canary gets no done/delete; streams get 500", async () => {
  const wasm = await probeModule(() => ({ ret: { proxy_on_configure: 0 } }));
  const host = await EnvoyHost.create({ wasm, configuration: "{}", node: NODE });
  assert.equal(host.configAccepted, false);
  assert.match(host.configError!, /proxy_on_configure returned 0/);
  assert.deepEqual(callbackTrace(host.logs), ["cb on_context_create 1 0", "cb on_vm_start 1 0", "cb on_configure 1 2"]);
  const r = host.request(inbound());
  assert.equal(r.status, 500);
  assert.equal(r.forwarded, false);
  assert.equal(host.hostCallCounts().proxy_log, 3);
});

test("on_vm_start returning 0 or trapping rejects the config", async () => {
  const zero = await EnvoyHost.create({ wasm: await probeModule(() => ({ ret: { proxy_on_vm_start: 0 } })), configuration: "", node: NODE });
  assert.equal(zero.configAccepted, false);
  assert.match(zero.configError!, /proxy_on_vm_start returned 0/);
  const trap = await EnvoyHost.create({ wasm: await probeModule(() => ({ on: { proxy_on_vm_start: "unreachable" } })), configuration: "", node: NODE });
  assert.equal(trap.configAccepted, false);
  assert.match(trap.configError!, /proxy_on_vm_start failed: RuntimeError: unreachable/);
  assert.ok(!callbackTrace(trap.logs).includes("cb on_configure 1 0"), "nothing runs after the trap");
});

test("on_vm_start and on_configure receive the root context id, not 0", async () => {
  // A module that only accepts when its first argument is 1 (proxy-runtime looks the root up by it).
  const wasm = await probeModule(() => ({
    ret: { proxy_on_vm_start: "(i32.eq (local.get $a0) (i32.const 1))", proxy_on_configure: "(i32.eq (local.get $a0) (i32.const 1))" },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE });
  assert.equal(host.configAccepted, true);
});

test("a restricted host call in _initialize traps and Envoy refuses the module", async () => {
  const wasm = await probeModule((p) => ({ initialize: `(call $prop ${p.s("plugin_root_id")})` }));
  await assert.rejects(EnvoyHost.create({ wasm, configuration: "", node: NODE }), (e: unknown) => {
    assert.ok(e instanceof HostLoadError);
    assert.match(e.message, /restricted_callback: proxy_get_property is not allowed during _initialize/);
    return true;
  });
});

test("proxy_log, fd_write, clock and random are allowed in _initialize; _start is skipped when _initialize exists", async () => {
  const wasm = await probeModule((p) => ({
    wasi: "wasi_snapshot_preview1",
    initialize: `(call $say ${p.s("init ran")})
      (drop (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 2048)))
      (drop (call $random_get (i32.const 2048) (i32.const 8)))`,
    start: `(call $say ${p.s("start ran")})`,
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const m = messages(host.logs);
  assert.equal(m.filter((x) => x === "init ran").length, 2, "once per instance (canary + 1 worker)");
  assert.equal(m.includes("start ran"), false);
});

test("_start runs (restricted) when there is no _initialize", async () => {
  const ok = await probeModule((p) => ({ start: `(call $say ${p.s("start ran")})` }));
  const host = await EnvoyHost.create({ wasm: ok, configuration: "", node: NODE, workers: 1 });
  assert.equal(messages(host.logs).filter((x) => x === "start ran").length, 2);
  const bad = await probeModule((p) => ({ start: `(drop (call $proxy_set_property ${p.s("a")} ${p.s("b")}))` }));
  await assert.rejects(EnvoyHost.create({ wasm: bad, configuration: "", node: NODE }), /restricted_callback: proxy_set_property is not allowed during _start/);
});

test("a restricted host call inside malloc traps: the call gets InvalidMemoryAccess and the VM fails", async () => {
  // malloc calls proxy_get_property (not allowed while the allocator runs).
  const wasm = await probeModule((p) => ({
    mallocHook: `(drop (call $proxy_get_property ${p.s("plugin_root_id")} (i32.const 2040) (i32.const 2044)))`,
    on: { proxy_on_configure: `(call $prop ${p.s("plugin_root_id")}) (call $say ${p.s("still running")})` },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE });
  assert.equal(host.configAccepted, false);
  assert.match(host.configError!, /Function: malloc failed: HostTrap: restricted_callback: proxy_get_property is not allowed during malloc/);
  // Envoy's host function returns InvalidMemoryAccess (6) and the callback carries on.
  assert.deepEqual(messages(host.logs).slice(-2), ["S:6", "still running"]);
});

test("proxy_log inside malloc is allowed", async () => {
  const wasm = await probeModule((p) => ({
    mallocLogs: true,
    on: { proxy_on_request_headers: `(call $prop ${p.s("plugin_root_id")})` },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, rootId: "authz" });
  const r = host.request(inbound());
  assert.equal(r.trap, null);
  assert.deepEqual(messages(r.logs).slice(1, 4), ["cb on_request_headers 2 5 1", "malloc 5", `S:0 V:${hexText("authz")} P:131072`]);
});

test("rejected before the plugin: create, log, done, delete only", async () => {
  const host = await EnvoyHost.create({ wasm: await probeModule(), configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound({ rejectedBeforePlugin: true, rejectedReply: { status: 401, details: "jwt_authn_access_denied", body: "Jwt is missing" } }));
  assert.deepEqual(callbackTrace(r.logs), ["cb on_context_create 2 1", "cb on_log 2", "cb on_done 2", "cb on_delete 2"]);
  assert.equal(r.status, 401);
  assert.equal(r.forwarded, false);
  assert.equal(r.details, "jwt_authn_access_denied");
});

test("every VM has its own globals and memory", async () => {
  // Each request increments a module global and logs it.
  const wasm = await probeModule((p) => ({
    on: { proxy_on_request_headers: `(global.set $g (i32.add (global.get $g) (i32.const 1))) (call $say_num ${p.s("n=")} (global.get $g))` },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 2 });
  const seen = [1, 2, 3, 4].map(() => messages(host.request(inbound()).logs).find((m) => m.startsWith("n=")));
  assert.deepEqual(seen, ["n=1", "n=1", "n=2", "n=2"]);
  assert.equal(host.memoryBytes(0), 4 * 65536);
  assert.equal(host.memoryBytes(1), 4 * 65536);
});

test("a module without on_context_create still gets its stream callbacks", async () => {
  const wasm = await probeModule(() => ({ omit: ["proxy_on_context_create", "proxy_on_log"] }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  assert.deepEqual(callbackTrace(host.request(inbound()).logs), [
    "cb on_request_headers 2 5 1",
    "cb on_response_headers 2 2 1",
    "cb on_done 2",
    "cb on_delete 2",
  ]);
});

test("malloc is preferred over proxy_on_memory_allocate; either alone works", async () => {
  const both = await probeModule((p) => ({
    mallocLogs: true,
    extra: `(func (export "proxy_on_memory_allocate") (param i32) (result i32) (call $say ${p.s("pma called")}) (i32.const 140000))`,
    on: { proxy_on_request_headers: `(call $prop ${p.s("plugin_root_id")})` },
  }));
  const host = await EnvoyHost.create({ wasm: both, configuration: "", node: NODE, workers: 1 });
  const m = messages(host.request(inbound()).logs);
  assert.ok(m.includes("malloc 9"));
  assert.ok(!m.includes("pma called"));

  const { compileWat } = await import("./fixtures.ts");
  const only = await compileWat(`(module
    (import "env" "proxy_get_property" (func $get (param i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 100) "plugin_root_id")
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 4096))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $get (i32.const 100) (i32.const 14) (i32.const 200) (i32.const 204)))
      (drop (call $log (i32.const 2) (i32.load (i32.const 200)) (i32.load (i32.const 204))))
      (i32.const 0)))`);
  const h2 = await EnvoyHost.create({ wasm: only, configuration: "", node: NODE, workers: 1 });
  assert.deepEqual(messages(h2.request(inbound()).logs), ["meshauthz"]);
});

test("proxy_set_effective_context: unknown ids are BadArgument, live contexts are accepted", async () => {
  const wasm = await probeModule((p) => ({
    imports: `(import "env" "proxy_set_effective_context" (func $eff (param i32) (result i32)))`,
    on: {
      proxy_on_request_headers: `(call $status (call $eff (i32.const 99))) (call $emit)
        (call $status (call $eff (i32.const 1))) (call $emit)
        (call $prop ${p.s("source\0address")})
        (call $status (call $eff (local.get $a0))) (call $emit)
        (call $prop ${p.s("source\0port")})`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const obs = observations(host.request(inbound()).logs);
  // With the root as effective context there is no stream info: NotFound; back on the stream: Ok.
  assert.deepEqual(obs.map((o) => o.slice(0, 3)), ["S:2", "S:0", "S:1", "S:0", "S:0"]);
});
