// Test fixtures for the proxy-wasm host: tiny modules written in WAT and compiled with wabt.
// A "probe" module reports what it observes through proxy_log, one line per observation, so
// tests read StreamResult.logs / host.logs instead of poking into module memory:
//   "cb <callback> <args...>"          every callback, on entry
//   "S:<status> V:<hex> P:<ptr>"       a property read ($prop)
//   "S:<status> V:<text>"              a header value read ($hdr)
//   "S:<status> P:<ptr> L:<len> V:<hex>"  header pairs ($pairs)
//   "malloc <size>"                    every allocation (when mallocLogs is set)

import wabtInit from "wabt";

type Wabt = Awaited<ReturnType<typeof wabtInit>>;
let wabtPromise: Promise<Wabt> | null = null;

export async function compileWat(text: string): Promise<Uint8Array> {
  wabtPromise ??= wabtInit();
  const wabt = await wabtPromise;
  const mod = wabt.parseWat("fixture.wat", text, { bulk_memory: true, mutable_globals: true, multi_value: true });
  try {
    mod.validate();
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}

/** WAT string literal with every byte escaped (so NULs and UTF-8 are exact). */
export function watString(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += `\\${b.toString(16).padStart(2, "0")}`;
  return `"${s}"`;
}

const encoder = new TextEncoder();

/** Static data placed from offset 8192 up; `ref` gives "(i32.const ptr) (i32.const len)". */
export class DataSegment {
  private next = 8192;
  private readonly segments: string[] = [];
  private readonly cache = new Map<string, string>();

  ref(text: string | Uint8Array): string {
    const key = typeof text === "string" ? `s:${text}` : `b:${[...text].join(",")}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const bytes = typeof text === "string" ? encoder.encode(text) : text;
    const ptr = this.next;
    this.next += bytes.length + 8 - (bytes.length % 8);
    if (this.next > 60000) throw new Error("fixture data too large");
    this.segments.push(`(data (i32.const ${ptr}) ${watString(bytes)})`);
    const r = `(i32.const ${ptr}) (i32.const ${bytes.length})`;
    this.cache.set(key, r);
    return r;
  }

  wat(): string {
    return this.segments.join("\n  ");
  }
}

/** The probe's standard imports (all in Envoy's 0.2.1 table with their exact types). */
export const PROBE_IMPORTS: Record<string, string> = {
  proxy_log: "(param i32 i32 i32) (result i32)",
  proxy_get_property: "(param i32 i32 i32 i32) (result i32)",
  proxy_set_property: "(param i32 i32 i32 i32) (result i32)",
  proxy_get_header_map_value: "(param i32 i32 i32 i32 i32) (result i32)",
  proxy_get_header_map_pairs: "(param i32 i32 i32) (result i32)",
  proxy_set_header_map_pairs: "(param i32 i32 i32) (result i32)",
  proxy_add_header_map_value: "(param i32 i32 i32 i32 i32) (result i32)",
  proxy_get_header_map_size: "(param i32 i32) (result i32)",
  proxy_send_local_response: "(param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)",
  proxy_get_buffer_bytes: "(param i32 i32 i32 i32 i32) (result i32)",
  proxy_define_metric: "(param i32 i32 i32 i32) (result i32)",
  proxy_increment_metric: "(param i32 i64) (result i32)",
  proxy_record_metric: "(param i32 i64) (result i32)",
  proxy_get_metric: "(param i32 i32) (result i32)",
  proxy_continue_stream: "(param i32) (result i32)",
  proxy_close_stream: "(param i32) (result i32)",
  proxy_get_log_level: "(param i32) (result i32)",
};

export const WASI_IMPORTS: Record<string, string> = {
  fd_write: "(param i32 i32 i32 i32) (result i32)",
  proc_exit: "(param i32)",
  clock_time_get: "(param i32 i64 i32) (result i32)",
  random_get: "(param i32 i32) (result i32)",
};

type Callback =
  | "proxy_on_context_create"
  | "proxy_on_vm_start"
  | "proxy_on_configure"
  | "proxy_on_request_headers"
  | "proxy_on_response_headers"
  | "proxy_on_request_body"
  | "proxy_on_response_body"
  | "proxy_on_log"
  | "proxy_on_done"
  | "proxy_on_delete"
  | "proxy_on_tick"
  | "proxy_on_new_connection"
  | "proxy_on_downstream_data"
  | "proxy_on_upstream_data"
  | "proxy_on_downstream_connection_close"
  | "proxy_on_upstream_connection_close";

const CALLBACK_ARITY: Record<Callback, { params: number; result: boolean; ret: number }> = {
  proxy_on_context_create: { params: 2, result: false, ret: 0 },
  proxy_on_vm_start: { params: 2, result: true, ret: 1 },
  proxy_on_configure: { params: 2, result: true, ret: 1 },
  proxy_on_request_headers: { params: 3, result: true, ret: 0 },
  proxy_on_response_headers: { params: 3, result: true, ret: 0 },
  proxy_on_request_body: { params: 3, result: true, ret: 0 },
  proxy_on_response_body: { params: 3, result: true, ret: 0 },
  proxy_on_log: { params: 1, result: false, ret: 0 },
  proxy_on_done: { params: 1, result: true, ret: 1 },
  proxy_on_delete: { params: 1, result: false, ret: 0 },
  proxy_on_tick: { params: 1, result: false, ret: 0 },
  proxy_on_new_connection: { params: 1, result: true, ret: 0 },
  proxy_on_downstream_data: { params: 3, result: true, ret: 0 },
  proxy_on_upstream_data: { params: 3, result: true, ret: 0 },
  proxy_on_downstream_connection_close: { params: 2, result: false, ret: 0 },
  proxy_on_upstream_connection_close: { params: 2, result: false, ret: 0 },
};

export interface ProbeOptions {
  /** Extra code at the start of a callback (after its "cb" line). */
  on?: Partial<Record<Callback, string>>;
  /** A callback's return value (WAT expression or number). */
  ret?: Partial<Record<Callback, string | number>>;
  /** Callbacks not to export at all. */
  omit?: Callback[];
  /** Code run in `_initialize` (exported only when given). */
  initialize?: string;
  /** Code run in `_start` (exported only when given). */
  start?: string;
  /** Code run inside malloc before it returns (the size is in local $n). */
  mallocHook?: string;
  mallocLogs?: boolean;
  /** Where the bump allocator starts (default 128 KiB; memory is 4 pages). */
  heapStart?: number;
  /** Import WASI functions (from this module name). */
  wasi?: "wasi_snapshot_preview1" | "wasi_unstable";
  /** More top-level WAT (functions, globals, exports). */
  extra?: string;
  /** More import lines (placed with the other imports, as WAT requires). */
  imports?: string;
  /** ABI marker export suffix (default 0_2_1). */
  abi?: string;
}

export interface Probe {
  /** (i32.const ptr) (i32.const len) of a string in the module's data. */
  s(text: string | Uint8Array): string;
}

/** Builds a probe module; `body` receives the data helper to embed strings. */
export async function probeModule(build: (p: Probe) => ProbeOptions = () => ({})): Promise<Uint8Array> {
  const data = new DataSegment();
  const p: Probe = { s: (t) => data.ref(t) };
  const o = build(p);
  const imports = Object.entries(PROBE_IMPORTS)
    .map(([n, sig]) => `(import "env" "${n}" (func $${n} ${sig}))`)
    .concat(o.wasi ? Object.entries(WASI_IMPORTS).map(([n, sig]) => `(import "${o.wasi}" "${n}" (func $${n} ${sig}))`) : [])
    .concat(o.imports ? [o.imports] : [])
    .join("\n  ");
  const callbacks = (Object.keys(CALLBACK_ARITY) as Callback[])
    .filter((cb) => !(o.omit ?? []).includes(cb))
    .map((cb) => {
      const a = CALLBACK_ARITY[cb];
      const params = Array.from({ length: a.params }, (_, i) => `(param $a${i} i32)`).join(" ");
      const name = cb.replace(/^proxy_/, "");
      const trace = `(call $put_str ${data.ref(`cb ${name}`)})` +
        Array.from({ length: a.params }, (_, i) => ` (call $put_byte (i32.const 32)) (call $put_num (local.get $a${i}))`).join("") +
        " (call $emit)";
      const r = o.ret?.[cb] ?? a.ret;
      const ret = a.result ? (typeof r === "number" ? `(i32.const ${r})` : r) : "";
      return `(func (export "${cb}") ${params} ${a.result ? "(result i32)" : ""}\n    ${trace}\n    ${o.on?.[cb] ?? ""}\n    ${ret})`;
    })
    .join("\n  ");
  const mallocLog = o.mallocLogs ? `(call $put_str ${data.ref("malloc ")}) (call $put_num (local.get $n)) (call $emit)` : "";
  const text = `(module
  ${imports}
  (memory (export "memory") 4)
  (global $heap (mut i32) (i32.const ${o.heapStart ?? 131072}))
  (global $cur (mut i32) (i32.const 65536))
  (global $g (mut i32) (i32.const 0))
  (func (export "proxy_abi_version_${o.abi ?? "0_2_1"}"))
  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32) (local $need i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8))))
    (local.set $need (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536))))
    (if (i32.gt_s (local.get $need) (i32.const 0))
      (then (drop (memory.grow (i32.add (i32.div_u (local.get $need) (i32.const 65536)) (i32.const 1))))))
    ${mallocLog}
    ${o.mallocHook ?? ""}
    (local.get $p))
  ;; ---- line building: put_* append at $cur, emit logs the line at info and resets
  (func $put_byte (param $b i32)
    (i32.store8 (global.get $cur) (local.get $b))
    (global.set $cur (i32.add (global.get $cur) (i32.const 1))))
  (func $put_str (param $p i32) (param $n i32) (local $i i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (call $put_byte (i32.load8_u (i32.add (local.get $p) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))
  (func $put_num (param $v i32)
    (if (i32.ge_u (local.get $v) (i32.const 10)) (then (call $put_num (i32.div_u (local.get $v) (i32.const 10)))))
    (call $put_byte (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10)))))
  (func $hexdigit (param $d i32) (result i32)
    (select (i32.add (local.get $d) (i32.const 48)) (i32.add (local.get $d) (i32.const 87)) (i32.lt_u (local.get $d) (i32.const 10))))
  (func $put_hex (param $p i32) (param $n i32) (local $i i32) (local $b i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $b (i32.load8_u (i32.add (local.get $p) (local.get $i))))
      (call $put_byte (call $hexdigit (i32.shr_u (local.get $b) (i32.const 4))))
      (call $put_byte (call $hexdigit (i32.and (local.get $b) (i32.const 15))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))
  (func $emit
    (drop (call $proxy_log (i32.const 2) (i32.const 65536) (i32.sub (global.get $cur) (i32.const 65536))))
    (global.set $cur (i32.const 65536)))
  (func $say (param $p i32) (param $n i32) (call $put_str (local.get $p) (local.get $n)) (call $emit))
  (func $say_num (param $p i32) (param $n i32) (param $v i32)
    (call $put_str (local.get $p) (local.get $n)) (call $put_num (local.get $v)) (call $emit))
  ;; ---- observations
  (func $status (param $s i32)
    (call $put_byte (i32.const 83)) (call $put_byte (i32.const 58)) (call $put_num (local.get $s)))
  (func $prop (param $p i32) (param $n i32) (local $s i32)
    (local.set $s (call $proxy_get_property (local.get $p) (local.get $n) (i32.const 1024) (i32.const 1028)))
    (call $status (local.get $s))
    (if (i32.eqz (local.get $s)) (then
      (call $put_byte (i32.const 32)) (call $put_byte (i32.const 86)) (call $put_byte (i32.const 58))
      (call $put_hex (i32.load (i32.const 1024)) (i32.load (i32.const 1028)))
      (call $put_byte (i32.const 32)) (call $put_byte (i32.const 80)) (call $put_byte (i32.const 58))
      (call $put_num (i32.load (i32.const 1024)))))
    (call $emit))
  (func $hdr (param $t i32) (param $p i32) (param $n i32) (local $s i32)
    (local.set $s (call $proxy_get_header_map_value (local.get $t) (local.get $p) (local.get $n) (i32.const 1024) (i32.const 1028)))
    (call $status (local.get $s))
    (if (i32.eqz (local.get $s)) (then
      (call $put_byte (i32.const 32)) (call $put_byte (i32.const 86)) (call $put_byte (i32.const 58))
      (call $put_str (i32.load (i32.const 1024)) (i32.load (i32.const 1028)))))
    (call $emit))
  (func $pairs (param $t i32) (local $s i32)
    (i32.store (i32.const 1024) (i32.const 77)) (i32.store (i32.const 1028) (i32.const 77))
    (local.set $s (call $proxy_get_header_map_pairs (local.get $t) (i32.const 1024) (i32.const 1028)))
    (call $status (local.get $s))
    (call $put_byte (i32.const 32)) (call $put_byte (i32.const 80)) (call $put_byte (i32.const 58))
    (call $put_num (i32.load (i32.const 1024)))
    (call $put_byte (i32.const 32)) (call $put_byte (i32.const 76)) (call $put_byte (i32.const 58))
    (call $put_num (i32.load (i32.const 1028)))
    (call $put_byte (i32.const 32)) (call $put_byte (i32.const 86)) (call $put_byte (i32.const 58))
    (call $put_hex (i32.load (i32.const 1024)) (i32.load (i32.const 1028)))
    (call $emit))
  (func $hsize (param $t i32) (local $s i32)
    (local.set $s (call $proxy_get_header_map_size (local.get $t) (i32.const 1032)))
    (call $status (local.get $s))
    (call $put_byte (i32.const 32)) (call $put_byte (i32.const 78)) (call $put_byte (i32.const 58))
    (call $put_num (i32.load (i32.const 1032)))
    (call $emit))
  (func $buf (param $t i32) (local $s i32)
    (i32.store (i32.const 1024) (i32.const 77)) (i32.store (i32.const 1028) (i32.const 77))
    (local.set $s (call $proxy_get_buffer_bytes (local.get $t) (i32.const 0) (i32.const -1) (i32.const 1024) (i32.const 1028)))
    (call $status (local.get $s))
    (if (i32.eqz (local.get $s)) (then
      (call $put_byte (i32.const 32)) (call $put_byte (i32.const 86)) (call $put_byte (i32.const 58))
      (call $put_str (i32.load (i32.const 1024)) (i32.load (i32.const 1028)))
      (call $put_byte (i32.const 32)) (call $put_byte (i32.const 80)) (call $put_byte (i32.const 58))
      (call $put_num (i32.load (i32.const 1024)))))
    (call $emit))
  ${o.initialize !== undefined ? `(func (export "_initialize") ${o.initialize})` : ""}
  ${o.start !== undefined ? `(func (export "_start") ${o.start})` : ""}
  ${callbacks}
  ${o.extra ?? ""}
  ${data.wat()}
)`;
  return compileWat(text);
}

/** Log messages only (drops the vm/level). */
export function messages(logs: ReadonlyArray<{ message: string }>): string[] {
  return logs.map((l) => l.message);
}

/** The "cb ..." lines, in order. */
export function callbackTrace(logs: ReadonlyArray<{ message: string }>): string[] {
  return messages(logs).filter((m) => m.startsWith("cb "));
}

/** Observation lines ("S:..."), in order. */
export function observations(logs: ReadonlyArray<{ message: string }>): string[] {
  return messages(logs).filter((m) => m.startsWith("S:"));
}

export function hex(bytes: Uint8Array | number[]): string {
  return Buffer.from(bytes).toString("hex");
}

export function hexText(s: string): string {
  return Buffer.from(s, "utf8").toString("hex");
}

export function i64le(v: number | bigint): string {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(v));
  return b.toString("hex");
}

export function f64le(v: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return b.toString("hex");
}

/** A typical inbound sidecar request. */
export function inbound(over: Partial<import("../../tools/host/types.ts").StreamSpec> = {}): import("../../tools/host/types.ts").StreamSpec {
  return {
    headers: [
      [":method", "GET"],
      [":path", "/api/items?x=1"],
      [":authority", "svc.ns.svc.cluster.local"],
      [":scheme", "http"],
      ["user-agent", "curl/8"],
    ],
    downstreamRemote: "10.1.2.3:45678",
    downstreamLocal: "10.9.8.7:8080",
    tls: { uriSans: ["spiffe://cluster.local/ns/foo/sa/bar"], dnsSans: ["bar.foo.svc"], subject: "O=cluster.local", sni: "outbound_.8080_._.svc.ns.svc.cluster.local" },
    ...over,
  };
}

export const NODE = {
  id: "sidecar~10.9.8.7~app-1.ns~ns.svc.cluster.local",
  metadata: { NAMESPACE: "ns", LABELS: { app: "web", version: "v1" }, WORKLOAD_NAME: "app" },
};
