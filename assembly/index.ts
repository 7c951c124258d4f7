import { proxy_log, proxy_get_property } from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
import { LogLevelValues, WasmResultValues, FilterHeadersStatusValues } from "@gcoredev/proxy-wasm-sdk-as/assembly/runtime";
export function proxy_abi_version_0_2_1(): void {}
export function malloc(size: usize): usize { return heap.alloc(size); }
export function proxy_on_request_headers(ctx: u32, n: u32, eos: u32): u32 {
  const s = String.UTF8.encode("hi");
  proxy_log(LogLevelValues.warn, changetype<usize>(s), s.byteLength);
  return FilterHeadersStatusValues.Continue;
}
