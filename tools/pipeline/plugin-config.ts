// The WasmPlugin pluginConfig that carries a blob: {"policy": "<base64>"} (docs/filter-io.md), and
// for a NETWORK WasmPlugin "mode": "network" (the filter decides connections, docs/tcp.md).
export type FilterMode = "http" | "network";

export interface PluginConfig {
  policy: string;
  engine?: "indexed" | "linear";
  mode?: "network";
}

export function pluginConfigFor(blob: Uint8Array, engine?: "indexed" | "linear", mode: FilterMode = "http"): PluginConfig {
  const config: PluginConfig = { policy: Buffer.from(blob).toString("base64") };
  if (engine) config.engine = engine;
  if (mode === "network") config.mode = "network";
  return config;
}

/** The JSON text Envoy hands the filter: istiod's compact jsonpb rendering of pluginConfig. */
export function pluginConfigJson(blob: Uint8Array, engine?: "indexed" | "linear", mode: FilterMode = "http"): string {
  return JSON.stringify(pluginConfigFor(blob, engine, mode));
}

/** A case request on a TCP port is decided by the network filter. */
export function modeForRequest(request: { protocol?: string }): FilterMode {
  return request.protocol === "TCP" ? "network" : "http";
}
