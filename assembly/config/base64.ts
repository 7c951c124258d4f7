// Standard-alphabet base64 with padding (RFC 4648 §4), strict: the length is a multiple of 4,
// `=` appears only as 1 or 2 final pad characters, no whitespace, and the unused bits of the last
// quantum are zero (so each blob has exactly one accepted encoding).
//
// A streaming decoder: the pluginConfig scanner feeds it the policy string while scanning it, and
// it writes the bytes over the configuration text itself (4 characters in, 3 bytes out, so the
// output never overtakes the read position): the blob needs no second buffer. Whole quads of
// alphabet characters take the fast path (one u32 load, four table lookups, one u32 store); the
// rest (JSON escapes, padding, the closing quote) goes character by character.

const BAD: u32 = 0x01000000;

/** Four 256-entry u32 tables (4 KiB, built once per VM): the sextet of character c at position k
 *  of a quad, already shifted into the output byte order; BAD outside the alphabet. */
let quadTables: usize = 0;

function sextet(c: u32): i32 {
  if (c - 65 < 26) return <i32>(c - 65);
  if (c - 97 < 26) return <i32>(c - 71);
  if (c - 48 < 10) return <i32>(c + 4);
  if (c == 43) return 62;
  if (c == 47) return 63;
  return -1;
}

function buildTables(): void {
  quadTables = heap.alloc(4 << 10);
  for (let c: u32 = 0; c < 256; c++) {
    const s = sextet(c);
    for (let k: u32 = 0; k < 4; k++) {
      let v = BAD;
      if (s >= 0) {
        const x = <u32>s << (18 - 6 * k);
        // Output bytes x>>16, x>>8, x, as a little-endian word.
        v = ((x >> 16) & 0xff) | (x & 0xff00) | ((x & 0xff) << 16);
      }
      store<u32>(quadTables + (<usize>k << 10) + (<usize>c << 2), v);
    }
  }
}

export class Base64 {
  /** Next output byte. */
  out: usize;
  /** Characters consumed (padding included). */
  chars: usize = 0;
  /** A character outside the alphabet, misplaced padding, or non-zero unused bits. */
  bad: bool = false;
  private acc: u32 = 0;
  private n: u32 = 0;
  private pad: u32 = 0;
  /** A padded quad ended the data: any further character is invalid. */
  private ended: bool = false;

  /** Output from `start`; `limit` bounds the fast path's 4-byte stores. */
  constructor(public start: usize, public limit: usize) {
    this.out = start;
    if (quadTables == 0) buildTables();
  }

  get length(): usize {
    return this.out - this.start;
  }

  /** Decodes whole quads of alphabet characters from [p, end) while at a quad boundary; returns
   *  the number of characters consumed (stops before the first quad holding anything else). */
  quads(p: usize, end: usize): usize {
    if (this.n != 0 || this.bad || this.ended) return 0;
    const t = quadTables;
    let q = p;
    let o = this.out;
    // Whole quads left in the input, and quads whose 4-byte store stays below the limit.
    const room = this.limit - o;
    let n = (end - q) >> 2;
    if (room < 4) n = 0;
    else if ((room - 1) / 3 < n) n = (room - 1) / 3;
    const qEnd = q + (n << 2);
    // Two quads per step while possible (independent lookups overlap), then one.
    while (qEnd - q >= 8) {
      const w = load<u32>(q);
      const v = load<u32>(q, 4);
      const x = load<u32>(t + ((w & 0xff) << 2)) | load<u32>(t + 1024 + (((w >> 8) & 0xff) << 2)) |
        load<u32>(t + 2048 + (((w >> 16) & 0xff) << 2)) | load<u32>(t + 3072 + ((w >> 24) << 2));
      const y = load<u32>(t + ((v & 0xff) << 2)) | load<u32>(t + 1024 + (((v >> 8) & 0xff) << 2)) |
        load<u32>(t + 2048 + (((v >> 16) & 0xff) << 2)) | load<u32>(t + 3072 + ((v >> 24) << 2));
      if ((x | y) >= BAD) break;
      // 4 bytes stored, 3 kept: the 4th lies in the quad just read (in place) or is rewritten next.
      store<u32>(o, x);
      store<u32>(o + 3, y);
      o += 6;
      q += 8;
    }
    if (q < qEnd) {
      const w = load<u32>(q);
      const x = load<u32>(t + ((w & 0xff) << 2)) | load<u32>(t + 1024 + (((w >> 8) & 0xff) << 2)) |
        load<u32>(t + 2048 + (((w >> 16) & 0xff) << 2)) | load<u32>(t + 3072 + ((w >> 24) << 2));
      if (x < BAD) {
        store<u32>(o, x);
        o += 3;
        q += 4;
      }
    }
    this.out = o;
    this.chars += q - p;
    return q - p;
  }

  /** One character (a code point, after JSON unescaping). */
  char(c: u32): void {
    this.chars++;
    if (this.bad) return;
    let s: i32 = 0;
    if (this.ended) s = -1;
    else if (c == 61) {
      if (this.n < 2) s = -1;
      else this.pad++;
    } else if (this.pad > 0 || c > 127) {
      s = -1;
    } else {
      s = sextet(c);
    }
    if (s < 0) {
      this.bad = true;
      return;
    }
    this.acc = (this.acc << 6) | <u32>s;
    if (++this.n < 4) return;
    const x = this.acc;
    const o = this.out;
    store<u8>(o, <u8>(x >> 16));
    if (this.pad == 2) {
      if ((x & 0xffff) != 0) this.bad = true;
      this.out = o + 1;
    } else if (this.pad == 1) {
      if ((x & 0xff) != 0) this.bad = true;
      store<u8>(o, <u8>(x >> 8), 1);
      this.out = o + 2;
    } else {
      store<u8>(o, <u8>(x >> 8), 1);
      store<u8>(o, <u8>x, 2);
      this.out = o + 3;
    }
    this.ended = this.pad > 0;
    this.acc = 0;
    this.n = 0;
  }

  /** The input so far is complete, valid base64. */
  finish(): bool {
    return !this.bad && this.n == 0;
  }
}

/** Decoded length, or -1 when `src` is not valid base64. */
export function base64DecodedLength(src: usize, len: usize): isize {
  if (len % 4 != 0) return -1;
  if (len == 0) return 0;
  let pad: usize = 0;
  if (load<u8>(src + len - 1) == 61) pad++;
  if (load<u8>(src + len - 2) == 61) pad++;
  return <isize>((len / 4) * 3 - pad);
}

/** Decodes into dst (base64DecodedLength bytes). Returns false on any invalid input. */
export function base64Decode(src: usize, len: usize, dst: usize): bool {
  const n = base64DecodedLength(src, len);
  if (n < 0) return false;
  const d = new Base64(dst, dst + <usize>n);
  const end = src + len;
  let p = src + d.quads(src, end);
  while (p < end) {
    d.char(load<u8>(p));
    p++;
    p += d.quads(p, end);
  }
  return d.finish() && d.length == <usize>n;
}
