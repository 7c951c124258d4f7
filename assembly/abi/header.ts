// Request header values. Envoy returns only the first value of a repeated header and NotFound
// for a missing one (ABI 0.2.x); other statuses mean the map is not readable in this phase.
import { proxy_get_header_map_value } from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
import { REQUEST_HEADERS } from "./codes";
import { OUT_PTR, OUT_LEN, clearOut, takeOut } from "./value";

export function getRequestHeader(name: usize, nameLen: usize): u32 {
  clearOut();
  return takeOut(proxy_get_header_map_value(REQUEST_HEADERS, name, nameLen, OUT_PTR, OUT_LEN));
}
