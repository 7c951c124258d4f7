// Byte-range helpers over linear memory: the filter compares (ptr,len) ranges in place instead of
// building AS strings, so values from the host (invalid UTF-8, NULs) never need converting.

/** A retained UTF-8 copy of a compile-time string, for paths and names sent to the host. */
export function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

// @ts-ignore: decorator
@inline export function lower(c: u32): u32 {
  return c - 65 < 26 ? c | 32 : c;
}

export function bytesEqual(a: usize, alen: usize, b: usize, blen: usize): bool {
  return alen == blen && memory.compare(a, b, alen) == 0;
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
