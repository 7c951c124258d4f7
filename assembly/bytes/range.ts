// Byte-range helpers over linear memory: the filter compares (ptr,len) ranges in place instead of
// building AS strings, so values from the host (invalid UTF-8, NULs) never need converting.

/** An unmanaged copy of an ASCII literal, for paths, names and values sent to the host: a u32
 *  length, then the bytes. Made once (module initialization), never freed; read with litPtr and
 *  litLen (unmanaged, so the hot path holds no GC reference). */
export function lit(s: string): usize {
  const n = <usize>s.length;
  const p = heap.alloc(4 + n);
  store<u32>(p, <u32>n);
  for (let i: usize = 0; i < n; i++) store<u8>(p + 4 + i, <u8>s.charCodeAt(<i32>i));
  return p;
}

// @ts-ignore: decorator
@inline export function litPtr(l: usize): usize {
  return l + 4;
}

// @ts-ignore: decorator
@inline export function litLen(l: usize): usize {
  return <usize>load<u32>(l);
}

// @ts-ignore: decorator
@inline export function lower(c: u32): u32 {
  return c - 65 < 26 ? c | 32 : c;
}

export function bytesEqual(a: usize, alen: usize, b: usize, blen: usize): bool {
  return alen == blen && sameBytes(a, b, alen);
}

/** The n bytes at a and b are equal: 8 at a time (unaligned loads), then the tail. */
export function sameBytes(a: usize, b: usize, n: usize): bool {
  const end8 = a + (n & ~(<usize>7));
  while (a < end8) {
    if (load<u64>(a) != load<u64>(b)) return false;
    a += 8;
    b += 8;
  }
  const end = end8 + (n & 7);
  while (a < end) {
    if (load<u8>(a) != load<u8>(b)) return false;
    a++;
    b++;
  }
  return true;
}

export function bytesEqualFold(a: usize, b: usize, len: usize): bool {
  for (let i: usize = 0; i < len; i++) {
    if (lower(load<u8>(a + i)) != lower(load<u8>(b + i))) return false;
  }
  return true;
}

/** Bytewise order, like std::string's operator< (shorter prefix sorts first). */
export function bytesCompare(a: usize, alen: usize, b: usize, blen: usize): i32 {
  const n = alen < blen ? alen : blen;
  const c = memory.compare(a, b, n);
  if (c != 0) return c;
  return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/** An AS string of raw bytes for log messages (invalid UTF-8 is replaced, never trapped on). */
export function bytesToString(p: usize, len: usize): string {
  return String.UTF8.decodeUnsafe(p, len, false);
}
