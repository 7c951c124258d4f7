// IP addresses and CIDR ranges, spec §5.1.5.
// Istio parses policy values with Go's netip.ParseAddr / netip.ParsePrefix (util.AddrStrToCidrRange) and
// passes `addr/bits` to Envoy unchanged; Envoy's CidrRange masks the host bits (so `10.1.2.3/16` acts as
// `10.1.0.0/16`) and an address of the other IP version never matches.

export interface Ip {
  version: 4 | 6;
  bytes: number[]; // 4 or 16 bytes
}

export interface Cidr {
  ip: Ip;
  bits: number;
}

/** Strict dotted-quad parse as Go's netip does (no leading zeros, each octet 0..255). */
function parseIpv4(s: string): number[] | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

function parseIpv6(s: string): number[] | null {
  if (s.includes("%")) return null; // zones: not usable in a CIDR / by Envoy here
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (part: string, allowV4Tail: boolean): number[] | null => {
    if (part === "") return [];
    const groups = part.split(":");
    const bytes: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (allowV4Tail && i === groups.length - 1 && g.includes(".")) {
        const v4 = parseIpv4(g);
        if (!v4) return null;
        bytes.push(...v4);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      const n = parseInt(g, 16);
      bytes.push(n >> 8, n & 0xff);
    }
    return bytes;
  };
  if (halves.length === 1) {
    const b = parseGroups(halves[0]!, true);
    return b && b.length === 16 ? b : null;
  }
  const head = parseGroups(halves[0]!, false);
  const tail = parseGroups(halves[1]!, true);
  if (!head || !tail) return null;
  const fill = 16 - head.length - tail.length;
  if (fill < 2) return null; // "::" must stand for at least one zero group
  return [...head, ...new Array<number>(fill).fill(0), ...tail];
}

/** Parse an IPv4 or IPv6 address; null if invalid. */
export function parseIp(s: string | null | undefined): Ip | null {
  if (typeof s !== "string" || s === "") return null;
  if (s.includes(":")) {
    const b = parseIpv6(s);
    return b ? { version: 6, bytes: b } : null;
  }
  const b = parseIpv4(s);
  return b ? { version: 4, bytes: b } : null;
}

/**
 * Istio's AddrStrToCidrRange: `a.b.c.d/n` (netip.ParsePrefix) or a bare address (-> /32 or /128).
 * Returns null where Go would return an error (the value then fails translation, spec §6).
 */
export function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf("/");
  if (slash < 0) {
    const ip = parseIp(s);
    return ip ? { ip, bits: ip.version === 4 ? 32 : 128 } : null;
  }
  const ip = parseIp(s.slice(0, slash));
  const bitsStr = s.slice(slash + 1);
  if (!ip || !/^(0|[1-9][0-9]*)$/.test(bitsStr)) return null;
  const bits = Number(bitsStr);
  if (bits > (ip.version === 4 ? 32 : 128)) return null;
  return { ip, bits };
}

/** Envoy CidrRange::isInRange: same version and equal in the first `bits` bits (host bits ignored). */
export function cidrContains(c: Cidr, addr: string | null | undefined): boolean {
  const ip = parseIp(addr);
  if (!ip || ip.version !== c.ip.version) return false;
  let remaining = c.bits;
  for (let i = 0; i < ip.bytes.length && remaining > 0; i++) {
    const take = Math.min(8, remaining);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((ip.bytes[i]! & mask) !== (c.ip.bytes[i]! & mask)) return false;
    remaining -= take;
  }
  return true;
}
