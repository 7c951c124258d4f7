// The proxy-wasm "pairs" serialization (maps, lists) as Envoy writes it (proxy-wasm-envoy.md §5.1).

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
