// Attribute slots: one per distinct thing a leaf reads. Fixed attributes (1..9) have fixed slots
// (attribute - 1); HEADER, JWT_CLAIM, METADATA and DYNAMIC_METADATA get one slot per distinct key.
// The host path or header name of each slot is built once here, at configure time, so a request
// only looks it up. Metadata slots keep a path into the typed Metadata message (request/metadata.ts):
// length-prefixed segments, the filter name first; 1.0's NUL-separated keys are converted here.
import { Tables } from "../decode/tables";
import { Attr } from "../decode/format";
import { ByteBuf, IntMap, NONE, U32Buf, u32At, zalloc } from "../bytes/buf";

export const FIXED_SLOTS: u32 = 9;

const JWT_FILTER = "envoy.filters.http.jwt_authn";
const JWT_PAYLOAD = "payload";
const HEADER_PREFIX = "request\0headers\0";

function segment(pool: ByteBuf, p: usize, n: usize): void {
  pool.ensure(4);
  store<u32>(pool.ptr + pool.len, <u32>n);
  pool.len += 4;
  pool.bytes(p, n);
}

function asciiSegment(pool: ByteBuf, s: string): void {
  pool.ensure(4);
  store<u32>(pool.ptr + pool.len, <u32>s.length);
  pool.len += 4;
  pool.ascii(s);
}

/** 1.0 key (segments separated by NUL) -> length-prefixed segments. */
function nulSegments(pool: ByteBuf, p: usize, n: usize): void {
  let start: usize = 0;
  for (let i: usize = 0; i <= n; i++) {
    if (i == n || load<u8>(p + i) == 0) {
      segment(pool, p + start, i - start);
      start = i + 1;
    }
  }
}

@unmanaged
export class Slots {
  count: u32 = 0;
  /** Attribute of each slot (u8). */
  attr: usize = 0;
  /** Property path (or header name) of each slot: offset and length in `paths` (u32 pairs). */
  path: usize = 0;
  /** Every path, back to back. */
  paths: usize = 0;
  /** Slot read by each local leaf (decide/graph.ts), u32. */
  leafSlot: usize = 0;

  @inline attrOf(slot: u32): u32 {
    return load<u8>(this.attr + <usize>slot);
  }
  @inline pathPtr(slot: u32): usize {
    return this.paths + <usize>u32At(this.path, slot << 1);
  }
  @inline pathLen(slot: u32): usize {
    return <usize>u32At(this.path, (slot << 1) + 1);
  }
  @inline slotOf(leaf: u32): u32 {
    return u32At(this.leafSlot, leaf);
  }

  free(): void {
    heap.free(this.attr);
    heap.free(this.path);
    heap.free(this.paths);
    heap.free(this.leafSlot);
    heap.free(changetype<usize>(this));
  }
}

/** Slots for the local leaves (blob leaf indices at leafBlob). Keyed slots are told apart by their
 *  key_str index (the encoder stores each distinct string once). */
export function buildSlots(t: Tables, leafBlob: usize, leafCount: u32): Slots {
  const keyed = new IntMap(16);
  const keys = new U32Buf(); // per keyed slot: key_str << 2 | attribute - HEADER (10..13)
  const s = new Slots();
  s.leafSlot = zalloc(<usize>leafCount << 2);
  let count = FIXED_SLOTS;
  for (let i: u32 = 0; i < leafCount; i++) {
    const l = u32At(leafBlob, i);
    const a = t.leafAttr(l);
    let slot = a - 1;
    if (a > FIXED_SLOTS) {
      const k = (t.leafKey(l) << 2) | (a - Attr.Header);
      slot = keyed.get(k);
      if (slot == NONE) {
        slot = count++;
        keyed.set(k, slot);
        keys.push(k);
      }
    }
    store<u32>(s.leafSlot + (<usize>i << 2), slot);
  }
  keyed.free();

  s.count = count;
  s.attr = zalloc(<usize>count);
  s.path = zalloc(<usize>count << 3);
  const pool = new ByteBuf();
  for (let i: u32 = 0; i < count; i++) {
    const start = <u32>pool.len;
    let a = i + 1;
    if (i < FIXED_SLOTS) {
      if (a == Attr.PeerPrincipal) pool.ascii("connection\0uri_san_peer_certificate");
      else if (a == Attr.Sni) pool.ascii("connection\0requested_server_name");
      else if (a == Attr.Method) pool.ascii(":method");
      else if (a == Attr.Host) pool.ascii(":authority");
      else if (a == Attr.UrlPath) pool.ascii(":path");
      else if (a == Attr.DestinationPort) pool.ascii("destination\0port");
    } else {
      const k = keys.get(i - FIXED_SLOTS);
      a = (k & 3) + Attr.Header;
      const key = k >> 2;
      if (a == Attr.Header) {
        pool.ascii(HEADER_PREFIX);
        pool.bytes(t.strPtr(key), t.strLen(key));
      } else if (a == Attr.JwtClaim) {
        asciiSegment(pool, JWT_FILTER);
        asciiSegment(pool, JWT_PAYLOAD);
        nulSegments(pool, t.strPtr(key), t.strLen(key));
      } else if (a == Attr.Metadata) {
        nulSegments(pool, t.strPtr(key), t.strLen(key));
      } else {
        pool.bytes(t.strPtr(key), t.strLen(key));
      }
    }
    store<u8>(s.attr + <usize>i, <u8>a);
    store<u32>(s.path + (<usize>i << 3), start);
    store<u32>(s.path + (<usize>i << 3), <u32>pool.len - start, 4);
  }
  s.paths = pool.take();
  pool.free();
  keys.free();
  return s;
}
