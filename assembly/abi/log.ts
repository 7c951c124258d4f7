// Logging through proxy_log only: fd_write (the SDK's log) is logged by Envoy at info whatever the
// level. Messages are built only off the hot path (configure and failures).
import { proxy_log } from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
import { LogLevelValues } from "@gcoredev/proxy-wasm-sdk-as/assembly/runtime";

export function log(level: LogLevelValues, message: string): void {
  const b = String.UTF8.encode(message);
  proxy_log(level, changetype<usize>(b), b.byteLength);
}

export function logCritical(message: string): void {
  log(LogLevelValues.critical, message);
}

export function logInfo(message: string): void {
  log(LogLevelValues.info, message);
}
