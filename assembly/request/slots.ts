// Attribute slots: one per distinct thing a leaf reads. Fixed attributes (1..9) have fixed slots
// (attribute - 1); HEADER, JWT_CLAIM and METADATA get one slot per distinct key. The host path or
// header name of each slot is built once here, at configure time, so a request only looks it up.
import { Tables } from "../decode/tables";
import { Attr } from "../decode/format";

export const FIXED_SLOTS: u32 = 9;

const JWT_PREFIX = "metadata\0filter_metadata\0envoy.filters.http.jwt_authn\0payload\0";
const METADATA_PREFIX = "metadata\0filter_metadata\0";
const HEADER_PREFIX = "request\0headers\0";

export class Slots {
  count: u32 = 0;
  /** Attribute of each slot. */
  attr: StaticArray<u8>;
  /** Property path (or header name) of each slot; the buffers are kept alive in `owners`. */
  path: StaticArray<usize>;
  pathLen: StaticArray<u32>;
  /** Slot read by each leaf of the blob. */
  leafSlot: StaticArray<u32>;
  owners: Array<ArrayBuffer> = new Array<ArrayBuffer>();

  constructor(count: u32, leafCount: u32) {
    this.count = count;
    this.attr = new StaticArray<u8>(<i32>count);
    this.path = new StaticArray<usize>(<i32>count);
    this.pathLen = new StaticArray<u32>(<i32>count);
    this.leafSlot = new StaticArray<u32>(<i32>leafCount);
  }

  setPath(slot: u32, prefix: string, key: usize, keyLen: usize): void {
    const pre = String.UTF8.encode(prefix);
    const n = <usize>pre.byteLength + keyLen;
    const b = new ArrayBuffer(<i32>n);
    memory.copy(changetype<usize>(b), changetype<usize>(pre), <usize>pre.byteLength);
    if (keyLen > 0) memory.copy(changetype<usize>(b) + <usize>pre.byteLength, key, keyLen);
    this.owners.push(b);
    unchecked((this.path[slot] = changetype<usize>(b)));
    unchecked((this.pathLen[slot] = <u32>n));
  }
}

export function buildSlots(t: Tables): Slots {
  // Keyed slots: (attribute, key_str). key_str indices are unique per byte string (the decoder
  // rejects duplicate strings), so the index identifies the key.
  const keyed = new Map<u64, u32>();
  const leafSlot = new StaticArray<u32>(<i32>t.leafCount);
  let count = FIXED_SLOTS;
  for (let i: u32 = 0; i < t.leafCount; i++) {
    const a = t.leafAttr(i);
    if (a <= FIXED_SLOTS) {
      unchecked((leafSlot[i] = a - 1));
      continue;
    }
    const k = (<u64>a << 32) | <u64>t.leafKey(i);
    if (!keyed.has(k)) keyed.set(k, count++);
    unchecked((leafSlot[i] = keyed.get(k)));
  }
  const s = new Slots(count, t.leafCount);
  s.leafSlot = leafSlot;
  for (let a: u32 = 1; a <= FIXED_SLOTS; a++) {
    unchecked((s.attr[a - 1] = <u8>a));
  }
  s.setPath(Attr.PeerPrincipal - 1, "connection\0uri_san_peer_certificate", 0, 0);
  s.setPath(Attr.Sni - 1, "connection\0requested_server_name", 0, 0);
  s.setPath(Attr.Method - 1, ":method", 0, 0);
  s.setPath(Attr.Host - 1, ":authority", 0, 0);
  s.setPath(Attr.UrlPath - 1, ":path", 0, 0);
  s.setPath(Attr.DestinationPort - 1, "destination\0port", 0, 0);
  const keys = keyed.keys();
  for (let j = 0; j < keys.length; j++) {
    const k = unchecked(keys[j]);
    const slot = keyed.get(k);
    const a = <u32>(k >> 32);
    const key = <u32>k;
    unchecked((s.attr[slot] = <u8>a));
    const prefix = a == Attr.Header ? HEADER_PREFIX : a == Attr.JwtClaim ? JWT_PREFIX : METADATA_PREFIX;
    s.setPath(slot, prefix, t.strPtr(key), t.strLen(key));
  }
  return s;
}
