// The proxy-wasm "pairs" serialization used for header maps, local-reply headers and map
// properties:  u32 N | N x (u32 key_len, u32 value_len) | N x (key \0 value \0), all little-endian.
// Parsing follows cpp-host PairsUtil::toPairs (strict since cpp-host #305): any malformation makes
// the whole map empty, with no error status (spec §5.1).

export const PAIRS_MAX_COUNT = 1024;
export const PAIRS_MAX_BYTES = 1024 * 1024;

export type BytePair = readonly [Uint8Array, Uint8Array];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function pairsSize(pairs: readonly BytePair[]): number {
  let size = 4;
  for (const [k, v] of pairs) size += 8 + k.length + 1 + v.length + 1;
  return size;
}

export function serializePairs(pairs: readonly BytePair[]): Uint8Array {
  const out = new Uint8Array(pairsSize(pairs));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, pairs.length, true);
  let lens = 4;
  let data = 4 + 8 * pairs.length;
  for (const [k, v] of pairs) {
    dv.setUint32(lens, k.length, true);
    dv.setUint32(lens + 4, v.length, true);
    lens += 8;
    out.set(k, data);
    data += k.length + 1; // the NUL is already 0
    out.set(v, data);
    data += v.length + 1;
  }
  return out;
}

export function serializeStringPairs(pairs: ReadonlyArray<readonly [string, string]>): Uint8Array {
  return serializePairs(pairs.map(([k, v]) => [encoder.encode(k), encoder.encode(v)] as const));
}

/** Strict parse; returns [] for anything Envoy would treat as an empty map. */
export function parsePairs(buf: Uint8Array): BytePair[] {
  if (buf.length > PAIRS_MAX_BYTES || buf.length < 4) return [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = dv.getUint32(0, true);
  if (n > PAIRS_MAX_COUNT) return [];
  let pos = 4;
  if (pos + n * 8 > buf.length) return [];
  const sizes = new Array<number>(n * 2);
  for (let i = 0; i < n * 2; i++) {
    sizes[i] = dv.getUint32(pos, true);
    pos += 4;
  }
  const out: BytePair[] = [];
  for (let i = 0; i < n; i++) {
    const kl = sizes[2 * i];
    const vl = sizes[2 * i + 1];
    if (pos + kl + 1 > buf.length) return [];
    const k = buf.slice(pos, pos + kl);
    pos += kl;
    if (buf[pos++] !== 0) return [];
    if (pos + vl + 1 > buf.length) return [];
    const v = buf.slice(pos, pos + vl);
    pos += vl;
    if (buf[pos++] !== 0) return [];
    out.push([k, v]);
  }
  if (pos !== buf.length) return [];
  return out;
}

export function parseStringPairs(buf: Uint8Array): Array<[string, string]> {
  return parsePairs(buf).map(([k, v]) => [decoder.decode(k), decoder.decode(v)]);
}
