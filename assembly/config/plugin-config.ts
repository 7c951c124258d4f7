// PLUGIN_CONFIGURATION: either the raw blob (starts with "MAZB") or the JSON text of the
// WasmPlugin's pluginConfig: {"policy": "<base64 blob>", "engine": "indexed" | "linear",
// "policyCounters": "off" | "policy" | "rule", "decisionLog": "off" | "<level>", "denyHeader": bool,
// "mode": "http" | "network" (mode "network": a NETWORK WasmPlugin, decided per connection),
// "role": "namespace" | "root", "rootDigest": "<hex>", "namespace": "<ns>"} (docs/filter-io.md).
// Either way the blob ends up in the host's buffer itself: raw as it is, JSON decoded in place; the
// buffer is recycled for the next configuration when this one is deleted (bytes/host-alloc.ts).
import { COUNTER_WORDS, Engine, JsonError, LOG_WORDS, MAX_TEXT, MODE_WORDS, scanPluginJson } from "./json";
import { hostCapacity } from "../bytes/host-alloc";
import { Role, digestValid, roleOf } from "../delivery/role";

export enum EngineKind {
  /** Candidate rules from per-attribute indexes (default). */
  Indexed = 0,
  /** Every rule of an engine in order (reference behaviour, benchmarks). */
  Linear = 1,
}

export enum ConfigError {
  None = 0,
  Empty,
  Json,
  NoPolicy,
  BadBase64,
  BadEngine,
  /** role / rootDigest / namespace missing, unknown or malformed (docs/delivery.md). */
  BadDelivery,
  BadOption,
}

/** Per-policy counters (docs/filter-io.md): none, one pair per policy, one pair per rule. */
export enum CounterMode {
  Off = 0,
  Policy = 1,
  Rule = 2,
}

export class PluginConfig {
  error: ConfigError = ConfigError.None;
  message: string = "";
  /** The blob bytes, owned by this object's receiver (heap.alloc'd); 0 on error. */
  blob: usize = 0;
  blobLen: usize = 0;
  /** Capacity of the buffer the blob lives in (bytes/host-alloc.ts), for recycling it. */
  bufferCap: usize = 0;
  engine: EngineKind = EngineKind.Indexed;
  /** Delivery role (standalone when "role" is absent), the root policy-set digest, and the
   *  namespace a namespace-role plugin was generated for. */
  role: Role = Role.Standalone;
  rootDigest: string = "";
  namespace: string = "";
  counters: CounterMode = CounterMode.Off;
  /** proxy_log level (0 trace .. 5 critical) of the per-request decision line; -1 = off. */
  decisionLog: i32 = -1;
  /** Add x-meshauthz-denied-by (the deciding rule) to denials: it discloses policy names. */
  denyHeader: bool = false;
  /** Built for a network filter (the TCP projection). A raw blob configures an HTTP filter. */
  network: bool = false;
}

function isRawBlob(p: usize, len: usize): bool {
  return len >= 4 && load<u32>(p) == 0x425a414d; // "MAZB" little-endian
}

/** Parses the configuration buffer and takes ownership of it (it becomes the blob, or is freed). */
export function parsePluginConfig(p: usize, len: usize): PluginConfig {
  const r = new PluginConfig();
  if (p == 0 || len == 0) {
    r.error = ConfigError.Empty;
    r.message = "empty plugin configuration (expected pluginConfig {\"policy\": \"<base64>\"} or a raw MAZB blob)";
    if (p != 0) heap.free(p);
    return r;
  }
  if (isRawBlob(p, len)) {
    r.blob = p;
    r.blobLen = len;
    r.bufferCap = hostCapacity(len);
    return r;
  }
  const j = scanPluginJson(p, len);
  if (j.error != JsonError.None) {
    r.error = ConfigError.Json;
    r.message = "pluginConfig: " + jsonErrorText(j.error, j.member) + " at byte " + j.at.toString();
  } else if (j.engine == Engine.Other) {
    r.error = ConfigError.BadEngine;
    r.message = "pluginConfig: engine must be \"indexed\" or \"linear\", got \"" + j.engineText + "\"";
  } else if (deliveryError(j.role, j.rootDigest, j.namespace).length > 0) {
    r.error = ConfigError.BadDelivery;
    r.message = "pluginConfig: " + deliveryError(j.role, j.rootDigest, j.namespace);
  } else if (j.optionMember.length > 0) {
    r.error = ConfigError.BadOption;
    const words = j.optionMember == "policyCounters" ? COUNTER_WORDS : j.optionMember == "mode" ? MODE_WORDS : LOG_WORDS;
    r.message = "pluginConfig: " + j.optionMember + " must be one of " + words.join(", ") + ", got \"" + j.optionText + "\"";
  } else if (!j.policyFound) {
    r.error = ConfigError.NoPolicy;
    r.message = "pluginConfig: missing string member \"policy\"";
  } else if (!j.policyValid || j.policyLen == 0) {
    r.error = ConfigError.BadBase64;
    r.message = j.policyChars == 0 ? "pluginConfig: policy is empty" : "pluginConfig: policy is not valid base64 (standard alphabet, padded)";
  }
  if (r.error != ConfigError.None) {
    heap.free(p);
    return r;
  }
  r.engine = j.engine == Engine.Linear ? EngineKind.Linear : EngineKind.Indexed;
  const role = j.role;
  if (role !== null) {
    r.role = <Role>roleOf(role);
    r.rootDigest = j.rootDigest!;
    const ns = j.namespace;
    if (ns !== null) r.namespace = ns;
  }
  r.counters = <CounterMode>j.counters;
  r.decisionLog = j.decisionLog - 1;
  r.denyHeader = j.denyHeader;
  r.network = j.mode == 1;
  r.blobLen = j.policyLen;
  // The blob stays in the host's buffer, unshrunk: the whole buffer is recycled for the next
  // configuration when this one is deleted (bytes/host-alloc.ts).
  r.bufferCap = hostCapacity(len);
  r.blob = p;
  return r;
}

/** Why the delivery members cannot be trusted, or "". Unknown roles fail closed: a plugin that
 *  does not know what it is must not guess whether another instance enforces for it. */
function deliveryError(role: string | null, digest: string | null, ns: string | null): string {
  if (role === null) {
    return digest !== null || ns !== null ? "rootDigest and namespace need a \"role\"" : "";
  }
  if (roleOf(role) < 0) return "role must be \"namespace\" or \"root\", got \"" + role + "\"";
  if (digest === null || !digestValid(digest)) return "role \"" + role + "\" needs rootDigest: 16 to 64 lower-case hex digits";
  if (roleOf(role) == Role.Namespace) {
    if (ns === null || ns.length == 0) return "role \"namespace\" needs the \"namespace\" it was generated for";
  } else if (ns !== null) {
    return "role \"root\" takes no \"namespace\"";
  }
  return "";
}

function jsonErrorText(e: JsonError, member: string): string {
  switch (e) {
    case JsonError.NotObject:
      return "not a JSON object";
    case JsonError.TooDeep:
      return "JSON nested deeper than 32 levels";
    case JsonError.DuplicateKey:
      return "duplicate member \"" + member + "\"";
    case JsonError.NotString:
      return "member \"" + member + "\" is not a string";
    case JsonError.TooLong:
      return "member \"" + member + "\" is longer than " + MAX_TEXT.toString() + " bytes";
    case JsonError.NotBool:
      return "member \"" + member + "\" is not true or false";
    default:
      return "invalid JSON";
  }
}
