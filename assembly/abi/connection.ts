// A network filter's connection (proxy-wasm 0.2.1, Envoy source/extensions/common/wasm/context.cc
// closeStream): closing the downstream is deferred until the callback returns, then Envoy closes
// the connection (FlushWrite, details "wasm_downstream_close").
import { proxy_close_stream } from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";

/** WasmStreamType::Downstream. */
const DOWNSTREAM: u32 = 2;

export function closeDownstream(): u32 {
  return proxy_close_stream(DOWNSTREAM);
}
