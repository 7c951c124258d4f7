// The per-request attribute cache. Each slot is read at most once per request and only when a
// leaf asks for it. Values stay where the host put them (host-allocated memory); the cache frees
// them all in end(). All arrays are sized at configure time: a request allocates nothing.
import { WasmResultValues } from "@gcoredev/proxy-wasm-sdk-as/assembly/runtime";
import { getProperty } from "../abi/property";
import { getRequestHeader } from "../abi/header";
import { lastLen, lastPtr, release } from "../abi/value";
import { Attr } from "../decode/format";
import { lastPort, parseAddress } from "../match/ip";
import { utf8 } from "../bytes/range";
import { Slots } from "./slots";
import { ValueType, classifyValue } from "./value-type";

export const UNREAD: u8 = 0;
export const PRESENT: u8 = 1;
export const ABSENT: u8 = 2;
/** The value cannot be known: the direct peer behind X-Forwarded-For, or a host error. */
export const UNKNOWN: u8 = 3;

const XFF = utf8("x-forwarded-for");
const SOURCE_ADDRESS = utf8("source\0address");
const DESTINATION_ADDRESS = utf8("destination\0address");

export class RequestCache {
  state: StaticArray<u8>;
  ptr: StaticArray<usize>;
  /** Value length; for DESTINATION_PORT the port number itself. */
  len: StaticArray<u32>;
  /** ValueType of JWT_CLAIM / METADATA values. */
  vtype: StaticArray<u8>;
  touched: StaticArray<u32>;
  touchedCount: i32 = 0;
  owned: StaticArray<usize>;
  ownedCount: i32 = 0;
  /** Parsed addresses: source at +0, destination at +16. */
  ips: usize;
  srcState: u8 = UNREAD;
  srcLen: u32 = 0;
  srcPort: i32 = -1;
  dstState: u8 = UNREAD;
  dstLen: u32 = 0;
  /** Host calls made this request (tests and benchmarks). */
  reads: u32 = 0;

  constructor(public slots: Slots) {
    const n = <i32>slots.count;
    this.state = new StaticArray<u8>(n);
    this.ptr = new StaticArray<usize>(n);
    this.len = new StaticArray<u32>(n);
    this.vtype = new StaticArray<u8>(n);
    this.touched = new StaticArray<u32>(n);
    this.owned = new StaticArray<usize>(n);
    this.ips = heap.alloc(32);
  }

  dispose(): void {
    this.end();
    heap.free(this.ips);
  }

  /** Frees the host values of this request and forgets every slot. */
  end(): void {
    for (let i = 0; i < this.ownedCount; i++) release(unchecked(this.owned[i]));
    this.ownedCount = 0;
    for (let i = 0; i < this.touchedCount; i++) unchecked((this.state[unchecked(this.touched[i])] = UNREAD));
    this.touchedCount = 0;
    this.srcState = UNREAD;
    this.dstState = UNREAD;
    this.reads = 0;
  }

  /** The slot's state, reading it first if needed; its value is then at ptr/len. */
  @inline get(slot: u32): u8 {
    const s = unchecked(this.state[slot]);
    return s != UNREAD ? s : this.read(slot);
  }

  read(slot: u32): u8 {
    const a = <u32>unchecked(this.slots.attr[slot]);
    let st: u8;
    unchecked((this.ptr[slot] = 0));
    unchecked((this.len[slot] = 0));
    if (a == Attr.SourceIp) st = this.readDirectIp(slot);
    else if (a == Attr.RemoteIp) st = this.readIp(slot, true);
    else if (a == Attr.DestinationIp) st = this.readIp(slot, false);
    else if (a == Attr.DestinationPort) st = this.readPort(slot);
    else st = this.readString(slot, a);
    unchecked((this.state[slot] = st));
    unchecked((this.touched[this.touchedCount++] = slot));
    return st;
  }

  readString(slot: u32, a: u32): u8 {
    const path = unchecked(this.slots.path[slot]);
    const pathLen = <usize>unchecked(this.slots.pathLen[slot]);
    const viaHeader = a == Attr.Method || a == Attr.Host || a == Attr.UrlPath;
    this.reads++;
    const status = viaHeader ? getRequestHeader(path, pathLen) : getProperty(path, pathLen);
    const typed = a == Attr.JwtClaim || a == Attr.Metadata;
    if (status == WasmResultValues.NotFound) return ABSENT;
    if (status != WasmResultValues.Ok) {
      // A null or otherwise unserializable claim/metadata value exists but is not a string.
      if (typed && status == WasmResultValues.SerializationFailure) {
        unchecked((this.vtype[slot] = ValueType.Other));
        return PRESENT;
      }
      return UNKNOWN;
    }
    const p = lastPtr();
    let n = lastLen();
    if (p != 0) unchecked((this.owned[this.ownedCount++] = p));
    if (a == Attr.UrlPath) n = pathOnly(p, n);
    unchecked((this.ptr[slot] = p));
    unchecked((this.len[slot] = <u32>n));
    if (typed) unchecked((this.vtype[slot] = classifyValue(p, n)));
    return PRESENT;
  }

  /** Direct peer IP (blob-format §3.3): unknown behind X-Forwarded-For or with a port of 0,
   *  because source.address is then the right-most XFF entry, which the client controls. */
  readDirectIp(slot: u32): u8 {
    this.reads++;
    const xff = getRequestHeader(changetype<usize>(XFF), <usize>XFF.byteLength);
    release(lastPtr());
    if (xff != WasmResultValues.NotFound) return UNKNOWN;
    if (this.source() != PRESENT || this.srcPort <= 0) return UNKNOWN;
    unchecked((this.ptr[slot] = this.ips));
    unchecked((this.len[slot] = this.srcLen));
    return PRESENT;
  }

  readIp(slot: u32, source: bool): u8 {
    const st = source ? this.source() : this.destination();
    if (st == PRESENT) {
      unchecked((this.ptr[slot] = source ? this.ips : this.ips + 16));
      unchecked((this.len[slot] = source ? this.srcLen : this.dstLen));
    }
    return st;
  }

  source(): u8 {
    if (this.srcState == UNREAD) {
      this.srcState = this.address(SOURCE_ADDRESS, this.ips);
      this.srcLen = this.lastIpLen;
      this.srcPort = lastPort();
    }
    return this.srcState;
  }

  destination(): u8 {
    if (this.dstState == UNREAD) {
      this.dstState = this.address(DESTINATION_ADDRESS, this.ips + 16);
      this.dstLen = this.lastIpLen;
    }
    return this.dstState;
  }

  lastIpLen: u32 = 0;

  /** Reads an "ip:port" property and parses it into out; not an IP counts as absent. */
  address(path: ArrayBuffer, out: usize): u8 {
    this.reads++;
    this.lastIpLen = 0;
    const status = getProperty(changetype<usize>(path), <usize>path.byteLength);
    if (status == WasmResultValues.NotFound) return ABSENT;
    if (status != WasmResultValues.Ok) return UNKNOWN;
    const p = lastPtr();
    this.lastIpLen = parseAddress(p, lastLen(), out);
    release(p);
    return this.lastIpLen != 0 ? PRESENT : ABSENT;
  }

  /** destination.port: an int64, 8 bytes little-endian. */
  readPort(slot: u32): u8 {
    this.reads++;
    const status = getProperty(unchecked(this.slots.path[slot]), <usize>unchecked(this.slots.pathLen[slot]));
    if (status == WasmResultValues.NotFound) return ABSENT;
    if (status != WasmResultValues.Ok) return UNKNOWN;
    const p = lastPtr();
    const n = lastLen();
    let st = ABSENT;
    if (n == 8) {
      const v = load<i64>(p);
      if (v >= 0 && v <= 65535) {
        unchecked((this.len[slot] = <u32>v));
        st = PRESENT;
      }
    }
    release(p);
    return st;
  }
}

/** url_path: `:path` cut at the first `?` or `#` (Envoy PathUtil::removeQueryAndFragment). */
export function pathOnly(p: usize, n: usize): usize {
  for (let i: usize = 0; i < n; i++) {
    const c = load<u8>(p + i);
    if (c == 63 || c == 35) return i;
  }
  return n;
}
