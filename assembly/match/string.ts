// String matchers on (ptr,len) byte ranges: EXACT, PREFIX, SUFFIX (optionally ASCII case-folded),
// PRESENT and NONEMPTY. Bytes are compared as they came from the host.
import { bytesEqualFold, sameBytes } from "../bytes/range";
import { matchDotPlus } from "./pattern";

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

/** Istio's `*` for most fields is the regex `.+`, which Envoy matches with RE2 FullMatch: non-empty,
 *  no `\n`, and only the UTF-8 sequences RE2's `.` accepts (match/pattern.ts). */
export function matchNonEmpty(v: usize, vl: usize): bool {
  return matchDotPlus(v, vl);
}
