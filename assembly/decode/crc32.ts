// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zlib's crc32: the blob checksum.

const TABLE = new StaticArray<u32>(256);
let tableReady = false;

function buildTable(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    unchecked((TABLE[n] = c));
  }
  tableReady = true;
}

export function crc32(p: usize, len: usize): u32 {
  if (!tableReady) buildTable();
  let c: u32 = 0xffffffff;
  for (let i: usize = 0; i < len; i++) {
    c = unchecked(TABLE[(c ^ load<u8>(p + i)) & 0xff]) ^ (c >>> 8);
  }
  return c ^ 0xffffffff;
}
