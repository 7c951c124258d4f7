// Envoy's side of the proxy-wasm ABI as data: the host functions it registers (by ABI version),
// the callback signatures it looks up, and the host calls allowed in its restricted phases.
// Source: ../shared/spec/proxy-wasm-envoy.md §1.1, §4.3, §9 (cpp-host wasm.cc registerCallbacks,
// getFunctions, startVm, allocMemory; exports.h). Envoy links by name AND exact Wasm type.

import type { FuncType } from "./wasm-binary.ts";

export type AbiVersion = "0.1.0" | "0.2.0" | "0.2.1";

/** Export names Envoy reads to pick the ABI; exactly one must be present. vNEXT is not accepted. */
export const ABI_MARKERS: Readonly<Record<string, AbiVersion>> = {
  proxy_abi_version_0_1_0: "0.1.0",
  proxy_abi_version_0_2_0: "0.2.0",
  proxy_abi_version_0_2_1: "0.2.1",
};

const I = "i32";
const L = "i64";
function sig(params: string[], results: string[] = [I]): FuncType {
  return { params, results };
}
const i32s = (n: number) => new Array<string>(n).fill(I);

/** `env.proxy_*` functions registered for every ABI version (FOR_ALL_HOST_FUNCTIONS). */
export const ENVOY_ENV_COMMON: Readonly<Record<string, FuncType>> = {
  proxy_log: sig(i32s(3)),
  proxy_get_status: sig(i32s(3)),
  proxy_set_tick_period_milliseconds: sig(i32s(1)),
  proxy_get_current_time_nanoseconds: sig(i32s(1)),
  proxy_get_property: sig(i32s(4)),
  proxy_set_property: sig(i32s(4)),
  proxy_send_local_response: sig(i32s(8)),
  proxy_get_header_map_pairs: sig(i32s(3)),
  proxy_set_header_map_pairs: sig(i32s(3)),
  proxy_get_header_map_value: sig(i32s(5)),
  proxy_add_header_map_value: sig(i32s(5)),
  proxy_replace_header_map_value: sig(i32s(5)),
  proxy_remove_header_map_value: sig(i32s(3)),
  proxy_get_header_map_size: sig(i32s(2)),
  proxy_get_buffer_bytes: sig(i32s(5)),
  proxy_get_buffer_status: sig(i32s(3)),
  proxy_set_buffer_bytes: sig(i32s(5)),
  proxy_http_call: sig(i32s(10)),
  proxy_grpc_call: sig(i32s(12)),
  proxy_grpc_stream: sig(i32s(9)),
  proxy_grpc_send: sig(i32s(4)),
  proxy_grpc_cancel: sig(i32s(1)),
  proxy_grpc_close: sig(i32s(1)),
  proxy_set_effective_context: sig(i32s(1)),
  proxy_done: sig([]),
  proxy_call_foreign_function: sig(i32s(6)),
  proxy_define_metric: sig(i32s(4)),
  proxy_increment_metric: sig([I, L]),
  proxy_record_metric: sig([I, L]),
  proxy_get_metric: sig(i32s(2)),
  proxy_get_shared_data: sig(i32s(5)),
  proxy_set_shared_data: sig(i32s(5)),
  proxy_register_shared_queue: sig(i32s(3)),
  proxy_resolve_shared_queue: sig(i32s(5)),
  proxy_dequeue_shared_queue: sig(i32s(3)),
  proxy_enqueue_shared_queue: sig(i32s(3)),
};

/** Functions registered only for the declared ABI: a 0.2.1 module importing proxy_clear_route_cache does not load. */
export const ENVOY_ENV_BY_ABI: Readonly<Record<AbiVersion, Readonly<Record<string, FuncType>>>> = {
  "0.1.0": {
    proxy_get_configuration: sig(i32s(2)),
    proxy_continue_request: sig([]),
    proxy_continue_response: sig([]),
    proxy_clear_route_cache: sig([]),
  },
  "0.2.0": {
    proxy_continue_stream: sig(i32s(1)),
    proxy_close_stream: sig(i32s(1)),
  },
  "0.2.1": {
    proxy_continue_stream: sig(i32s(1)),
    proxy_close_stream: sig(i32s(1)),
    proxy_get_log_level: sig(i32s(1)),
  },
};

/**
 * WASI functions, registered under both module names. This is the set every Envoy since 2022 has
 * (the "safe set" of spec §9); the Dec 2024 / Apr 2026 additions (poll_oneoff, sched_yield, ...)
 * are left out on purpose, so a module that loads here also loads in Istio 1.24's Envoy.
 * env.pthread_equal, env.emscripten_notify_memory_growth and env.envoy_resolve_dns are also left
 * out: no AssemblyScript filter needs them and the independent checker does not list them.
 */
export const ENVOY_WASI: Readonly<Record<string, FuncType>> = {
  fd_write: sig(i32s(4)),
  fd_read: sig(i32s(4)),
  fd_seek: sig([I, L, I, I]),
  fd_close: sig(i32s(1)),
  fd_fdstat_get: sig(i32s(2)),
  environ_get: sig(i32s(2)),
  environ_sizes_get: sig(i32s(2)),
  args_get: sig(i32s(2)),
  args_sizes_get: sig(i32s(2)),
  clock_time_get: sig([I, L, I]),
  random_get: sig(i32s(2)),
  proc_exit: sig([I], []),
  fd_prestat_get: sig(i32s(2)),
  fd_prestat_dir_name: sig(i32s(3)),
  path_open: sig([I, I, I, I, I, L, L, I, I]),
};

export const WASI_MODULES = ["wasi_snapshot_preview1", "wasi_unstable"] as const;

/** Envoy's import table for a module declaring `abi` (null = no marker: only the common functions). */
export function envoyImportTable(abi: AbiVersion | null): Record<string, Record<string, FuncType>> {
  const env: Record<string, FuncType> = { ...ENVOY_ENV_COMMON, ...(abi ? ENVOY_ENV_BY_ABI[abi] : {}) };
  const table: Record<string, Record<string, FuncType>> = { env };
  for (const m of WASI_MODULES) table[m] = { ...ENVOY_WASI };
  return table;
}

/**
 * Exports Envoy looks up by name; V8 refuses the VM when one exists with another type
 * ("Bad function signature for: X"). Header callbacks have 2 parameters under ABI 0.1.0.
 */
export function envoyCallbackSignatures(abi: AbiVersion | null): Record<string, FuncType> {
  const headers = abi === "0.1.0" ? sig(i32s(2)) : sig(i32s(3));
  const table: Record<string, FuncType> = {
    _initialize: sig([], []),
    _start: sig([], []),
    main: sig(i32s(2)),
    __main_void: sig([]),
    malloc: sig(i32s(1)),
    proxy_on_memory_allocate: sig(i32s(1)),
    proxy_validate_configuration: sig(i32s(2)),
    proxy_on_vm_start: sig(i32s(2)),
    proxy_on_configure: sig(i32s(2)),
    proxy_on_tick: sig(i32s(1), []),
    proxy_on_context_create: sig(i32s(2), []),
    proxy_on_new_connection: sig(i32s(1)),
    proxy_on_downstream_data: sig(i32s(3)),
    proxy_on_upstream_data: sig(i32s(3)),
    proxy_on_downstream_connection_close: sig(i32s(2), []),
    proxy_on_upstream_connection_close: sig(i32s(2), []),
    proxy_on_request_headers: headers,
    proxy_on_request_body: sig(i32s(3)),
    proxy_on_request_trailers: sig(i32s(2)),
    proxy_on_request_metadata: sig(i32s(2)),
    proxy_on_response_headers: headers,
    proxy_on_response_body: sig(i32s(3)),
    proxy_on_response_trailers: sig(i32s(2)),
    proxy_on_response_metadata: sig(i32s(2)),
    proxy_on_http_call_response: sig(i32s(5), []),
    proxy_on_grpc_receive: sig(i32s(3), []),
    proxy_on_grpc_close: sig(i32s(3), []),
    proxy_on_grpc_receive_initial_metadata: sig(i32s(3), []),
    proxy_on_grpc_receive_trailing_metadata: sig(i32s(3), []),
    proxy_on_queue_ready: sig(i32s(2), []),
    proxy_on_done: sig(i32s(1)),
    proxy_on_log: sig(i32s(1), []),
    proxy_on_delete: sig(i32s(1), []),
  };
  if (abi !== "0.1.0") table.proxy_on_foreign_function = sig(i32s(3), []);
  return table;
}

/**
 * Host calls allowed while `_initialize`/`main`/`_start` run (cpp-host startVm). Names are the
 * same under wasi_snapshot_preview1 and wasi_unstable, and do not collide with env names.
 */
export const START_ALLOWED_CALLS: ReadonlySet<string> = new Set([
  "proxy_log",
  "fd_write",
  "args_sizes_get",
  "args_get",
  "environ_sizes_get",
  "environ_get",
  "fd_prestat_get",
  "fd_prestat_dir_name",
  "clock_time_get",
  "random_get",
]);

/** Host calls allowed while the module's allocator runs (cpp-host allocMemory). */
export const MALLOC_ALLOWED_CALLS: ReadonlySet<string> = new Set(["proxy_log", "fd_write", "clock_time_get"]);

/** Envoy's status codes (WasmResult). */
export const enum WasmResult {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  BadExpression = 5,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  ResultMismatch = 9,
  InternalFailure = 10,
  BrokenConnection = 11,
  Unimplemented = 12,
}

/** WASI errno values Envoy returns. */
export const enum WasiErrno {
  Success = 0,
  BadF = 8,
  Fault = 21,
  Inval = 28,
  NoEnt = 44,
  NoSys = 52,
  NotSup = 58,
}

/** FilterHeadersStatus values as the module returns them. */
export const enum HeadersStatus {
  Continue = 0,
  StopIteration = 1,
  ContinueAndEndStream = 2,
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
}

export const enum DataStatus {
  Continue = 0,
  StopIterationAndBuffer = 1,
  StopIterationAndWatermark = 2,
  StopIterationNoBuffer = 3,
}

export const enum HeaderMapType {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,
  GrpcReceiveTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}
export const HEADER_MAP_TYPE_MAX = 7;

export const enum BufferType {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  NetworkDownstreamData = 2,
  NetworkUpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  CallData = 8,
}
export const BUFFER_TYPE_MAX = 8;

export const enum StreamType {
  Request = 0,
  Response = 1,
  Downstream = 2,
  Upstream = 3,
}
export const STREAM_TYPE_MAX = 3;

export const enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}
export const METRIC_TYPE_MAX = 2;
