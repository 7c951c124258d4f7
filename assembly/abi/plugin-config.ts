// PLUGIN_CONFIGURATION (buffer 7), readable only during proxy_on_configure.
import { proxy_get_buffer_bytes } from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
import { PLUGIN_CONFIGURATION } from "./codes";
import { OUT_PTR, OUT_LEN, clearOut, takeOut } from "./value";

export function getPluginConfig(size: u32): u32 {
  clearOut();
  return takeOut(proxy_get_buffer_bytes(PLUGIN_CONFIGURATION, 0, size, OUT_PTR, OUT_LEN));
}
