// Unmanaged memory: a growable u32 vector, a growable byte buffer, an open-addressing u32 -> u32
// map and an in-place u64 sort. One implementation each, instead of the generic Array/Map/Set/sort
// instantiations they replace (module size). They are @unmanaged (no GC header, no shadow-stack
// spills where they are used) and freed explicitly, object included, by free().
import { mix } from "./hash";

export const NONE: u32 = 0xffffffff;

/** n zeroed bytes of unmanaged memory (a valid block even for n = 0). */
export function zalloc(n: usize): usize {
  const p = heap.alloc(n > 0 ? n : 1);
  memory.fill(p, 0, n);
  return p;
}

/** Frees unmanaged memory; 0 is a no-op. */
export function zfree(p: usize): void {
  if (p != 0) heap.free(p);
}

// @ts-ignore: decorator
@inline export function u32At(p: usize, i: u32): u32 {
  return load<u32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline export function setU32At(p: usize, i: u32, v: u32): void {
  store<u32>(p + (<usize>i << 2), v);
}

/** A growable vector of u32. */
@unmanaged
export class U32Buf {
  ptr: usize = 0;
  len: u32 = 0;
  cap: u32 = 0;

  push(v: u32): void {
    if (this.len == this.cap) this.reserve(this.cap == 0 ? 16 : this.cap << 1);
    store<u32>(this.ptr + (<usize>this.len << 2), v);
    this.len++;
  }

  reserve(cap: u32): void {
    if (cap <= this.cap) return;
    this.ptr = this.ptr == 0 ? heap.alloc(<usize>cap << 2) : heap.realloc(this.ptr, <usize>cap << 2);
    this.cap = cap;
  }

  @inline get(i: u32): u32 {
    return load<u32>(this.ptr + (<usize>i << 2));
  }

  @inline set(i: u32, v: u32): void {
    store<u32>(this.ptr + (<usize>i << 2), v);
  }

  /** Hands the elements over (shrunk to fit; a valid block even when empty) and resets. */
  take(): usize {
    const p = this.ptr == 0 ? heap.alloc(4) : heap.realloc(this.ptr, <usize>max<u32>(this.len, 1) << 2);
    this.ptr = 0;
    this.len = 0;
    this.cap = 0;
    return p;
  }

  /** Frees the elements and the object. */
  free(): void {
    if (this.ptr != 0) heap.free(this.ptr);
    heap.free(changetype<usize>(this));
  }
}

/** A growable byte buffer. */
@unmanaged
export class ByteBuf {
  ptr: usize = 0;
  len: usize = 0;
  cap: usize = 0;

  ensure(extra: usize): void {
    const need = this.len + extra;
    if (need <= this.cap) return;
    let cap = this.cap == 0 ? <usize>256 : this.cap;
    while (cap < need) cap <<= 1;
    this.ptr = this.ptr == 0 ? heap.alloc(cap) : heap.realloc(this.ptr, cap);
    this.cap = cap;
  }

  bytes(p: usize, n: usize): void {
    this.ensure(n);
    memory.copy(this.ptr + this.len, p, n);
    this.len += n;
  }

  /** ASCII text (compile-time literals). */
  ascii(s: string): void {
    const n = <usize>s.length;
    this.ensure(n);
    for (let i: usize = 0; i < n; i++) store<u8>(this.ptr + this.len + i, <u8>s.charCodeAt(<i32>i));
    this.len += n;
  }

  byte(b: u32): void {
    this.ensure(1);
    store<u8>(this.ptr + this.len, <u8>b);
    this.len++;
  }

  /** Decimal digits of v. */
  decimal(v: u32): void {
    let n: usize = 1;
    for (let x = v; x >= 10; x /= 10) n++;
    this.ensure(n);
    let x = v;
    for (let i = n; i > 0; i--) {
      store<u8>(this.ptr + this.len + i - 1, <u8>(48 + x % 10));
      x /= 10;
    }
    this.len += n;
  }

  /** Hands the bytes over (shrunk to fit; a valid block even when empty) and resets. */
  take(): usize {
    const p = this.ptr == 0 ? heap.alloc(1) : heap.realloc(this.ptr, max<usize>(this.len, 1));
    this.ptr = 0;
    this.len = 0;
    this.cap = 0;
    return p;
  }

  /** Frees the elements and the object. */
  free(): void {
    if (this.ptr != 0) heap.free(this.ptr);
    heap.free(changetype<usize>(this));
  }
}

/** u32 -> u32, open addressing with linear probing; key NONE is reserved, get() answers NONE for
 *  an absent key. Grows at half load. */
@unmanaged
export class IntMap {
  slots: usize = 0;
  mask: u32 = 0;
  count: u32 = 0;

  constructor(hint: u32 = 8) {
    let cap: u32 = 16;
    while (cap < hint * 2) cap <<= 1;
    this.alloc(cap);
  }

  private alloc(cap: u32): void {
    this.slots = heap.alloc(<usize>cap << 3);
    memory.fill(this.slots, 0xff, <usize>cap << 3);
    this.mask = cap - 1;
  }

  get(k: u32): u32 {
    let i = mix(k) & this.mask;
    let at = this.slots + (<usize>i << 3);
    let key = load<u32>(at);
    while (key != k && key != NONE) {
      i = (i + 1) & this.mask;
      at = this.slots + (<usize>i << 3);
      key = load<u32>(at);
    }
    return key == k ? load<u32>(at, 4) : NONE;
  }

  set(k: u32, v: u32): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    let i = mix(k) & this.mask;
    let at = this.slots + (<usize>i << 3);
    let key = load<u32>(at);
    while (key != k && key != NONE) {
      i = (i + 1) & this.mask;
      at = this.slots + (<usize>i << 3);
      key = load<u32>(at);
    }
    if (key == NONE) this.count++;
    store<u32>(at, k);
    store<u32>(at, v, 4);
  }

  private grow(): void {
    const old = this.slots;
    const oldCap = this.mask + 1;
    this.alloc(oldCap << 1);
    this.count = 0;
    for (let i: u32 = 0; i < oldCap; i++) {
      const at = old + (<usize>i << 3);
      const key = load<u32>(at);
      if (key != NONE) this.set(key, load<u32>(at, 4));
    }
    heap.free(old);
  }

  /** Frees the table and the object. */
  free(): void {
    heap.free(this.slots);
    heap.free(changetype<usize>(this));
  }
}

/** Heapsort of n u64 at p, ascending (no recursion, O(n log n) worst case). */
export function sortU64(p: usize, n: u32): void {
  if (n < 2) return;
  for (let i = <i32>(n >> 1) - 1; i >= 0; i--) siftDown64(p, <u32>i, n);
  for (let end = n - 1; end > 0; end--) {
    const x = load<u64>(p);
    store<u64>(p, load<u64>(p + (<usize>end << 3)));
    store<u64>(p + (<usize>end << 3), x);
    siftDown64(p, 0, end);
  }
}

function siftDown64(p: usize, i: u32, n: u32): void {
  let done = false;
  while (!done) {
    let m = i;
    const l: u32 = 2 * i + 1;
    const r = l + 1;
    if (l < n && load<u64>(p + (<usize>l << 3)) > load<u64>(p + (<usize>m << 3))) m = l;
    if (r < n && load<u64>(p + (<usize>r << 3)) > load<u64>(p + (<usize>m << 3))) m = r;
    if (m == i) {
      done = true;
    } else {
      const x = load<u64>(p + (<usize>i << 3));
      store<u64>(p + (<usize>i << 3), load<u64>(p + (<usize>m << 3)));
      store<u64>(p + (<usize>m << 3), x);
      i = m;
    }
  }
}
