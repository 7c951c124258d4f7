// What a proxy-wasm filter can know of a JWT claim's type. Envoy serializes property values without
// type tags (proxy-wasm-envoy.md §5.2): a bool is one byte 0x00/0x01 and a number eight bytes, so a
// string claim of exactly those shapes is indistinguishable from a bool or a number. The filter reads
// such values as the non-string they look like (so that real bool claims such as
// `email_verified: true` never match, as in Istio); this rewrites a payload the same way.
// meshauthz's documented limit, used by the differential tests through EvaluateOptions.

const encoder = new TextEncoder();

/** Printable UTF-8 text: no C0 controls or DEL (the bytes are always well-formed here). */
function isText(bytes: Uint8Array): boolean {
  return bytes.every((b) => b >= 0x20 && b !== 0x7f);
}

function retypeString(s: string): unknown {
  const bytes = encoder.encode(s);
  if (bytes.length === 1 && bytes[0] <= 1) return bytes[0] === 1;
  if (bytes.length === 8 && !isText(bytes)) return 0;
  return s;
}

export function asSeenThroughProperties(value: unknown): unknown {
  if (typeof value === "string") return retypeString(value);
  if (Array.isArray(value)) return value.map(asSeenThroughProperties);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asSeenThroughProperties(v)]));
  }
  return value;
}
