// What a JWT claim or metadata value is. Envoy serializes property values without type tags
// (proxy-wasm-envoy.md §5.2): a string is its raw bytes, a number an 8-byte IEEE double, a bool one
// byte, and a list or a map the "pairs" format (a list = each element as a key with an empty value).
// The filter therefore infers the type from the bytes:
//   1. a value that parses exactly as pairs format is a container: a LIST when every value is
//      empty, else a MAP (an object);
//   2. an 8-byte value that is not printable UTF-8 text is a NUMBER;
//   3. a 1-byte value 0x00 or 0x01 is a BOOL;
//   4. anything else is a STRING.
// Limits (inherent to the untyped encoding): an object whose values are all "" reads as a list of
// its keys; an empty list may read as the empty string; an 8-character claim made of control or
// invalid UTF-8 bytes reads as a number, and a double whose 8 bytes happen to be printable UTF-8
// reads as a string; a 1-byte string "\x00" / "\x01" reads as a bool. None of these shapes occur
// in JWT claims or metadata written as text.

export namespace ValueType {
  export const String: u8 = 0;
  export const List: u8 = 1;
  export const Other: u8 = 2;
}

export function classifyValue(p: usize, n: usize): u8 {
  const pairs = pairsShape(p, n);
  if (pairs == 1) return ValueType.List;
  if (pairs == 2) return ValueType.Other;
  if (n == 8 && !isText(p, n)) return ValueType.Other;
  if (n == 1 && load<u8>(p) <= 1) return ValueType.Other;
  return ValueType.String;
}

/** 0: not pairs format; 1: pairs with every value empty (a list); 2: pairs with a value (a map). */
export function pairsShape(p: usize, n: usize): i32 {
  if (n < 4) return 0;
  const count = <u64>load<u32>(p);
  const headerBytes = 4 + count * 8;
  if (headerBytes > <u64>n) return 0;
  let data = p + <usize>headerBytes;
  const end = p + n;
  let allEmpty = true;
  for (let i: usize = 0; i < <usize>count; i++) {
    const kl = <usize>load<u32>(p + 4 + i * 8);
    const vl = <usize>load<u32>(p + 8 + i * 8);
    if (vl != 0) allEmpty = false;
    if (kl >= end - data || load<u8>(data + kl) != 0) return 0;
    data += kl + 1;
    if (vl >= end - data || load<u8>(data + vl) != 0) return 0;
    data += vl + 1;
  }
  if (data != end) return 0;
  return allEmpty ? 1 : 2;
}

/** Printable UTF-8: no C0 controls or DEL, well-formed multi-byte sequences. */
export function isText(p: usize, n: usize): bool {
  let i: usize = 0;
  while (i < n) {
    const c = <u32>load<u8>(p + i);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      i++;
      continue;
    }
    let extra: usize;
    if (c >= 0xc2 && c <= 0xdf) extra = 1;
    else if (c >= 0xe0 && c <= 0xef) extra = 2;
    else if (c >= 0xf0 && c <= 0xf4) extra = 3;
    else return false;
    if (n - i <= extra) return false;
    for (let k: usize = 1; k <= extra; k++) {
      if ((<u32>load<u8>(p + i + k) & 0xc0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}
