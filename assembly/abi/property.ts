// Properties (proxy_get_property / proxy_set_property). Paths are NUL-separated segments; NotFound
// is an ordinary answer (plaintext peer, missing claim), returned as a status, never an abort.
import { proxy_get_property, proxy_set_property } from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
import { OUT_PTR, OUT_LEN, clearOut, takeOut } from "./value";

/** Reads the property at path; on Ok the value is at lastPtr()/lastLen() and the caller frees it. */
export function getProperty(path: usize, pathLen: usize): u32 {
  clearOut();
  return takeOut(proxy_get_property(path, pathLen, OUT_PTR, OUT_LEN));
}

/** Filter state `wasm.<path>` (readable as %FILTER_STATE(wasm.<path>)% in access logs). */
export function setProperty(path: usize, pathLen: usize, value: usize, valueLen: usize): u32 {
  return proxy_set_property(path, pathLen, value, valueLen);
}
