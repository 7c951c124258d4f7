// Traps and bad pointers (spec §2.1, §2.3 "Failure of the VM", §4, §7.3, §12.7).

import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost } from "../../tools/host/index.ts";
import { callbackTrace, hexText, inbound, messages, NODE, observations, probeModule } from "./fixtures.ts";

async function trapOnPath(failStrategy: "FAIL_CLOSE" | "FAIL_OPEN") {
  // Traps when the request path is /boom.
  const wasm = await probeModule((p) => ({
    on: {
      proxy_on_request_headers: `(drop (call $proxy_get_header_map_value (i32.const 0) ${p.s(":path")} (i32.const 1024) (i32.const 1028)))
        (if (i32.eq (i32.load (i32.const 1028)) (i32.const 5)) (then unreachable))`,
    },
  }));
  return EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 2, failStrategy });
}

const boom = () => inbound({ headers: [[":method", "GET"], [":path", "/boom"], [":authority", "a"]], worker: 0 });

test("FAIL_CLOSE: a trap gives 503 wasm_fail_stream; the VM stays failed and later streams never reach the module", async () => {
  const host = await trapOnPath("FAIL_CLOSE");
  const r = host.request(boom());
  assert.equal(r.status, 503);
  assert.equal(r.details, "wasm_fail_stream");
  assert.equal(r.forwarded, false);
  assert.match(r.trap!, /proxy_on_request_headers failed: RuntimeError: unreachable/);
  assert.deepEqual(callbackTrace(r.logs), ["cb on_context_create 2 1", "cb on_request_headers 2 3 1"], "no log/done/delete on a failed VM");
  assert.match(host.workerFailure(0)!, /unreachable/);

  const later = host.request(inbound({ worker: 0 }));
  assert.equal(later.status, 503);
  assert.equal(later.details, "wasm_fail_stream");
  assert.deepEqual(later.hostCalls, {});
  assert.deepEqual(later.logs, []);
  assert.equal(later.contextId, null);

  const other = host.request(inbound({ worker: 1 }));
  assert.equal(other.status, 200, "the other worker is its own VM");
  assert.equal(host.workerFailure(1), null);
});

test("FAIL_OPEN: after a trap the filter is bypassed (forwarded, no module calls)", async () => {
  const host = await trapOnPath("FAIL_OPEN");
  const r = host.request(boom());
  assert.ok(r.trap);
  assert.equal(r.forwarded, true);
  const later = host.request(inbound({ worker: 0 }));
  assert.equal(later.status, 200);
  assert.equal(later.forwarded, true);
  assert.deepEqual(later.logs, []);
  assert.deepEqual(later.hostCalls, {});
});

test("a trap in on_context_create fails the stream the same way", async () => {
  const wasm = await probeModule(() => ({ on: { proxy_on_context_create: "(if (i32.eq (local.get $a1) (i32.const 1)) (then unreachable))" } }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  assert.equal(host.configAccepted, true, "the root's create has parent 0");
  const r = host.request(inbound());
  assert.equal(r.status, 503);
  assert.match(r.trap!, /proxy_on_context_create/);
});

test("a trap in the response phase replaces the upstream answer with 503", async () => {
  const wasm = await probeModule(() => ({ on: { proxy_on_response_headers: "unreachable" } }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound());
  assert.equal(r.forwarded, true);
  assert.equal(r.status, 503);
  assert.equal(r.details, "wasm_fail_stream");
});

test("a trap after send_local_response still gives 503 (the deferred reply is dropped)", async () => {
  const wasm = await probeModule((p) => ({
    on: { proxy_on_request_headers: `(drop (call $proxy_send_local_response (i32.const 403) ${p.s("d")} ${p.s("")} ${p.s("")} (i32.const -1))) unreachable` },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound());
  assert.equal(r.status, 503);
  assert.equal(r.localReply, null);
});

test("bad pointers never throw: InvalidMemoryAccess (6), and the module carries on", async () => {
  const wasm = await probeModule((p) => ({
    mallocLogs: true,
    on: {
      proxy_on_request_headers: `
        (call $status (call $proxy_get_property (i32.const 0x7ffffff0) (i32.const 64) (i32.const 1024) (i32.const 1028))) (call $emit)
        (call $status (call $proxy_get_property ${p.s("source\0address")} (i32.const -4) (i32.const 1028))) (call $emit)
        (call $status (call $proxy_log (i32.const 2) (i32.const -1) (i32.const 10))) (call $emit)
        (call $status (call $proxy_get_header_map_value (i32.const 0) (i32.const 1000000) (i32.const 5) (i32.const 1024) (i32.const 1028))) (call $emit)
        (call $status (call $proxy_send_local_response (i32.const 403) (i32.const 0) (i32.const -1) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1))) (call $emit)
        (call $status (call $proxy_set_property (i32.const 262140) (i32.const 8) ${p.s("v")})) (call $emit)
        (call $status (call $proxy_get_metric (i32.const 4) (i32.const 262140))) (call $emit)
        (call $say ${p.s("still alive")})`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound());
  assert.equal(r.trap, null);
  assert.deepEqual(messages(r.logs).filter((m) => m.startsWith("S:") || m.startsWith("malloc") || m === "still alive"), [
    "S:6",
    "malloc 14", // the value was allocated before the out-pointer write failed, as in Envoy
    "S:6",
    "S:6",
    "S:6",
    "S:6",
    "S:6",
    "S:1", // no metric 4 defined: NotFound before any memory write
    "still alive",
  ]);
  assert.equal(r.status, 200, "the failed send_local_response sent nothing");
});

test("an allocator returning 0 gives InvalidMemoryAccess", async () => {
  const wasm = await probeModule((p) => ({
    mallocHook: "(return (i32.const 0))",
    on: { proxy_on_request_headers: `(call $prop ${p.s("source\0address")}) (call $prop ${p.s("plugin_vm_id")})` },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  assert.deepEqual(observations(host.request(inbound()).logs), ["S:6", "S:0 V: P:0"]);
});

test("a trapping allocator fails the VM: the call gets InvalidMemoryAccess, the stream 503", async () => {
  const wasm = await probeModule((p) => ({
    mallocHook: "unreachable",
    on: { proxy_on_request_headers: `(call $prop ${p.s("source\0address")}) (call $say ${p.s("continued")})` },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound());
  assert.deepEqual(messages(r.logs).slice(2), ["S:6", "continued"]);
  assert.equal(r.status, 503);
  assert.match(r.trap!, /Function: malloc failed: RuntimeError: unreachable/);
});

test("memory growth inside malloc: the host writes into the grown memory through fresh views", async () => {
  // The bump allocator starts at the very end of the 4 initial pages, so the first malloc grows memory.
  const wasm = await probeModule((p) => ({
    heapStart: 4 * 65536 - 8,
    on: { proxy_on_request_headers: `(call $prop ${p.s("source\0address")}) (call $prop ${p.s("request\0path")})` },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const before = host.memoryBytes(0);
  const obs = observations(host.request(inbound()).logs);
  assert.equal(obs[0], `S:0 V:${hexText("10.1.2.3:45678")} P:${4 * 65536 - 8}`);
  assert.equal(obs[1], `S:0 V:${hexText("/api/items?x=1")} P:${4 * 65536 + 8}`);
  assert.ok(host.memoryBytes(0) > before);
});

test("a stack overflow in the module is a trap like any other", async () => {
  const wasm = await probeModule(() => ({
    extra: "(func $rec (param i32) (result i32) (call $rec (i32.add (local.get 0) (i32.const 1))))",
    on: { proxy_on_request_headers: "(drop (call $rec (i32.const 0)))" },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound());
  assert.equal(r.status, 503);
  assert.match(r.trap!, /call stack/i);
});
