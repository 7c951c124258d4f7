// The WasmPlugin pluginConfig that carries a blob: {"policy": "<base64>"} (docs/filter-io.md).
export interface PluginConfig extends Observability {
  policy: string;
  engine?: "indexed" | "linear";
  /** Delivery (docs/delivery.md): which instance this is when several reach one sidecar. */
  role?: "namespace" | "root";
  /** role namespace: the namespace it was generated for (the filter checks it). */
  namespace?: string;
  /** Digest of the root namespace's policy set both roles were generated with. */
  rootDigest?: string;
}

/** The filter's opt-in observability options (docs/filter-io.md "Opt-in observability"). */
export interface Observability {
  policyCounters?: "off" | "policy" | "rule";
  decisionLog?: "off" | "trace" | "debug" | "info" | "warn" | "error" | "critical";
  denyHeader?: boolean;
}

export const COUNTER_MODES = ["off", "policy", "rule"] as const;
export const LOG_LEVELS = ["off", "trace", "debug", "info", "warn", "error", "critical"] as const;

export function pluginConfigFor(blob: Uint8Array, engine?: "indexed" | "linear", observability: Observability = {}): PluginConfig {
  const config: PluginConfig = { policy: Buffer.from(blob).toString("base64") };
  if (engine) config.engine = engine;
  for (const [k, v] of Object.entries(observability)) if (v !== undefined) (config as unknown as Record<string, unknown>)[k] = v;
  return config;
}

/** The JSON text Envoy hands the filter: istiod's compact jsonpb rendering of pluginConfig. */
export function pluginConfigJson(blob: Uint8Array, engine?: "indexed" | "linear", observability?: Observability): string {
  return JSON.stringify(pluginConfigFor(blob, engine, observability));
}
