// Socket addresses as Envoy prints them ("ip:port", "[v6]:port") and the downstream remote
// address after the HTTP connection manager's original-IP detection (istio-authz-semantics §10):
// an Istio sidecar inbound listener has use_remote_address=false, so with an X-Forwarded-For
// header the remote address becomes an XFF entry (port 0); source.address shows that, not the peer.

import { isIPv4, isIPv6 } from "node:net";

export interface SocketAddress {
  readonly ip: string;
  readonly port: number;
  readonly v6: boolean;
}

/** Envoy prints IPv6 in canonical compressed form (inet_ntop); the URL parser produces the same. */
function canonicalIpv6(ip: string): string {
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

// Streams usually reuse a handful of addresses: parse each text once.
const parsed = new Map<string, SocketAddress>();

/** Parses "ip:port" or "[v6]:port". Throws on anything else (a caller error, not module input). */
export function parseSocketAddress(text: string): SocketAddress {
  let a = parsed.get(text);
  if (a === undefined) {
    a = parseSocketAddressUncached(text);
    if (parsed.size >= 4096) parsed.clear();
    parsed.set(text, a);
  }
  return a;
}

function parseSocketAddressUncached(text: string): SocketAddress {
  let ip: string;
  let portText: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]:");
    if (close < 0) throw new Error(`bad socket address ${JSON.stringify(text)}: want "[v6]:port"`);
    ip = text.slice(1, close);
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) throw new Error(`bad socket address ${JSON.stringify(text)}: want "ip:port"`);
    ip = text.slice(0, colon);
    portText = text.slice(colon + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new Error(`bad port in socket address ${JSON.stringify(text)}`);
  if (isIPv4(ip)) return { ip, port, v6: false };
  if (isIPv6(ip)) return { ip: canonicalIpv6(ip), port, v6: true };
  throw new Error(`bad IP in socket address ${JSON.stringify(text)}`);
}

export function formatSocketAddress(a: SocketAddress): string {
  return a.v6 ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
}

/** Network::Utility::parseInternetAddressNoThrow(ip, 0): a bare IP, no brackets, no port. */
function parseBareIp(text: string): SocketAddress | null {
  if (isIPv4(text)) return { ip: text, port: 0, v6: false };
  if (isIPv6(text) && !text.includes("%")) return { ip: canonicalIpv6(text), port: 0, v6: true };
  return null;
}

/**
 * Envoy's Utility::getLastAddressFromXFF: skip `trustedHops` entries from the right, take the
 * text after the last remaining comma, trim, parse as a bare IP; null when that fails.
 */
export function addressFromXff(xff: string, trustedHops: number): SocketAddress | null {
  let s = xff;
  for (let i = 0; i < trustedHops; i++) {
    const comma = s.lastIndexOf(",");
    if (comma < 0) return null;
    s = s.slice(0, comma);
  }
  const comma = s.lastIndexOf(",");
  if (comma >= 0 && comma + 1 < s.length) s = s.slice(comma + 1);
  return parseBareIp(s.trim());
}

/**
 * The downstream remote address a filter sees: the XFF-derived address when the request carries
 * X-Forwarded-For and it parses, else the TCP peer. `xff` is every XFF value joined with ",".
 */
export function downstreamRemoteAddress(peer: SocketAddress, xff: string | undefined, trustedHops: number): SocketAddress {
  if (xff === undefined) return peer;
  return addressFromXff(xff, trustedHops) ?? peer;
}
