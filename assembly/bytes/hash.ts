// FNV-1a, 32 bit: one pass over a value yields the hash of every prefix, which the rule index
// uses to probe several prefix lengths while reading the value once.

export const FNV_BASIS: u32 = 2166136261;
export const FNV_PRIME: u32 = 16777619;

// @ts-ignore: decorator
@inline export function fnvStep(h: u32, b: u32): u32 {
  return (h ^ b) * FNV_PRIME;
}

export function fnv(p: usize, len: usize): u32 {
  let h = FNV_BASIS;
  for (let i: usize = 0; i < len; i++) h = fnvStep(h, load<u8>(p + i));
  return h;
}

/** Final avalanche so that nearby keys spread over an open-addressing table. */
// @ts-ignore: decorator
@inline export function mix(h: u32): u32 {
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h;
}
