// PLUGIN_CONFIGURATION: either the raw blob (starts with "MAZB") or the JSON text of the
// WasmPlugin's pluginConfig: {"policy": "<base64 blob>", "engine": "indexed" | "linear",
// "policyCounters": "off" | "policy" | "rule", "decisionLog": "off" | "<level>", "denyHeader": bool,
// "mode": "http" | "network"} (mode "network": a NETWORK WasmPlugin, decided per connection).
// Either way the blob ends up in the host's buffer itself: raw as it is, JSON decoded in place and
// the buffer shrunk to the blob (its tail goes back to the allocator).
import { COUNTER_WORDS, Engine, JsonError, LOG_WORDS, MODE_WORDS, scanPluginJson } from "./json";

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
  engine: EngineKind = EngineKind.Indexed;
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
    return r;
  }
  const j = scanPluginJson(p, len);
  if (j.error != JsonError.None) {
    r.error = ConfigError.Json;
    r.message = "pluginConfig: " + jsonErrorText(j.error, j.member) + " at byte " + j.at.toString();
  } else if (j.engine == Engine.Other) {
    r.error = ConfigError.BadEngine;
    r.message = "pluginConfig: engine must be \"indexed\" or \"linear\", got \"" + j.engineText + "\"";
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
  r.counters = <CounterMode>j.counters;
  r.decisionLog = j.decisionLog - 1;
  r.denyHeader = j.denyHeader;
  r.network = j.mode == 1;
  r.blobLen = j.policyLen;
  r.blob = heap.realloc(p, j.policyLen);
  return r;
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
    case JsonError.NotBool:
      return "member \"" + member + "\" is not true or false";
    default:
      return "invalid JSON";
  }
}
