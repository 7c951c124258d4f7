// Logging through proxy_log only: fd_write (the SDK's log) is logged by Envoy at info whatever the
// level. Messages are built only off the hot path (configure and failures).
import { proxy_log } from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
import { Level } from "./codes";

export function log(level: u32, message: string): void {
  const b = String.UTF8.encode(message);
  proxy_log(level, changetype<usize>(b), b.byteLength);
}

export function logCritical(message: string): void {
  log(Level.Critical, message);
}

export function logInfo(message: string): void {
  log(Level.Info, message);
}
