// Byte formats the ext_authz stage speaks: proxy-wasm header pairs (spec 5.1: u32 count, count x
// (u32 key_len, u32 value_len), then each key and value followed by NUL) and protobuf's wire format
// (varints, length-delimited fields) for the gRPC CheckRequest / CheckResponse. Only used when a
// CUSTOM rule matched, so they may allocate.
import { ByteBuf, U32Buf } from "../bytes/buf";

/** Builds a pairs buffer. */
@unmanaged
export class PairsWriter {
  data: ByteBuf = new ByteBuf();
  lens: U32Buf = new U32Buf();

  add(k: usize, kl: usize, v: usize, vl: usize): void {
    this.lens.push(<u32>kl);
    this.lens.push(<u32>vl);
    this.data.bytes(k, kl);
    this.data.byte(0);
    this.data.bytes(v, vl);
    this.data.byte(0);
  }

  addStr(k: string, v: string): void {
    const kb = String.UTF8.encode(k);
    const vb = String.UTF8.encode(v);
    this.add(changetype<usize>(kb), kb.byteLength, changetype<usize>(vb), vb.byteLength);
  }

  get count(): u32 {
    return this.lens.len >> 1;
  }

  /** The serialized pairs (heap.alloc'd, caller frees) and their length in `outLen`. */
  finish(): usize {
    const out = new ByteBuf();
    const n = this.count;
    out.ensure(4);
    store<u32>(out.ptr, n);
    out.len = 4;
    for (let i: u32 = 0; i < this.lens.len; i++) {
      out.ensure(4);
      store<u32>(out.ptr + out.len, load<u32>(this.lens.ptr + (<usize>i << 2)));
      out.len += 4;
    }
    out.bytes(this.data.ptr, this.data.len);
    finishedLen = out.len;
    const p = out.take();
    out.free();
    return p;
  }

  free(): void {
    this.data.free();
    this.lens.free();
    heap.free(changetype<usize>(this));
  }
}

let finishedLen: usize = 0;
/** Length of the last PairsWriter.finish() / ProtoWriter.take() result. */
export function lastFinishedLen(): usize {
  return finishedLen;
}

/** Reads a pairs buffer in place; every range is checked before use (a broken host never traps us). */
export class PairsReader {
  count: u32 = 0;
  ok: bool = false;
  private lensAt: usize = 0;
  private offs: StaticArray<usize> = new StaticArray<usize>(0);

  constructor(public ptr: usize, public len: usize) {
    this.ok = this.parse(ptr, len);
  }

  private parse(ptr: usize, len: usize): bool {
    if (ptr == 0 || len < 4) return len == 0;
    const n = load<u32>(ptr);
    const table = 4 + (<u64>n << 3);
    if (table > <u64>len) return false;
    this.lensAt = ptr + 4;
    this.offs = new StaticArray<usize>(<i32>n);
    this.count = n;
    let at = <u64>table;
    for (let i: u32 = 0; i < n; i++) {
      unchecked((this.offs[i] = <usize>at));
      at += <u64>this.keyLen(i) + 1 + <u64>this.valueLen(i) + 1;
      if (at > <u64>len) {
        this.count = 0;
        return false;
      }
    }
    return true;
  }

  keyLen(i: u32): usize {
    return <usize>load<u32>(this.lensAt + (<usize>i << 3));
  }
  valueLen(i: u32): usize {
    return <usize>load<u32>(this.lensAt + (<usize>i << 3) + 4);
  }
  keyPtr(i: u32): usize {
    return this.ptr + unchecked(this.offs[i]);
  }
  valuePtr(i: u32): usize {
    return this.keyPtr(i) + this.keyLen(i) + 1;
  }
}

/** Protobuf encoder: fields appended in order; nested messages are built in their own writer. */
@unmanaged
export class ProtoWriter {
  buf: ByteBuf = new ByteBuf();

  varint(v: u64): void {
    while (v >= 0x80) {
      this.buf.byte(<u32>(v & 0x7f) | 0x80);
      v >>= 7;
    }
    this.buf.byte(<u32>v);
  }

  tag(field: u32, wire: u32): void {
    this.varint((<u64>field << 3) | wire);
  }

  /** A length-delimited field (string, bytes, message); empty values are left out (proto3). */
  bytesField(field: u32, p: usize, n: usize): void {
    if (n == 0) return;
    this.tag(field, 2);
    this.varint(<u64>n);
    this.buf.bytes(p, n);
  }

  /** A message field, even when empty (presence matters for messages). */
  message(field: u32, m: ProtoWriter): void {
    this.tag(field, 2);
    this.varint(<u64>m.buf.len);
    this.buf.bytes(m.buf.ptr, m.buf.len);
    m.free();
  }

  uintField(field: u32, v: u64): void {
    if (v == 0) return;
    this.tag(field, 0);
    this.varint(v);
  }

  free(): void {
    this.buf.free();
    heap.free(changetype<usize>(this));
  }
}

/** Protobuf decoder over [ptr, end): next() reads one field header and its value's range. */
export class ProtoReader {
  field: u32 = 0;
  wire: u32 = 0;
  /** Varint value (wire 0). */
  value: u64 = 0;
  /** Length-delimited value (wire 2). */
  at: usize = 0;
  len: usize = 0;
  bad: bool = false;

  constructor(public pos: usize, public end: usize) {}

  private readVarint(): u64 {
    let v: u64 = 0;
    let shift: u64 = 0;
    while (this.pos < this.end && shift < 64) {
      const b = <u64>load<u8>(this.pos++);
      v |= (b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
      shift += 7;
    }
    this.bad = true;
    return 0;
  }

  /** Reads the next field; false at the end or on malformed input (then `bad`). */
  next(): bool {
    if (this.bad || this.pos >= this.end) return false;
    const key = this.readVarint();
    if (this.bad) return false;
    this.field = <u32>(key >> 3);
    this.wire = <u32>(key & 7);
    if (this.wire == 0) {
      this.value = this.readVarint();
    } else if (this.wire == 2) {
      const n = this.readVarint();
      if (this.bad || n > <u64>(this.end - this.pos)) {
        this.bad = true;
        return false;
      }
      this.at = this.pos;
      this.len = <usize>n;
      this.pos += <usize>n;
    } else if (this.wire == 1) {
      if (this.end - this.pos < 8) this.bad = true;
      else this.pos += 8;
    } else if (this.wire == 5) {
      if (this.end - this.pos < 4) this.bad = true;
      else this.pos += 4;
    } else {
      this.bad = true;
    }
    return !this.bad;
  }
}
