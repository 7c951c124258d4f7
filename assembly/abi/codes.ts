// The few proxy-wasm ABI numbers the filter uses, mirrored from the SDK's runtime.ts (same values as
// proxy-wasm-envoy.md §1.3/§2): importing that file compiles its top-level initializers (the
// runtime's globals, root-context registry) into `_initialize` and the module (docs/decisions.md).
// Only the `@external` declarations of the SDK's imports.ts are used.

/** WasmResult (§2.1). */
export namespace Status {
  export const Ok: u32 = 0;
  export const NotFound: u32 = 1;
  export const SerializationFailure: u32 = 3;
  export const InternalFailure: u32 = 10;
}

/** proxy_log levels (0 trace .. 5 critical). */
export namespace Level {
  export const Info: u32 = 2;
  export const Critical: u32 = 5;
}

/** What proxy_on_request_headers returns. */
export namespace Headers {
  export const Continue: u32 = 0;
  export const StopAllIterationAndWatermark: u32 = 4;
}

/** What the network callbacks return (proxy-wasm FilterStatus; Envoy: anything but 0 stops). */
export namespace Network {
  export const Continue: u32 = 0;
  export const StopIteration: u32 = 1;
}

export const REQUEST_HEADERS: i32 = 0; // header map type
export const PLUGIN_CONFIGURATION: i32 = 7; // buffer type
export const COUNTER: i32 = 0; // metric type
