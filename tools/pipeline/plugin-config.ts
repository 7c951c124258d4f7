// The WasmPlugin pluginConfig that carries a blob: {"policy": "<base64>"} (docs/filter-io.md).
export interface PluginConfig {
  policy: string;
  engine?: "indexed" | "linear";
  /** Delivery (docs/delivery.md): which instance this is when several reach one sidecar. */
  role?: "namespace" | "root";
  /** role namespace: the namespace it was generated for (the filter checks it). */
  namespace?: string;
  /** Digest of the root namespace's policy set both roles were generated with. */
  rootDigest?: string;
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
