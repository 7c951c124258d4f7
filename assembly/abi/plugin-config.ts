// PLUGIN_CONFIGURATION (buffer 7), readable only during proxy_on_configure.
import { proxy_get_buffer_bytes } from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
import { BufferTypeValues } from "@gcoredev/proxy-wasm-sdk-as/assembly/runtime";
import { OUT_PTR, OUT_LEN, clearOut, takeOut } from "./value";

export function getPluginConfig(size: u32): u32 {
  clearOut();
  return takeOut(proxy_get_buffer_bytes(BufferTypeValues.PluginConfiguration, 0, size, OUT_PTR, OUT_LEN));
}
