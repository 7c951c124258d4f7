// The WasmPlugin pluginConfig that carries a blob: {"policy": "<base64>"} (docs/filter-io.md), and
// for a NETWORK WasmPlugin "mode": "network" (the filter decides connections, docs/tcp.md).
export type FilterMode = "http" | "network";

export interface PluginConfig extends Observability {
  policy: string;
  engine?: "indexed" | "linear";
  /** Delivery (docs/delivery.md): which instance this is when several reach one sidecar. */
  role?: "namespace" | "root";
  /** role namespace: the namespace it was generated for (the filter checks it). */
  namespace?: string;
  /** Digest of the root namespace's policy set both roles were generated with. */
  rootDigest?: string;
  mode?: "network";
}

/** The filter's opt-in observability options (docs/filter-io.md "Opt-in observability"). */
export interface Observability {
  policyCounters?: "off" | "policy" | "rule";
  decisionLog?: "off" | "trace" | "debug" | "info" | "warn" | "error" | "critical";
  denyHeader?: boolean;
}

/** What else goes into pluginConfig: the observability options and the filter mode. */
export interface ConfigOptions extends Observability {
  mode?: FilterMode;
}

export const COUNTER_MODES = ["off", "policy", "rule"] as const;
export const LOG_LEVELS = ["off", "trace", "debug", "info", "warn", "error", "critical"] as const;

export function pluginConfigFor(blob: Uint8Array, engine?: "indexed" | "linear", options: ConfigOptions = {}): PluginConfig {
  const config: PluginConfig = { policy: Buffer.from(blob).toString("base64") };
  if (engine) config.engine = engine;
  const { mode, ...observability } = options;
  for (const [k, v] of Object.entries(observability)) if (v !== undefined) (config as unknown as Record<string, unknown>)[k] = v;
  if (mode === "network") config.mode = "network";
  return config;
}

/** The JSON text Envoy hands the filter: istiod's compact jsonpb rendering of pluginConfig. */
export function pluginConfigJson(blob: Uint8Array, engine?: "indexed" | "linear", options?: ConfigOptions): string {
  return JSON.stringify(pluginConfigFor(blob, engine, options));
}

/** A case request on a TCP port is decided by the network filter. */
export function modeForRequest(request: { protocol?: string }): FilterMode {
  return request.protocol === "TCP" ? "network" : "http";
}

/** A pluginConfig JSON text for the given mode (the same policy and options). */
export function withMode(configText: string, mode: FilterMode): string {
  if (mode === "http") return configText;
  return JSON.stringify({ ...(JSON.parse(configText) as object), mode: "network" });
}
