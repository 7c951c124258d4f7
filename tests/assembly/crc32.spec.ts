import { crc32 } from "../../assembly/decode/crc32";

function crcOf(s: string): u32 {
  const b = String.UTF8.encode(s);
  return crc32(changetype<usize>(b), <usize>b.byteLength);
}

describe("crc32 (IEEE, as zlib)", () => {
  it("matches the check value of \"123456789\"", () => {
    expect<u32>(crcOf("123456789")).toBe(0xcbf43926);
  });
  it("is 0 for no bytes", () => {
    expect<u32>(crcOf("")).toBe(0);
  });
  it("matches zlib for a short text", () => {
    // zlib.crc32("The quick brown fox jumps over the lazy dog")
    expect<u32>(crcOf("The quick brown fox jumps over the lazy dog")).toBe(0x414fa339);
  });
});

/** Bit-at-a-time CRC-32, the definition. */
function reference(p: usize, n: usize): u32 {
  let c: u32 = 0xffffffff;
  for (let i: usize = 0; i < n; i++) {
    c ^= load<u8>(p + i);
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return c ^ 0xffffffff;
}

describe("crc32 slicing", () => {
  it("equals the bitwise definition for every length 0..100 and every start alignment", () => {
    const b = new ArrayBuffer(120);
    const p = changetype<usize>(b);
    let seed: u32 = 99;
    for (let i = 0; i < 120; i++) {
      seed = seed * 1103515245 + 12345;
      store<u8>(p + <usize>i, <u8>(seed >>> 16));
    }
    for (let start: usize = 0; start < 8; start++) {
      for (let n: usize = 0; n <= 100; n++) expect<u32>(crc32(p + start, n)).toBe(reference(p + start, n));
    }
  });
});
