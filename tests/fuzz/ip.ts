// IP text forms for the fuzzers: bytes -> the many spellings Istio, Go's netip and Envoy accept
// (compressed / full / upper-case / embedded IPv4 for IPv6), and "same network, other host" mutations.
// Independent of tools/ (the compiler parses these texts itself).

export type IpBytes = number[]; // 4 or 16 bytes

export function formatV4(b: IpBytes): string {
  return b.join(".");
}

/** IPv6 text forms. `mixed` writes the last 32 bits as dotted IPv4 (as in `::ffff:1.2.3.4`). */
export type V6Style = "compressed" | "full" | "upper" | "mixed";

export function formatV6(b: IpBytes, style: V6Style = "compressed"): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  if (style === "full") return groups.map((g) => g.toString(16).padStart(4, "0")).join(":");
  const mixed = style === "mixed";
  const hexGroups = mixed ? groups.slice(0, 6) : groups;
  // Longest run (>= 2) of zero groups becomes "::" (RFC 5952); a single zero group stays "0".
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < hexGroups.length; ) {
    if (hexGroups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < hexGroups.length && hexGroups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  let text: string;
  const tail = mixed ? formatV4(b.slice(12)) : "";
  if (bestStart < 0) {
    text = hex(hexGroups) + (mixed ? ":" + tail : "");
  } else {
    const head = hex(hexGroups.slice(0, bestStart));
    const rest = hexGroups.slice(bestStart + bestLen);
    const after = rest.length > 0 ? hex(rest) + (mixed ? ":" + tail : "") : mixed ? tail : "";
    text = `${head}::${after}`;
  }
  return style === "upper" ? text.toUpperCase() : text;
}

export function formatIp(b: IpBytes, style: V6Style = "compressed"): string {
  return b.length === 4 ? formatV4(b) : formatV6(b, style);
}

/** Flip the bits of `b` selected by `flips` (bit indexes, 0 = most significant) and return a copy. */
export function flipBits(b: IpBytes, flips: number[]): IpBytes {
  const out = [...b];
  for (const f of flips) {
    const bit = f % (b.length * 8);
    out[bit >> 3]! ^= 0x80 >> (bit & 7);
  }
  return out;
}

/** A v4-mapped IPv6 address (::ffff:a.b.c.d) for IPv4 bytes. */
export function v4Mapped(b: IpBytes): IpBytes {
  return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...b];
}
