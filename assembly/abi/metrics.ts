// Counters. Defined in proxy_on_configure (never in global initializers, where Envoy traps host
// calls). An id of 0 means "not defined" and increments are skipped.
import { proxy_define_metric, proxy_increment_metric } from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
import { MetricTypeValues, WasmResultValues } from "@gcoredev/proxy-wasm-sdk-as/assembly/runtime";
import { OUT_PTR } from "./value";

export function defineCounter(name: string): u32 {
  const b = String.UTF8.encode(name);
  store<u32>(OUT_PTR, 0);
  const st = proxy_define_metric(MetricTypeValues.Counter, changetype<usize>(b), b.byteLength, OUT_PTR);
  return st == WasmResultValues.Ok ? load<u32>(OUT_PTR) : 0;
}

export function incrementCounter(id: u32): void {
  if (id != 0) proxy_increment_metric(id, 1);
}
