// PLUGIN_CONFIGURATION: either the raw blob (starts with "MAZB") or the JSON text of the
// WasmPlugin's pluginConfig: {"policy": "<base64 blob>", "engine": "indexed" | "linear"}.
import { base64Decode, base64DecodedLength } from "./base64";
import { JsonError, JsonString, jsonUnescape, scanPluginJson } from "./json";
import { bytesToString } from "../bytes/range";

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
}

export class PluginConfig {
  error: ConfigError = ConfigError.None;
  message: string = "";
  /** The blob bytes, owned by this object's receiver (heap.alloc'd); 0 on error. */
  blob: usize = 0;
  blobLen: usize = 0;
  engine: EngineKind = EngineKind.Indexed;
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
  fromJson(p, len, r);
  heap.free(p);
  return r;
}

function fromJson(p: usize, len: usize, r: PluginConfig): void {
  const j = scanPluginJson(p, len);
  if (j.error != JsonError.None) {
    r.error = ConfigError.Json;
    r.message = "pluginConfig: " + jsonErrorText(j.error, j.member) + " at byte " + j.at.toString();
    return;
  }
  if (j.engine.found) {
    const e = decodedString(j.engine);
    const n = e.byteLength;
    const ep = changetype<usize>(e);
    if (n == 6 && String.UTF8.decodeUnsafe(ep, n) == "linear") r.engine = EngineKind.Linear;
    else if (n == 7 && String.UTF8.decodeUnsafe(ep, n) == "indexed") r.engine = EngineKind.Indexed;
    else {
      r.error = ConfigError.BadEngine;
      r.message = "pluginConfig: engine must be \"indexed\" or \"linear\", got \"" + bytesToString(ep, min(n, 64)) + "\"";
      return;
    }
  }
  if (!j.policy.found) {
    r.error = ConfigError.NoPolicy;
    r.message = "pluginConfig: missing string member \"policy\"";
    return;
  }
  let src = j.policy.start;
  let srcLen = j.policy.len;
  let tmp: usize = 0;
  if (j.policy.escaped) {
    tmp = heap.alloc(srcLen > 0 ? srcLen : 1);
    const n = jsonUnescape(src, srcLen, tmp);
    src = tmp;
    srcLen = n < 0 ? 1 : <usize>n; // length 1 is never valid base64: reported below
  }
  const outLen = base64DecodedLength(src, srcLen);
  let out: usize = 0;
  if (outLen > 0) {
    out = heap.alloc(<usize>outLen);
    if (!base64Decode(src, srcLen, out)) {
      heap.free(out);
      out = 0;
    }
  }
  if (tmp != 0) heap.free(tmp);
  if (out == 0) {
    r.error = ConfigError.BadBase64;
    r.message = outLen == 0 ? "pluginConfig: policy is empty" : "pluginConfig: policy is not valid base64 (standard alphabet, padded)";
    return;
  }
  r.blob = out;
  r.blobLen = <usize>outLen;
}

function decodedString(s: JsonString): ArrayBuffer {
  const b = new ArrayBuffer(<i32>s.len);
  if (!s.escaped) {
    memory.copy(changetype<usize>(b), s.start, s.len);
    return b;
  }
  const n = jsonUnescape(s.start, s.len, changetype<usize>(b));
  return n < 0 ? new ArrayBuffer(0) : b.slice(0, <i32>n);
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
    default:
      return "invalid JSON";
  }
}
