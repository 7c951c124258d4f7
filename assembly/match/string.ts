// String matchers on (ptr,len) byte ranges: EXACT, PREFIX, SUFFIX (optionally ASCII case-folded),
// PRESENT and NONEMPTY. No decoding: bytes are compared as they came from the host.
import { bytesEqualFold, sameBytes } from "../bytes/range";

export function matchExact(v: usize, vl: usize, o: usize, ol: usize, fold: bool): bool {
  if (vl != ol) return false;
  return fold ? bytesEqualFold(v, o, ol) : sameBytes(v, o, ol);
}

export function matchPrefix(v: usize, vl: usize, o: usize, ol: usize, fold: bool): bool {
  if (vl < ol) return false;
  return fold ? bytesEqualFold(v, o, ol) : sameBytes(v, o, ol);
}

export function matchSuffix(v: usize, vl: usize, o: usize, ol: usize, fold: bool): bool {
  if (vl < ol) return false;
  const s = v + vl - ol;
  return fold ? bytesEqualFold(s, o, ol) : sameBytes(s, o, ol);
}

/** Envoy present_match: the value exists, possibly empty. */
// @ts-ignore: decorator
@inline export function matchPresent(): bool {
  return true;
}

/** Istio's `*` for most fields is the regex `.+`: present and non-empty. */
// @ts-ignore: decorator
@inline export function matchNonEmpty(vl: usize): bool {
  return vl > 0;
}
