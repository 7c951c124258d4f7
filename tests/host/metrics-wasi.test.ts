// Metrics, logging and WASI as Envoy implements them (spec §2.2, §9, §12.8), and call counting.

import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost } from "../../tools/host/index.ts";
import { inbound, messages, NODE, observations, probeModule, type Probe } from "./fixtures.ts";

/** define_metric(type, name) -> logs "S:<status>" then "id=<id>"; the id is kept at `slot`. */
function define(p: Probe, type: number, name: string, slot: number): string {
  return `(call $status (call $proxy_define_metric (i32.const ${type}) ${p.s(name)} (i32.const ${slot}))) (call $emit)
    (call $say_num ${p.s("id=")} (i32.load (i32.const ${slot})))`;
}

test("metric ids encode the type (counter 4, gauge 5, histogram 6, next counter 8); bad type is BadArgument", async () => {
  const wasm = await probeModule((p) => ({
    on: {
      proxy_on_configure: `${define(p, 0, "rbac.allowed", 2048)} ${define(p, 1, "g", 2052)} ${define(p, 2, "h", 2056)} ${define(p, 0, "rbac.denied", 2060)}
        (call $status (call $proxy_define_metric (i32.const 3) ${p.s("bad")} (i32.const 2064))) (call $emit)`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const worker = messages(host.logs.filter((l) => l.vm === "worker0")).filter((m) => m.startsWith("S:") || m.startsWith("id="));
  assert.deepEqual(worker, ["S:0", "id=4", "S:0", "id=5", "S:0", "id=6", "S:0", "id=8", "S:2"]);
});

test("counters: i64 deltas, delta <= 0 is BadArgument, values summed over workers, unknown id NotFound", async () => {
  const wasm = await probeModule((p) => ({
    on: {
      proxy_on_configure: `(drop (call $proxy_define_metric (i32.const 0) ${p.s("rbac.allowed")} (i32.const 2048)))
        (drop (call $proxy_define_metric (i32.const 1) ${p.s("inflight")} (i32.const 2052)))`,
      proxy_on_request_headers: `
        (call $status (call $proxy_increment_metric (i32.load (i32.const 2048)) (i64.const 1))) (call $emit)
        (call $status (call $proxy_increment_metric (i32.load (i32.const 2048)) (i64.const 0))) (call $emit)
        (call $status (call $proxy_increment_metric (i32.load (i32.const 2048)) (i64.const -3))) (call $emit)
        (call $status (call $proxy_increment_metric (i32.const 404) (i64.const 1))) (call $emit)
        (call $status (call $proxy_increment_metric (i32.load (i32.const 2052)) (i64.const 2))) (call $emit)
        (call $status (call $proxy_increment_metric (i32.load (i32.const 2052)) (i64.const -1))) (call $emit)
        (call $status (call $proxy_get_metric (i32.load (i32.const 2048)) (i32.const 2056))) (call $emit)
        (call $say_num ${p.s("value=")} (i32.load (i32.const 2056)))`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 2 });
  const first = host.request(inbound());
  assert.deepEqual(observations(first.logs), ["S:0", "S:2", "S:2", "S:1", "S:0", "S:0", "S:0"]);
  assert.ok(messages(first.logs).includes("value=1"));
  const second = host.request(inbound()); // the other worker: the stat is shared
  assert.ok(messages(second.logs).includes("value=2"));
  host.request(inbound());
  assert.deepEqual(host.metrics(), { "rbac.allowed": 3, inflight: 3 });
});

test("the canary's metrics are not counted", async () => {
  const wasm = await probeModule((p) => ({
    on: { proxy_on_configure: `(drop (call $proxy_define_metric (i32.const 0) ${p.s("c")} (i32.const 2048))) (drop (call $proxy_increment_metric (i32.load (i32.const 2048)) (i64.const 5)))` },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 2 });
  assert.deepEqual(host.metrics(), { c: 10 });
});

test("record_metric: counter adds, gauge sets, histogram records", async () => {
  const wasm = await probeModule((p) => ({
    on: {
      proxy_on_configure: `(drop (call $proxy_define_metric (i32.const 1) ${p.s("g")} (i32.const 2048))) (drop (call $proxy_define_metric (i32.const 2) ${p.s("h")} (i32.const 2052)))`,
      proxy_on_request_headers: `(drop (call $proxy_record_metric (i32.load (i32.const 2048)) (i64.const 42)))
        (drop (call $proxy_record_metric (i32.load (i32.const 2052)) (i64.const 7)))
        (call $status (call $proxy_get_metric (i32.load (i32.const 2052)) (i32.const 2056))) (call $emit)`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  assert.deepEqual(observations(host.request(inbound()).logs), ["S:2"]); // get on a histogram: BadArgument
  assert.deepEqual(host.metrics(), { g: 42 });
  assert.deepEqual(host.histograms(), { h: [7] });
});

test("proxy_log: levels 0..5 are recorded, above 5 is BadArgument; proxy_get_log_level reports the Envoy level", async () => {
  const wasm = await probeModule((p) => ({
    on: {
      proxy_on_request_headers: `(drop (call $proxy_log (i32.const 0) ${p.s("t")})) (drop (call $proxy_log (i32.const 5) ${p.s("c")}))
        (call $status (call $proxy_log (i32.const 6) ${p.s("x")})) (call $emit)
        (call $status (call $proxy_get_log_level (i32.const 2048))) (call $emit) (call $say_num ${p.s("level=")} (i32.load (i32.const 2048)))`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1, logLevel: 1 });
  const r = host.request(inbound());
  const levels = r.logs.filter((l) => l.message === "t" || l.message === "c").map((l) => l.level);
  assert.deepEqual(levels, [0, 5]);
  assert.deepEqual(observations(r.logs), ["S:2", "S:0"]);
  assert.ok(messages(r.logs).includes("level=1"));
  const dflt = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  assert.ok(messages(dflt.request(inbound()).logs).includes("level=3"), "warning by default (Istio)");
});

/** fd_write(fd, "text") with one iovec at 3000. */
function fdWrite(p: Probe, fd: number, text: string): string {
  return `(call $set_iov ${p.s(text)})
    (call $status (call $fd_write (i32.const ${fd}) (i32.const 3000) (i32.const 1) (i32.const 3008))) (call $emit)`;
}

test("WASI fd_write: fd 1 logs at info, fd 2 at error (one trailing newline dropped), other fds BADF", async () => {
  for (const wasi of ["wasi_snapshot_preview1", "wasi_unstable"] as const) {
    const wasm = await probeModule((p) => ({
      wasi,
      extra: `(func $set_iov (param $p i32) (param $n i32) (i32.store (i32.const 3000) (local.get $p)) (i32.store (i32.const 3004) (local.get $n)))`,
      on: { proxy_on_request_headers: `${fdWrite(p, 1, "to stdout\n")} ${fdWrite(p, 2, "to stderr")} ${fdWrite(p, 3, "nowhere")}` },
    }));
    const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
    const r = host.request(inbound());
    assert.deepEqual(r.logs.filter((l) => l.message.startsWith("to ")).map((l) => [l.level, l.message]), [[2, "to stdout"], [4, "to stderr"]]);
    assert.deepEqual(observations(r.logs), ["S:0", "S:0", "S:8"]);
    assert.equal(r.hostCalls.fd_write, 3);
  }
});

test("WASI proc_exit logs and returns; clock_time_get takes an i64 precision; random_get is capped at 64 KiB", async () => {
  const wasm = await probeModule((p) => ({
    wasi: "wasi_snapshot_preview1",
    on: {
      proxy_on_request_headers: `(call $proc_exit (i32.const 1)) (call $say ${p.s("after exit")})
        (call $status (call $clock_time_get (i32.const 0) (i64.const 1000) (i32.const 2048))) (call $emit)
        (call $status (call $clock_time_get (i32.const 2) (i64.const 1) (i32.const 2048))) (call $emit)
        (call $status (call $random_get (i32.const 150000) (i32.const 65536))) (call $emit)
        (call $status (call $random_get (i32.const 150000) (i32.const 65537))) (call $emit)
        (call $status (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 2048))) (call $emit)
        (call $say_num ${p.s("sec=")} (i32.wrap_i64 (i64.div_u (i64.load (i32.const 2048)) (i64.const 1000000000))))`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound());
  const m = messages(r.logs);
  assert.ok(m.indexOf("wasi_unstable proc_exit") >= 0 && m.indexOf("wasi_unstable proc_exit") < m.indexOf("after exit"));
  assert.equal(r.trap, null);
  assert.deepEqual(observations(r.logs), ["S:0", "S:58", "S:0", "S:28", "S:0"]);
  const sec = Number(m.find((x) => x.startsWith("sec="))!.slice(4));
  assert.ok(Math.abs(sec - Date.now() / 1000) < 5, `realtime clock: ${sec}`);
});

test("WASI environ returns vmConfig.env only", async () => {
  const wasm = await probeModule((p) => ({
    imports: `(import "wasi_snapshot_preview1" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "environ_get" (func $env_get (param i32 i32) (result i32)))`,
    on: {
      proxy_on_request_headers: `(drop (call $env_sizes (i32.const 2048) (i32.const 2052)))
        (call $say_num ${p.s("count=")} (i32.load (i32.const 2048))) (call $say_num ${p.s("bytes=")} (i32.load (i32.const 2052)))
        (drop (call $env_get (i32.const 2100) (i32.const 2200)))
        (call $say (i32.load (i32.const 2104)) (i32.const 5))`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1, env: { A: "1", BB: "22" } });
  const m = messages(host.request(inbound()).logs);
  assert.ok(m.includes("count=2"));
  assert.ok(m.includes(`bytes=${"A=1\0".length + "BB=22\0".length}`));
  assert.ok(m.includes("BB=22"), "the second variable's pointer");
  const none = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  assert.ok(messages(none.request(inbound()).logs).includes("count=0"));
});

test("host calls are counted per stream and cumulatively", async () => {
  const wasm = await probeModule((p) => ({ on: { proxy_on_request_headers: `(call $prop ${p.s("source\0address")}) (call $hdr (i32.const 0) ${p.s(":path")})` } }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const before = host.hostCallCounts();
  const r = host.request(inbound());
  assert.equal(r.hostCalls.proxy_get_property, 1);
  assert.equal(r.hostCalls.proxy_get_header_map_value, 1);
  assert.equal(r.hostCalls.proxy_log, r.logs.length);
  const after = host.hostCallCounts();
  assert.equal(after.proxy_get_property, (before.proxy_get_property ?? 0) + 1);
  assert.equal(after.proxy_log - before.proxy_log, r.logs.length);
});

test("proxy_set_tick_period_milliseconds arms the root timer; tick() delivers proxy_on_tick(root)", async () => {
  const wasm = await compileTickModule();
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 2 });
  host.tick();
  assert.deepEqual(messages(host.logs).filter((m) => m.startsWith("cb on_tick")), ["cb on_tick 1", "cb on_tick 1"]);
});

async function compileTickModule(): Promise<Uint8Array> {
  const { compileWat } = await import("./fixtures.ts");
  return compileWat(`(module
    (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
    (import "env" "proxy_set_tick_period_milliseconds" (func $tick (param i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 100) "cb on_tick 1")
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "malloc") (param i32) (result i32) (i32.const 4096))
    (func (export "proxy_on_configure") (param i32 i32) (result i32) (drop (call $tick (i32.const 1000))) (i32.const 1))
    (func (export "proxy_on_tick") (param i32) (drop (call $log (i32.const 2) (i32.const 100) (i32.const 12)))))`);
}
