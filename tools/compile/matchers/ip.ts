// ipBlocks / remoteIpBlocks / source.ip / remote.ip / destination.ip: CIDR ranges with host bits
// masked, as Envoy's CidrRange does (Istio passes `10.1.2.3/16` through unmasked).
import { Attribute, MatchKind, type MatchNode } from "../ir.ts";
import { leaf } from "./string-form.ts";

export class AddressError extends Error {}

export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

export function parseIPv6(text: string): Uint8Array | null {
  if (text.includes("%")) return null;
  let head = text;
  let v4: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return null;
    head = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === "") return [];
    const groups = s.split(":");
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parseGroups(halves[0]);
  const right = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (!left || !right) return null;
  const total = left.length + right.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const groups = [...left, ...new Array(8 - total).fill(0), ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (v4) out.set(v4, 12);
  return out;
}

export function parseAddress(text: string): Uint8Array | null {
  return text.includes(":") ? parseIPv6(text) : parseIPv4(text);
}

/** `a.b.c.d`, `a.b.c.d/n`, `v6`, `v6/n` -> network bytes with host bits cleared + prefix length. */
export function parseCidr(text: string): { address: Uint8Array; prefixLength: number } {
  const slash = text.indexOf("/");
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const address = parseAddress(addrText);
  if (!address) throw new AddressError(`invalid IP address "${addrText}"`);
  const bits = address.length * 8;
  let prefixLength = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]*)$/.test(p) || Number(p) > bits) throw new AddressError(`invalid prefix length in "${text}"`);
    prefixLength = Number(p);
  }
  for (let bit = prefixLength; bit < bits; bit++) address[bit >> 3] &= ~(0x80 >> (bit & 7));
  return { address, prefixLength };
}

export function cidrMatcher(attribute: Attribute, value: string): MatchNode {
  return leaf({ attribute, kind: MatchKind.Cidr, cidr: parseCidr(value) });
}
