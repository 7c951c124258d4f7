// The WasmPlugin pluginConfig that carries a blob: {"policy": "<base64>"} (docs/filter-io.md).
export interface PluginConfig {
  policy: string;
  engine?: "indexed" | "linear";
}

export function pluginConfigFor(blob: Uint8Array, engine?: "indexed" | "linear"): PluginConfig {
  const config: PluginConfig = { policy: Buffer.from(blob).toString("base64") };
  if (engine) config.engine = engine;
  return config;
}

/** The JSON text Envoy hands the filter: istiod's compact jsonpb rendering of pluginConfig. */
export function pluginConfigJson(blob: Uint8Array, engine?: "indexed" | "linear"): string {
  return JSON.stringify(pluginConfigFor(blob, engine));
}
