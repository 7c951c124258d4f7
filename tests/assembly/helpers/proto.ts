// Protobuf wire bytes for the fake host's `metadata` property: envoy.config.core.v3.Metadata with
// google.protobuf.Struct / Value / ListValue (field numbers as in the .proto files).
export type Bytes = Array<u8>;

function varint(out: Bytes, v: u64): void {
  while (v > 0x7f) {
    out.push(<u8>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push(<u8>v);
}

export function field(f: u32, payload: Bytes): Bytes {
  const out = new Array<u8>();
  varint(out, (<u64>f << 3) | 2);
  varint(out, <u64>payload.length);
  for (let i = 0; i < payload.length; i++) out.push(payload[i]);
  return out;
}

export function utf8(s: string): Bytes {
  const b = String.UTF8.encode(s);
  const out = new Array<u8>();
  for (let i = 0; i < b.byteLength; i++) out.push(load<u8>(changetype<usize>(b) + <usize>i));
  return out;
}

export function hex(h: string): Bytes {
  const out = new Array<u8>();
  for (let i = 0; i < h.length; i += 2) out.push(<u8>I32.parseInt(h.substr(i, 2), 16));
  return out;
}

export function cat(parts: Array<Bytes>): Bytes {
  const out = new Array<u8>();
  for (let i = 0; i < parts.length; i++) for (let j = 0; j < parts[i].length; j++) out.push(parts[i][j]);
  return out;
}

export function vStr(s: string): Bytes {
  return field(3, utf8(s));
}
export function vRaw(b: Bytes): Bytes {
  return field(3, b);
}
export function vNull(): Bytes {
  return [8, 0];
}
export function vBool(b: bool): Bytes {
  return [0x20, b ? 1 : 0];
}
export function vNum(d: f64): Bytes {
  const out: Bytes = [0x11];
  const bits = reinterpret<u64>(d);
  for (let i: u64 = 0; i < 8; i++) out.push(<u8>((bits >> (i * 8)) & 0xff));
  return out;
}
export function vList(items: Array<Bytes>): Bytes {
  const body = new Array<Bytes>();
  for (let i = 0; i < items.length; i++) body.push(field(1, items[i]));
  return field(6, cat(body));
}
/** Struct fields: keys[i] -> values[i] (Value bytes). */
export function struct(keys: Array<string>, values: Array<Bytes>): Bytes {
  const body = new Array<Bytes>();
  for (let i = 0; i < keys.length; i++) body.push(field(1, cat([field(1, utf8(keys[i])), field(2, values[i])])));
  return cat(body);
}
export function vStruct(keys: Array<string>, values: Array<Bytes>): Bytes {
  return field(5, struct(keys, values));
}
/** Metadata { filter_metadata: { filter: Struct } } */
export function metadata(filter: string, structBytes: Bytes): Bytes {
  return field(1, cat([field(1, utf8(filter)), field(2, structBytes)]));
}
/** The jwt_authn payload: Metadata with filter_metadata["envoy.filters.http.jwt_authn"]["payload"]. */
export function jwt(keys: Array<string>, values: Array<Bytes>): Bytes {
  return metadata("envoy.filters.http.jwt_authn", struct(["payload"], [vStruct(keys, values)]));
}

export function buffer(b: Bytes): ArrayBuffer {
  const out = new ArrayBuffer(b.length);
  for (let i = 0; i < b.length; i++) store<u8>(changetype<usize>(out) + <usize>i, b[i]);
  return out;
}
