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
