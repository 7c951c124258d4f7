// Counters and the tick timer. Defined in proxy_on_configure (never in global initializers, where
// Envoy traps host calls). An id of 0 means "not defined" and increments are skipped.
import { proxy_define_metric, proxy_increment_metric, proxy_set_tick_period_milliseconds } from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
import { COUNTER, Status } from "./codes";
import { OUT_PTR } from "./value";

export function defineCounter(name: string): u32 {
  const b = String.UTF8.encode(name);
  store<u32>(OUT_PTR, 0);
  const st = proxy_define_metric(COUNTER, changetype<usize>(b), b.byteLength, OUT_PTR);
  return st == Status.Ok ? load<u32>(OUT_PTR) : 0;
}

/** Adds delta (> 0) to a defined counter. */
export function addToCounter(id: u32, delta: u64): void {
  if (id != 0 && delta > 0) proxy_increment_metric(id, <i64>delta);
}

/** proxy_on_tick of the calling root context every `ms` milliseconds (per VM). */
export function setTickPeriod(ms: u32): void {
  proxy_set_tick_period_milliseconds(ms);
}
