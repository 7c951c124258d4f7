// The per-request attribute cache. Each slot is read at most once per request and only when a
// leaf asks for it. Values stay where the host put them (host-allocated memory); the cache frees
// them all in end(). All arrays are sized at configure time: a request allocates nothing.
import { Status } from "../abi/codes";
import { getProperty } from "../abi/property";
import { getRequestHeader } from "../abi/header";
import { lastLen, lastPtr, release } from "../abi/value";
import { Attr, isMetadataAttr } from "../decode/format";
import { lastPort, parseAddress } from "../match/ip";
import { lit, litLen, litPtr } from "../bytes/range";
import { setU32At, u32At, zalloc } from "../bytes/buf";
import { Slots } from "./slots";
import { MdKind, lookup, mdLen, mdPtr } from "./metadata";

export const UNREAD: u8 = 0;
export const PRESENT: u8 = 1;
export const ABSENT: u8 = 2;
/** The value cannot be known: the direct peer behind X-Forwarded-For, or a host error. */
export const UNKNOWN: u8 = 3;

const XFF = lit("x-forwarded-for");
const SOURCE_ADDRESS = lit("source\0address");
const DESTINATION_ADDRESS = lit("destination\0address");
const METADATA = lit("metadata");

@unmanaged
export class RequestCache {
  slots: Slots;
  /** Per slot: state (u8), value pointer and length (u32; for DESTINATION_PORT the port itself),
   *  MdKind of metadata values (u8): String (the bytes at ptr/len), List (the ListValue message at
   *  ptr/len) or Other. */
  state: usize;
  ptr: usize;
  len: usize;
  vtype: usize;
  /** Slots read this request (u32), and host values to free (u32). */
  touched: usize;
  touchedCount: u32 = 0;
  owned: usize;
  ownedCount: u32 = 0;
  /** Parsed addresses: source at +0, destination at +16. */
  ips: usize;
  srcState: u8 = UNREAD;
  srcLen: u32 = 0;
  srcPort: i32 = -1;
  dstState: u8 = UNREAD;
  dstLen: u32 = 0;
  lastIpLen: u32 = 0;
  /** The whole dynamic Metadata message, read once per request when a metadata slot is needed. */
  mdState: u8 = UNREAD;
  mdPtr: usize = 0;
  mdLen: usize = 0;
  /** Host calls made this request (tests and benchmarks). */
  reads: u32 = 0;
  /** A network filter's connection: no HTTP request, and source.address is the connection's
   *  peer (no X-Forwarded-For rewriting), so the direct IP is known. */
  network: bool = false;

  constructor(slots: Slots) {
    this.slots = slots;
    const n = <usize>slots.count;
    this.state = zalloc(n);
    this.ptr = zalloc(n << 2);
    this.len = zalloc(n << 2);
    this.vtype = zalloc(n);
    this.touched = zalloc(n << 2);
    this.owned = zalloc(n << 2);
    this.ips = zalloc(32);
  }

  /** Frees the arrays and this object (not the slots). */
  free(): void {
    this.end();
    heap.free(this.state);
    heap.free(this.ptr);
    heap.free(this.len);
    heap.free(this.vtype);
    heap.free(this.touched);
    heap.free(this.owned);
    heap.free(this.ips);
    heap.free(changetype<usize>(this));
  }

  @inline ptrOf(slot: u32): usize {
    return <usize>u32At(this.ptr, slot);
  }
  @inline lenOf(slot: u32): u32 {
    return u32At(this.len, slot);
  }
  @inline typeOf(slot: u32): u8 {
    return load<u8>(this.vtype + <usize>slot);
  }
  @inline private set(slot: u32, p: usize, n: u32): void {
    setU32At(this.ptr, slot, <u32>p);
    setU32At(this.len, slot, n);
  }

  /** Frees the host values of this request and forgets every slot. */
  end(): void {
    for (let i: u32 = 0; i < this.ownedCount; i++) release(<usize>u32At(this.owned, i));
    this.ownedCount = 0;
    for (let i: u32 = 0; i < this.touchedCount; i++) store<u8>(this.state + <usize>u32At(this.touched, i), UNREAD);
    this.touchedCount = 0;
    this.srcState = UNREAD;
    this.dstState = UNREAD;
    this.mdState = UNREAD;
    this.reads = 0;
  }

  /** The slot's state, reading it first if needed; its value is then at ptrOf/lenOf. */
  @inline get(slot: u32): u8 {
    const s = load<u8>(this.state + <usize>slot);
    return s != UNREAD ? s : this.read(slot);
  }

  read(slot: u32): u8 {
    const a = this.slots.attrOf(slot);
    let st: u8;
    this.set(slot, 0, 0);
    if (a == Attr.SourceIp) st = this.readDirectIp(slot);
    else if (a == Attr.RemoteIp) st = this.readIp(slot, true);
    else if (a == Attr.DestinationIp) st = this.readIp(slot, false);
    else if (a == Attr.DestinationPort) st = this.readPort(slot);
    else if (isMetadataAttr(a)) st = this.readMetadata(slot);
    else st = this.readString(slot, a);
    store<u8>(this.state + <usize>slot, st);
    setU32At(this.touched, this.touchedCount++, slot);
    return st;
  }

  readString(slot: u32, a: u32): u8 {
    const path = this.slots.pathPtr(slot);
    const pathLen = this.slots.pathLen(slot);
    const viaHeader = a == Attr.Method || a == Attr.Host || a == Attr.UrlPath;
    this.reads++;
    const status = viaHeader ? getRequestHeader(path, pathLen) : getProperty(path, pathLen);
    if (status == Status.NotFound) return ABSENT;
    if (status != Status.Ok) return UNKNOWN;
    const p = lastPtr();
    let n = lastLen();
    if (p != 0) setU32At(this.owned, this.ownedCount++, <u32>p);
    if (a == Attr.UrlPath) n = pathOnly(p, n);
    this.set(slot, p, <u32>n);
    return PRESENT;
  }

  /** A JWT claim or metadata value, typed, from the Metadata message (request/metadata.ts). */
  readMetadata(slot: u32): u8 {
    if (this.mdState == UNREAD) {
      this.reads++;
      const status = getProperty(litPtr(METADATA), litLen(METADATA));
      if (status == Status.Ok) {
        this.mdPtr = lastPtr();
        this.mdLen = lastLen();
        if (this.mdPtr != 0) setU32At(this.owned, this.ownedCount++, <u32>this.mdPtr);
        this.mdState = PRESENT;
      } else {
        // NotFound: no stream info; anything else is a host failure.
        this.mdState = status == Status.NotFound ? ABSENT : UNKNOWN;
      }
    }
    if (this.mdState != PRESENT) return this.mdState;
    const kind = lookup(this.mdPtr, this.mdLen, this.slots.pathPtr(slot), this.slots.pathLen(slot));
    if (kind == MdKind.NotFound) return ABSENT;
    if (kind == MdKind.Malformed) return UNKNOWN;
    store<u8>(this.vtype + <usize>slot, kind);
    if (kind != MdKind.Other) this.set(slot, mdPtr(), <u32>mdLen());
    return PRESENT;
  }

  /** Direct peer IP (blob-format §3.3): unknown behind X-Forwarded-For or with a port of 0,
   *  because source.address is then the right-most XFF entry, which the client controls. */
  readDirectIp(slot: u32): u8 {
    if (!this.network) {
      this.reads++;
      const xff = getRequestHeader(litPtr(XFF), litLen(XFF));
      release(lastPtr());
      if (xff != Status.NotFound) return UNKNOWN;
    }
    if (this.source() != PRESENT || this.srcPort <= 0) return UNKNOWN;
    this.set(slot, this.ips, this.srcLen);
    return PRESENT;
  }

  readIp(slot: u32, source: bool): u8 {
    const st = source ? this.source() : this.destination();
    if (st == PRESENT) this.set(slot, source ? this.ips : this.ips + 16, source ? this.srcLen : this.dstLen);
    return st;
  }

  source(): u8 {
    if (this.srcState == UNREAD) {
      this.srcState = this.address(litPtr(SOURCE_ADDRESS), litLen(SOURCE_ADDRESS), this.ips);
      this.srcLen = this.lastIpLen;
      this.srcPort = lastPort();
    }
    return this.srcState;
  }

  destination(): u8 {
    if (this.dstState == UNREAD) {
      this.dstState = this.address(litPtr(DESTINATION_ADDRESS), litLen(DESTINATION_ADDRESS), this.ips + 16);
      this.dstLen = this.lastIpLen;
    }
    return this.dstState;
  }

  /** Reads an "ip:port" property and parses it into out; not an IP counts as absent. */
  address(path: usize, pathLen: usize, out: usize): u8 {
    this.reads++;
    this.lastIpLen = 0;
    const status = getProperty(path, pathLen);
    if (status == Status.NotFound) return ABSENT;
    if (status != Status.Ok) return UNKNOWN;
    const p = lastPtr();
    this.lastIpLen = parseAddress(p, lastLen(), out);
    release(p);
    return this.lastIpLen != 0 ? PRESENT : ABSENT;
  }

  /** destination.port: an int64, 8 bytes little-endian. */
  readPort(slot: u32): u8 {
    this.reads++;
    const status = getProperty(this.slots.pathPtr(slot), this.slots.pathLen(slot));
    if (status == Status.NotFound) return ABSENT;
    if (status != Status.Ok) return UNKNOWN;
    const p = lastPtr();
    const n = lastLen();
    let st = ABSENT;
    if (n == 8) {
      const v = load<i64>(p);
      if (v >= 0 && v <= 65535) {
        setU32At(this.len, slot, <u32>v);
        st = PRESENT;
      }
    }
    release(p);
    return st;
  }
}

/** url_path: `:path` cut at the first `?` or `#` (Envoy PathUtil::removeQueryAndFragment). Eight
 *  bytes at a time: a byte is `?` or `#` iff it is zero after XOR with that character. */
export function pathOnly(p: usize, n: usize): usize {
  let i: usize = 0;
  while (n - i >= 8) {
    const w = load<u64>(p + i);
    const q = w ^ 0x3f3f3f3f3f3f3f3f;
    const h = w ^ 0x2323232323232323;
    if ((((q - 0x0101010101010101) & ~q) | ((h - 0x0101010101010101) & ~h)) & 0x8080808080808080) break;
    i += 8;
  }
  while (i < n) {
    const c = load<u8>(p + i);
    if (c == 63 || c == 35) return i;
    i++;
  }
  return n;
}
