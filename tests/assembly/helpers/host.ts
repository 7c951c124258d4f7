// AssemblyScript side of the fake host in as-pect.config.js: set up properties, headers and the
// plugin configuration, then read back replies, filter state, counters and logs.
// A spec that drives the host must `export { malloc } from "./helpers/host"`.
export { malloc } from "../../../assembly/index";
import { proxy_on_tick } from "../../../assembly/index";

// @ts-ignore: decorator
@external("testhost", "reset") declare function th_reset(): void;
// @ts-ignore: decorator
@external("testhost", "resetRequest") declare function th_resetRequest(): void;
// @ts-ignore: decorator
@external("testhost", "setProperty") declare function th_setProperty(pp: usize, pl: usize, vp: usize, vl: usize): void;
// @ts-ignore: decorator
@external("testhost", "setPropertyStatus") declare function th_setPropertyStatus(pp: usize, pl: usize, status: u32): void;
// @ts-ignore: decorator
@external("testhost", "setHeader") declare function th_setHeader(np: usize, nl: usize, vp: usize, vl: usize): void;
// @ts-ignore: decorator
@external("testhost", "setHeaderStatus") declare function th_setHeaderStatus(status: u32): void;
// @ts-ignore: decorator
@external("testhost", "setConfig") declare function th_setConfig(p: usize, n: usize): void;
// @ts-ignore: decorator
@external("testhost", "replyStatus") declare function th_replyStatus(): i32;
// @ts-ignore: decorator
@external("testhost", "replyCount") declare function th_replyCount(): i32;
// @ts-ignore: decorator
@external("testhost", "replyDetails") declare function th_replyDetails(out: usize, cap: usize): i32;
// @ts-ignore: decorator
@external("testhost", "replyBody") declare function th_replyBody(out: usize, cap: usize): i32;
// @ts-ignore: decorator
@external("testhost", "filterState") declare function th_filterState(kp: usize, kl: usize, out: usize, cap: usize): i32;
// @ts-ignore: decorator
@external("testhost", "filterStateCount") declare function th_filterStateCount(): i32;
// @ts-ignore: decorator
@external("testhost", "metric") declare function th_metric(np: usize, nl: usize): f64;
// @ts-ignore: decorator
@external("testhost", "tickPeriod") declare function th_tickPeriod(): u32;
// @ts-ignore: decorator
@external("testhost", "calls") declare function th_calls(np: usize, nl: usize): i32;
// @ts-ignore: decorator
@external("testhost", "logCount") declare function th_logCount(level: i32): i32;
// @ts-ignore: decorator
@external("testhost", "lastLog") declare function th_lastLog(out: usize, cap: usize): i32;
// @ts-ignore: decorator
@external("testhost", "readFile") declare function th_readFile(pp: usize, pl: usize, outP: usize, outL: usize): u32;

function enc(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

function text(read: (out: usize, cap: usize) => i32): string | null {
  const cap = 4096;
  const buf = new ArrayBuffer(cap);
  const n = read(changetype<usize>(buf), cap);
  if (n < 0) return null;
  return String.UTF8.decodeUnsafe(changetype<usize>(buf), <usize>min(n, cap));
}

export namespace Host {
  export function reset(): void {
    th_reset();
  }
  export function resetRequest(): void {
    th_resetRequest();
  }
  export function property(path: string, value: string): void {
    const p = enc(path);
    const v = enc(value);
    th_setProperty(changetype<usize>(p), p.byteLength, changetype<usize>(v), v.byteLength);
  }
  export function propertyBytes(path: string, value: ArrayBuffer): void {
    const p = enc(path);
    th_setProperty(changetype<usize>(p), p.byteLength, changetype<usize>(value), value.byteLength);
  }
  export function propertyStatus(path: string, status: u32): void {
    const p = enc(path);
    th_setPropertyStatus(changetype<usize>(p), p.byteLength, status);
  }
  export function propertyI64(path: string, v: i64): void {
    const b = new ArrayBuffer(8);
    store<i64>(changetype<usize>(b), v);
    propertyBytes(path, b);
  }
  export function header(name: string, value: string): void {
    const n = enc(name);
    const v = enc(value);
    th_setHeader(changetype<usize>(n), n.byteLength, changetype<usize>(v), v.byteLength);
  }
  export function headerBytes(name: string, value: ArrayBuffer): void {
    const n = enc(name);
    th_setHeader(changetype<usize>(n), n.byteLength, changetype<usize>(value), value.byteLength);
  }
  export function headerStatus(status: u32): void {
    th_setHeaderStatus(status);
  }
  export function config(b: ArrayBuffer): void {
    th_setConfig(changetype<usize>(b), b.byteLength);
  }
  export function configText(s: string): void {
    config(enc(s));
  }
  export function replyStatus(): i32 {
    return th_replyStatus();
  }
  export function replyCount(): i32 {
    return th_replyCount();
  }
  export function replyDetails(): string | null {
    return text((o, c) => th_replyDetails(o, c));
  }
  export function replyBody(): string | null {
    return text((o, c) => th_replyBody(o, c));
  }
  /** Filter state key without the `wasm.` prefix, e.g. "meshauthz.policy"; null when unset. */
  export function filterState(key: string): string | null {
    const k = enc(key);
    const cap = 4096;
    const buf = new ArrayBuffer(cap);
    const n = th_filterState(changetype<usize>(k), k.byteLength, changetype<usize>(buf), cap);
    if (n < 0) return null;
    return String.UTF8.decodeUnsafe(changetype<usize>(buf), <usize>min(n, cap));
  }
  export function filterStateCount(): i32 {
    return th_filterStateCount();
  }
  /** A counter as Envoy shows it once the filter's pending counts are flushed (a tick). */
  export function metric(name: string): f64 {
    proxy_on_tick(1);
    const n = enc(name);
    return th_metric(changetype<usize>(n), n.byteLength);
  }
  /** The counter without flushing first. */
  export function metricNow(name: string): f64 {
    const n = enc(name);
    return th_metric(changetype<usize>(n), n.byteLength);
  }
  export function tickPeriod(): u32 {
    return th_tickPeriod();
  }
  export function calls(fn: string): i32 {
    const n = enc(fn);
    return th_calls(changetype<usize>(n), n.byteLength);
  }
  export function logCount(level: i32): i32 {
    return th_logCount(level);
  }
  export function lastLog(): string | null {
    return text((o, c) => th_lastLog(o, c));
  }
  /** A repository file as bytes (test vectors), or null when it does not exist. */
  export function readFile(path: string): ArrayBuffer | null {
    const p = enc(path);
    const out = memory.data(8);
    store<u32>(out, 0);
    store<u32>(out + 4, 0);
    if (th_readFile(changetype<usize>(p), p.byteLength, out, out + 4) != 0) return null;
    const ptr = <usize>load<u32>(out);
    const len = <i32>load<u32>(out + 4);
    const b = new ArrayBuffer(len);
    if (len > 0) {
      memory.copy(changetype<usize>(b), ptr, <usize>len);
      heap.free(ptr);
    }
    return b;
  }
}
