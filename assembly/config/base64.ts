// Standard-alphabet base64 with padding (RFC 4648 §4), strict: the length is a multiple of 4,
// `=` appears only as 1 or 2 final pad characters, no whitespace, and the unused bits of the last
// quantum are zero (so each blob has exactly one accepted encoding).

/** Decoded length, or -1 when `src` is not valid base64. */
export function base64DecodedLength(src: usize, len: usize): isize {
  if (len % 4 != 0) return -1;
  if (len == 0) return 0;
  let pad: usize = 0;
  if (load<u8>(src + len - 1) == 61) pad++;
  if (load<u8>(src + len - 2) == 61) pad++;
  return <isize>((len / 4) * 3 - pad);
}

function sextet(c: u32): i32 {
  if (c - 65 < 26) return <i32>(c - 65);
  if (c - 97 < 26) return <i32>(c - 71);
  if (c - 48 < 10) return <i32>(c + 4);
  if (c == 43) return 62;
  if (c == 47) return 63;
  return -1;
}

/** Decodes into dst (base64DecodedLength bytes). Returns false on any invalid input. */
export function base64Decode(src: usize, len: usize, dst: usize): bool {
  if (len % 4 != 0) return false;
  let o: usize = 0;
  for (let i: usize = 0; i < len; i += 4) {
    const last = i + 4 == len;
    const a = sextet(load<u8>(src + i));
    const b = sextet(load<u8>(src + i + 1));
    const c3 = load<u8>(src + i + 2);
    const c4 = load<u8>(src + i + 3);
    if (a < 0 || b < 0) return false;
    if (last && c3 == 61) {
      if (c4 != 61 || (b & 15) != 0) return false;
      store<u8>(dst + o, (a << 2) | (b >> 4));
      return true;
    }
    const c = sextet(c3);
    if (c < 0) return false;
    if (last && c4 == 61) {
      if ((c & 3) != 0) return false;
      store<u8>(dst + o, (a << 2) | (b >> 4));
      store<u8>(dst + o + 1, ((b & 15) << 4) | (c >> 2));
      return true;
    }
    const d = sextet(c4);
    if (d < 0) return false;
    store<u8>(dst + o, (a << 2) | (b >> 4));
    store<u8>(dst + o + 1, ((b & 15) << 4) | (c >> 2));
    store<u8>(dst + o + 2, ((c & 3) << 6) | d);
    o += 3;
  }
  return true;
}
