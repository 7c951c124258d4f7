// Protobuf wire encoding of the few messages a filter can read whole through proxy_get_property
// (Envoy returns a message property as SerializeToString, spec §5.2): google.protobuf.Struct /
// Value / ListValue, envoy.config.core.v3.Metadata and the parts of Node this host models.

const encoder = new TextEncoder();

/** Appends fields as byte chunks and concatenates once (payloads are not copied until finish). */
class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private head: number[] = [];

  private flushHead(): void {
    if (this.head.length === 0) return;
    this.chunks.push(new Uint8Array(this.head));
    this.size += this.head.length;
    this.head = [];
  }

  varint(v: number): void {
    while (v > 0x7f) {
      this.head.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.head.push(v);
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.flushHead();
    this.chunks.push(b);
    this.size += b.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, encoder.encode(s));
  }

  double(field: number, d: number): void {
    this.tag(field, 1);
    this.flushHead();
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, d, true);
    this.chunks.push(b);
    this.size += 8;
  }

  finish(): Uint8Array {
    this.flushHead();
    if (this.chunks.length === 1) return this.chunks[0]!;
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** google.protobuf.Value for a JSON-like JS value. */
export function encodeValue(v: unknown): Uint8Array {
  const w = new Writer();
  if (v === null || v === undefined) {
    w.tag(1, 0);
    w.varint(0); // NULL_VALUE
  } else if (typeof v === "number") {
    w.double(2, v);
  } else if (typeof v === "string") {
    w.string(3, v);
  } else if (v instanceof Uint8Array) {
    w.bytes(3, v); // a string Envoy holds as raw bytes (need not be UTF-8)
  } else if (typeof v === "boolean") {
    w.tag(4, 0);
    w.varint(v ? 1 : 0);
  } else if (Array.isArray(v)) {
    w.bytes(6, encodeListValue(v));
  } else if (typeof v === "object") {
    w.bytes(5, encodeStruct(v as Record<string, unknown>));
  } else {
    w.string(3, String(v));
  }
  return w.finish();
}

export function encodeListValue(list: unknown[]): Uint8Array {
  const w = new Writer();
  for (const item of list) w.bytes(1, encodeValue(item));
  return w.finish();
}

function mapEntry(key: string, value: Uint8Array): Uint8Array {
  const w = new Writer();
  w.string(1, key);
  w.bytes(2, value);
  return w.finish();
}

/** google.protobuf.Struct { map<string, Value> fields = 1; } */
export function encodeStruct(obj: Record<string, unknown>): Uint8Array {
  const w = new Writer();
  for (const [k, v] of Object.entries(obj)) w.bytes(1, mapEntry(k, encodeValue(v)));
  return w.finish();
}

/** envoy.config.core.v3.Metadata { map<string, Struct> filter_metadata = 1; } */
export function encodeMetadata(filterMetadata: Record<string, Record<string, unknown>>): Uint8Array {
  const w = new Writer();
  for (const [k, v] of Object.entries(filterMetadata)) w.bytes(1, mapEntry(k, encodeStruct(v)));
  return w.finish();
}

/** envoy.config.core.v3.Node: id = 1, cluster = 2, metadata = 3 (proto3: empty strings omitted). */
export function encodeNode(node: { id: string; cluster: string; metadata: Record<string, unknown> }): Uint8Array {
  const w = new Writer();
  if (node.id) w.string(1, node.id);
  if (node.cluster) w.string(2, node.cluster);
  if (Object.keys(node.metadata).length > 0) w.bytes(3, encodeStruct(node.metadata));
  return w.finish();
}
