// Load-time checks: Envoy links imports by name and exact type, needs exactly one ABI marker, an
// allocator, a memory, and exact callback signatures (spec §1.1, §9, §12.1).

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { checkModuleForEnvoy, EnvoyHost, HostLoadError, inspectModule, envoyImportTable } from "../../tools/host/index.ts";
import { buildEnvoyImports } from "../../tools/host/host-functions.ts";
import { parseModule } from "../../tools/host/wasm-binary.ts";
import { Vm } from "../../tools/host/vm.ts";
import { StatStore } from "../../tools/host/metrics.ts";
import { SharedData } from "../../tools/host/shared-data.ts";
import { compileWat, NODE, probeModule } from "./fixtures.ts";

/** A minimal module: memory, malloc, marker, plus the given imports/exports. */
async function minimal(opts: { imports?: string; exports?: string; marker?: string | null; malloc?: string | null; memory?: string | null } = {}) {
  const marker = opts.marker === undefined ? "proxy_abi_version_0_2_1" : opts.marker;
  const malloc = opts.malloc === undefined ? "malloc" : opts.malloc;
  const memory = opts.memory === undefined ? `(memory (export "memory") 1)` : (opts.memory ?? "");
  return compileWat(`(module
    ${opts.imports ?? ""}
    ${memory}
    ${marker ? `(func (export "${marker}"))` : ""}
    ${malloc ? `(func (export "${malloc}") (param i32) (result i32) (i32.const 1024))` : ""}
    ${opts.exports ?? ""}
  )`);
}

async function refused(wasm: Uint8Array): Promise<string[]> {
  const reasons = checkModuleForEnvoy(wasm);
  await assert.rejects(EnvoyHost.create({ wasm, configuration: "", node: NODE }), (e: unknown) => {
    assert.ok(e instanceof HostLoadError, `expected HostLoadError, got ${e}`);
    assert.deepEqual(e.reasons, reasons);
    return true;
  });
  assert.ok(reasons.length > 0);
  return reasons;
}

test("a well-formed probe module loads, and inspectModule reports exact types", async () => {
  const wasm = await probeModule();
  assert.deepEqual(checkModuleForEnvoy(wasm), []);
  const info = inspectModule(wasm);
  const inc = info.imports.find((i) => i.name === "proxy_increment_metric")!;
  assert.deepEqual(inc, { module: "env", name: "proxy_increment_metric", kind: "func", type: { params: ["i32", "i64"], results: ["i32"] } });
  const rh = info.exports.find((e) => e.name === "proxy_on_request_headers")!;
  assert.deepEqual(rh.type, { params: ["i32", "i32", "i32"], results: ["i32"] });
  assert.equal(info.exports.find((e) => e.name === "memory")!.kind, "memory");
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE });
  assert.equal(host.configAccepted, true);
});

test("refuses a module importing env.abort (AssemblyScript's default abort)", async () => {
  const wasm = await minimal({ imports: `(import "env" "abort" (func (param i32 i32 i32 i32)))` });
  const reasons = await refused(wasm);
  assert.equal(reasons.length, 1);
  assert.match(reasons[0], /missing import: env\.abort/);
});

test("refuses the other AssemblyScript env imports Envoy does not provide", async () => {
  const wasm = await minimal({
    imports: `(import "env" "seed" (func (result f64)))
      (import "env" "Date.now" (func (result f64)))
      (import "env" "console.log" (func (param i32)))
      (import "env" "trace" (func (param i32 i32 f64 f64 f64 f64 f64)))`,
  });
  const reasons = await refused(wasm);
  for (const n of ["env.seed", "env.Date.now", "env.console.log", "env.trace"]) assert.ok(reasons.some((r) => r.includes(n)), n);
});

test("refuses a wrong-typed import: proxy-runtime's 10-parameter proxy_grpc_call", async () => {
  const wasm = await minimal({ imports: `(import "env" "proxy_grpc_call" (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))` });
  const [reason] = await refused(wasm);
  assert.match(reason, /import type mismatch: env\.proxy_grpc_call/);
  assert.match(reason, /want \(i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32\) -> \(i32\)/);
});

test("an i32 where Envoy has an i64 is a mismatch too", async () => {
  const wasm = await minimal({ imports: `(import "env" "proxy_increment_metric" (func (param i32 i32) (result i32)))` });
  const [reason] = await refused(wasm);
  assert.match(reason, /proxy_increment_metric/);
});

test("refuses proxy_clear_route_cache under ABI 0.2.1 but accepts it under 0.1.0", async () => {
  const imp = `(import "env" "proxy_clear_route_cache" (func (result i32)))`;
  const [reason] = await refused(await minimal({ imports: imp }));
  assert.match(reason, /missing import: env\.proxy_clear_route_cache/);
  assert.deepEqual(checkModuleForEnvoy(await minimal({ imports: imp, marker: "proxy_abi_version_0_1_0" })), []);
});

test("proxy_get_log_level exists only for 0.2.1; continue/close_stream for 0.2.x", async () => {
  const log = `(import "env" "proxy_get_log_level" (func (param i32) (result i32)))`;
  assert.deepEqual(checkModuleForEnvoy(await minimal({ imports: log })), []);
  assert.equal(checkModuleForEnvoy(await minimal({ imports: log, marker: "proxy_abi_version_0_2_0" })).length, 1);
  const cont = `(import "env" "proxy_continue_stream" (func (param i32) (result i32)))`;
  assert.deepEqual(checkModuleForEnvoy(await minimal({ imports: cont, marker: "proxy_abi_version_0_2_0" })), []);
  assert.equal(checkModuleForEnvoy(await minimal({ imports: cont, marker: "proxy_abi_version_0_1_0" })).length, 1);
});

test("WASI is provided under both module names; functions outside Envoy's set are refused", async () => {
  const ok = `(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
    (import "wasi_unstable" "proc_exit" (func (param i32)))
    (import "wasi_unstable" "clock_time_get" (func (param i32 i64 i32) (result i32)))`;
  assert.deepEqual(checkModuleForEnvoy(await minimal({ imports: ok })), []);
  const bad = `(import "wasi_snapshot_preview1" "poll_oneoff" (func (param i32 i32 i32 i32) (result i32)))`;
  const [reason] = await refused(await minimal({ imports: bad }));
  assert.match(reason, /wasi_snapshot_preview1\.poll_oneoff/);
});

test("refuses a missing ABI marker", async () => {
  const [reason] = await refused(await minimal({ marker: null }));
  assert.match(reason, /Missing or unknown Proxy-Wasm ABI version/);
});

test("refuses more than one ABI marker and the vNEXT marker", async () => {
  const two = await minimal({ exports: `(func (export "proxy_abi_version_0_2_0"))` });
  assert.match((await refused(two))[0], /more than one/);
  const next = await minimal({ marker: "proxy_abi_version_vNEXT" });
  assert.match((await refused(next))[0], /Missing or unknown Proxy-Wasm ABI version/);
});

test("refuses a module without malloc or proxy_on_memory_allocate; accepts either", async () => {
  const [reason] = await refused(await minimal({ malloc: null }));
  assert.match(reason, /missing malloc function/);
  assert.deepEqual(checkModuleForEnvoy(await minimal({ malloc: "proxy_on_memory_allocate" })), []);
});

test("refuses a malloc with the wrong signature", async () => {
  const wasm = await minimal({ malloc: null, exports: `(func (export "malloc") (param i64) (result i32) (i32.const 0))` });
  assert.ok((await refused(wasm)).some((r) => /Bad function signature for: malloc/.test(r)));
});

test("refuses a global import", async () => {
  const wasm = await minimal({ imports: `(import "env" "__stack_pointer" (global (mut i32)))` });
  const [reason] = await refused(wasm);
  assert.match(reason, /global env\.__stack_pointer/);
});

test("refuses a wrong callback signature (2-parameter on_request_headers under 0.2.1)", async () => {
  const cb = `(func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.const 0))`;
  const [reason] = await refused(await minimal({ exports: cb }));
  assert.match(reason, /Bad function signature for: proxy_on_request_headers, want \(i32, i32, i32\) -> \(i32\)/);
  // ...which is the right signature under ABI 0.1.0.
  assert.deepEqual(checkModuleForEnvoy(await minimal({ exports: cb, marker: "proxy_abi_version_0_1_0" })), []);
  const log = `(func (export "proxy_on_log") (param i32) (result i32) (i32.const 0))`;
  assert.match((await refused(await minimal({ exports: log })))[0], /proxy_on_log/);
});

test("refuses a module without memory; an imported memory is enough", async () => {
  const [reason] = await refused(await minimal({ memory: null }));
  assert.match(reason, /memory/);
  assert.deepEqual(checkModuleForEnvoy(await minimal({ memory: `(import "env" "memory" (memory 1))` })), []);
});

test("HostLoadError lists every reason at once", async () => {
  const wasm = await minimal({
    marker: null,
    malloc: null,
    imports: `(import "env" "abort" (func (param i32 i32 i32 i32))) (import "env" "g" (global i32))`,
  });
  const reasons = await refused(wasm);
  assert.equal(reasons.length, 4, reasons.join("\n"));
});

test("refuses bytes that are not Wasm", async () => {
  const reasons = await refused(new TextEncoder().encode("not wasm at all"));
  assert.match(reasons[0], /magic/);
});

test("the imports object holds only Envoy's table: no env.abort, exact names", async () => {
  const wasm = await probeModule();
  const parsed = parseModule(wasm);
  const plugin = {
    name: "n", rootId: "r", vmId: "", configuration: new Uint8Array(), vmConfiguration: new Uint8Array(),
    node: NODE, nodeCluster: "", legacyNodeName: false, failOpen: false, logLevel: 3, env: [],
  };
  const vm = new Vm("t", "0.2.1", plugin, { logs: [], streamLogs: null, streamReads: null, sharedData: new SharedData() }, new StatStore());
  const imports = buildEnvoyImports(vm, parsed) as Record<string, Record<string, unknown>>;
  const table = envoyImportTable("0.2.1");
  assert.deepEqual(Object.keys(imports).sort(), Object.keys(table).sort());
  for (const m of Object.keys(table)) assert.deepEqual(Object.keys(imports[m]).sort(), Object.keys(table[m]).sort());
  assert.equal(imports.env.abort, undefined);
  assert.equal(imports.env.proxy_clear_route_cache, undefined);
});

test("a host call from a Wasm start section refuses the module (Envoy has no context there)", async () => {
  const wasm = await compileWat(`(module
    (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "malloc") (param i32) (result i32) (i32.const 1024))
    (func $init (drop (call $log (i32.const 2) (i32.const 0) (i32.const 1))))
    (start $init))`);
  assert.deepEqual(checkModuleForEnvoy(wasm), []);
  await assert.rejects(EnvoyHost.create({ wasm, configuration: "", node: NODE }), (e: unknown) => {
    assert.ok(e instanceof HostLoadError);
    assert.match(e.message, /start section/);
    return true;
  });
});

test("the project's own build loads, when present", { skip: !existsSync(fileURLToPath(new URL("../../build/meshauthz.wasm", import.meta.url))) && "build/meshauthz.wasm not built" }, () => {
  const wasm = readFileSync(fileURLToPath(new URL("../../build/meshauthz.wasm", import.meta.url)));
  assert.deepEqual(checkModuleForEnvoy(wasm), []);
});
