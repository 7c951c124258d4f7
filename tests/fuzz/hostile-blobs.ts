// Hostile blobs and plugin configurations (issue #5): truncated, bit-flipped, length-lied, random, huge,
// wrong version, wrong checksum, structurally corrupted with the CRC recomputed, and broken pluginConfig
// JSON / base64. The filter must never trap; a configuration it cannot trust must be logged at critical and
// every request denied (403, details meshauthz_invalid_config) — docs/filter-io.md.
//
// Two classes:
//   "crc-wrong":  the CRC-32 field does not match bytes [16, length) (or the header is broken): the filter
//                 MUST reject it (100%).
//   "crc-fixed":  body mutated, then total_length and CRC recomputed: the filter must not trap; it may
//                 reject (fail closed) or decode and evaluate requests normally.

import { crc32 } from "node:zlib";
import { EnvoyHost } from "../../tools/host/index.ts";
import type { CaseRequest } from "../../tools/model/case-file.ts";
import { connectionForRequest, streamForRequest, nodeForWorkload } from "../../tools/cases/request-stream.ts";
import { INVALID_CONFIG_DETAILS } from "../../tools/cases/filter-decision.ts";
import { FORMAT_MINOR } from "../../tools/encode/format.ts";

/** A small deterministic PRNG (mulberry32), so every campaign is reproducible from its seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

export const HEADER_BYTES = 24;

export function blobCrc(b: Uint8Array): number {
  return b.length < 16 ? 0 : crc32(b.subarray(16)) >>> 0;
}

/** Sets total_length to the real length and the CRC over [16, length). */
export function fixHeader(b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b);
  if (out.length < 16) return out;
  const v = new DataView(out.buffer);
  v.setUint32(8, out.length, true);
  v.setUint32(12, blobCrc(out), true);
  return out;
}

/** Whether the header's length and CRC fields are consistent with the bytes (what "crc-fixed" keeps). */
export function headerConsistent(b: Uint8Array): boolean {
  if (b.length < 16) return false;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return v.getUint32(8, true) === b.length && v.getUint32(12, true) === blobCrc(b);
}

export interface HostileBlob {
  kind: string;
  cls: "crc-wrong" | "crc-fixed" | "config";
  /** PLUGIN_CONFIGURATION bytes or JSON text */
  config: Uint8Array | string;
  /** the filter must reject this configuration */
  mustReject: boolean;
}

const INTERESTING_U32 = [0, 1, 2, 7, 8, 24, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function setU32(b: Uint8Array, off: number, val: number): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(off, val >>> 0, true);
}

function b64(b: Uint8Array): string {
  return Buffer.from(b).toString("base64");
}

const json = (blob: Uint8Array) => JSON.stringify({ policy: b64(blob) });

/** Body mutations (applied to a copy), then classified by whether the header still matches. */
function mutateBody(rng: Rng, base: Uint8Array): { kind: string; bytes: Uint8Array } {
  const b = Uint8Array.from(base);
  const body = Math.max(0, b.length - HEADER_BYTES);
  const at = () => HEADER_BYTES + rng.int(body);
  switch (rng.int(8)) {
    case 0: {
      const n = 1 + rng.int(8);
      for (let i = 0; i < n; i++) b[at()]! ^= 1 << rng.int(8);
      return { kind: `bitflip-x${n}`, bytes: b };
    }
    case 1: {
      const off = HEADER_BYTES + 4 * rng.int(Math.floor(body / 4));
      if (off + 4 <= b.length) setU32(b, off, rng.pick(INTERESTING_U32));
      return { kind: "u32-interesting", bytes: b };
    }
    case 2: {
      const off = HEADER_BYTES + 4 * rng.int(Math.floor(body / 4));
      if (off + 4 <= b.length) {
        const v = new DataView(b.buffer).getUint32(off, true);
        setU32(b, off, v + rng.pick([1, -1, 2, 16, -16, 0x10000]));
      }
      return { kind: "u32-off-by-n", bytes: b };
    }
    case 3: {
      const n = 1 + rng.int(16);
      const off = at();
      b.set(rng.bytes(Math.min(n, b.length - off)), off);
      return { kind: "overwrite", bytes: b };
    }
    case 4: {
      // delete a 4-aligned chunk (section/table lengths now lie)
      const off = HEADER_BYTES + 4 * rng.int(Math.floor(body / 4));
      const n = 4 * (1 + rng.int(4));
      return { kind: "delete-chunk", bytes: Uint8Array.from([...b.subarray(0, off), ...b.subarray(Math.min(b.length, off + n))]) };
    }
    case 5: {
      const off = HEADER_BYTES + 4 * rng.int(Math.floor(body / 4) + 1);
      const ins = rng.bytes(4 * (1 + rng.int(4)));
      return { kind: "insert-chunk", bytes: Uint8Array.from([...b.subarray(0, off), ...ins, ...b.subarray(off)]) };
    }
    case 6: {
      // a section tag or u8 field (ops, kinds, attributes, flags) to a random byte
      b[at()] = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 0x7f, 0x80, 0xff]);
      return { kind: "u8-field", bytes: b };
    }
    default: {
      const n = 1 + rng.int(64);
      const extra = rng.bytes(n);
      return { kind: "append", bytes: Uint8Array.from([...b, ...extra]) };
    }
  }
}

/** One hostile configuration derived from a valid blob. */
export function hostileBlob(rng: Rng, base: Uint8Array): HostileBlob {
  const r = rng.int(100);
  if (r < 40) {
    // crc-fixed: mutate the body and make the header consistent again
    const m = mutateBody(rng, base);
    const bytes = fixHeader(m.bytes);
    const same = bytes.length === base.length && bytes.every((x, i) => x === base[i]);
    return { kind: `fixed-${m.kind}`, cls: same ? "config" : "crc-fixed", config: rng.int(4) === 0 ? bytes : json(bytes), mustReject: false };
  }
  if (r < 75) {
    // crc-wrong: mutate without fixing the header
    const m = mutateBody(rng, base);
    let bytes = m.bytes;
    if (headerConsistent(bytes)) {
      // the mutation was a no-op for the CRC (e.g. flipped twice): break the CRC field on purpose
      bytes = Uint8Array.from(bytes);
      bytes[12]! ^= 1 << rng.int(8);
    }
    return { kind: `crcwrong-${m.kind}`, cls: "crc-wrong", config: rng.int(4) === 0 ? bytes : json(bytes), mustReject: true };
  }
  const b = Uint8Array.from(base);
  switch (rng.int(9)) {
    case 0:
      return { kind: "truncated", cls: "crc-wrong", config: json(b.subarray(0, rng.int(b.length))), mustReject: true };
    case 1: {
      const lie = rng.pick([0, 1, 23, 24, b.length - 1, b.length + 1, b.length * 2, 0x7fffffff, 0xffffffff]);
      setU32(b, 8, lie);
      return { kind: "length-lie", cls: "crc-wrong", config: json(b), mustReject: lie !== base.length };
    }
    case 2: {
      const major = rng.pick([0, 2, 0x100, 0xffff]);
      new DataView(b.buffer).setUint16(4, major, true);
      return { kind: "wrong-major", cls: "crc-wrong", config: json(b), mustReject: true };
    }
    case 3: {
      const minor = rng.pick([FORMAT_MINOR + 1, FORMAT_MINOR + 2, 0xffff]);
      new DataView(b.buffer).setUint16(6, minor, true);
      return { kind: "wrong-minor", cls: "crc-wrong", config: json(b), mustReject: true };
    }
    case 4:
      setU32(b, 12, new DataView(b.buffer).getUint32(12, true) ^ (1 + rng.int(0xfffffffe)));
      return { kind: "wrong-checksum", cls: "crc-wrong", config: json(b), mustReject: true };
    case 5: {
      b[rng.int(4)]! ^= 1 + rng.int(255);
      return { kind: "wrong-magic", cls: "crc-wrong", config: json(b), mustReject: true };
    }
    case 6: {
      const n = rng.int(4096);
      const bytes = rng.bytes(n);
      if (n >= 4 && rng.int(2) === 0) bytes.set([0x4d, 0x41, 0x5a, 0x42]);
      const fixed = n >= 24 && rng.int(2) === 0 ? fixHeader(bytes) : bytes;
      const consistent = headerConsistent(fixed) && fixed[0] === 0x4d && fixed[1] === 0x41 && fixed[2] === 0x5a && fixed[3] === 0x42;
      return { kind: consistent ? "random-fixed" : "random", cls: consistent ? "crc-fixed" : "crc-wrong", config: json(fixed), mustReject: !consistent || n < 24 };
    }
    case 7: {
      // huge: 1-4 MiB; a consistent header over random sections, or a header that claims the size
      const n = (1 + rng.int(4)) << 20;
      const bytes = rng.bytes(n);
      bytes.set(b.subarray(0, HEADER_BYTES));
      const fixed = rng.int(2) === 0 ? fixHeader(bytes) : bytes;
      return { kind: "huge", cls: headerConsistent(fixed) ? "crc-fixed" : "crc-wrong", config: json(fixed), mustReject: !headerConsistent(fixed) };
    }
    default:
      return hostileConfigText(rng, base);
  }
}

/** Broken pluginConfig texts around a valid blob. */
export function hostileConfigText(rng: Rng, base: Uint8Array): HostileBlob {
  const good = b64(base);
  const cases: Array<[string, string | Uint8Array]> = [
    ["empty", ""],
    ["json-not-object", "[1,2,3]"],
    ["json-truncated", `{"policy": "${good.slice(0, good.length >> 1)}`],
    ["json-policy-number", `{"policy": 12345}`],
    ["json-policy-null", `{"policy": null}`],
    ["json-policy-object", `{"policy": {"a": "b"}}`],
    ["json-no-policy", `{"engine": "indexed"}`],
    ["base64-invalid-chars", `{"policy": "${good.slice(0, 8)}!!**${good.slice(12)}"}`],
    ["base64-unpadded-cut", `{"policy": "${good.slice(0, good.length - 1 - rng.int(3))}"}`],
    ["base64-empty", `{"policy": ""}`],
    ["base64-whitespace", `{"policy": "${good.slice(0, 10)} \\n ${good.slice(10)}"}`],
    ["json-deep", "[".repeat(100000) + "]".repeat(100000)],
    ["json-huge-string", `{"x": "${"a".repeat(2 << 20)}", "policy": "AAAA"}`],
    ["json-bad-escape", `{"policy": "\\u12"}`],
    ["json-nul", `{"policy": "\u0000${good}"}`],
    ["binary-garbage", rng.bytes(1 + rng.int(512))],
    ["mazb-short", Uint8Array.from([0x4d, 0x41, 0x5a, 0x42])],
    ["json-duplicate-policy-bad-last", `{"policy": "${good}", "policy": "AAAA"}`],
  ];
  const [kind, config] = rng.pick(cases);
  return { kind: `config-${kind}`, cls: "config", config, mustReject: true };
}

// ---------------------------------------------------------------------------------------------------------
// Running one configuration

export const PROBE_REQUESTS: CaseRequest[] = [
  { protocol: "HTTP", method: "GET", path: "/", host: "backend:8080", headers: {}, source_principal: null, source_ip: "10.0.0.1", remote_ip: "10.0.0.1", destination_ip: "10.0.0.2", destination_port: 8080, sni: null, jwt: null },
  {
    protocol: "HTTP", method: "POST", path: "/api/v1/data?x=1", host: "api.example.com", headers: { "x-user": "alice", "x-forwarded-for": "203.0.113.7" },
    source_principal: "spiffe://cluster.local/ns/default/sa/frontend", source_ip: "10.0.0.1", remote_ip: "203.0.113.7",
    destination_ip: "10.0.0.2", destination_port: 9090, sni: "outbound_.8080_._.backend.default.svc.cluster.local",
    jwt: { iss: "https://issuer.example", sub: "alice", aud: ["a", "b"], groups: ["admin"] },
  },
  { protocol: "GRPC", path: "/pkg.Svc/Method", host: "backend", source_principal: "spiffe://td/ns/a/sa/b", source_ip: "2001:db8::1", remote_ip: "2001:db8::1", destination_ip: "2001:db8::2", destination_port: 443, sni: "x", jwt: null },
];

export interface BlobOutcome {
  /** on_configure or on_vm_start trapped, or a request trapped */
  trap: string | null;
  /** the configuration was not used: every probe got 403 meshauthz_invalid_config */
  failClosed: boolean;
  /** the configuration was decoded and requests evaluated (normal 200/403 rbac details) */
  accepted: boolean;
  /** something that is neither: e.g. Envoy rejected the config (500), mixed answers, no critical log */
  violations: string[];
}

const LOG_CRITICAL = 5;

/** runConfig, with network: the filter as a network filter (pluginConfig mode "network") and the
 *  probe requests as connections. */
export async function runConfig(wasm: Uint8Array, config: Uint8Array | string, network = false): Promise<BlobOutcome> {
  const host = await EnvoyHost.create({
    wasm,
    configuration: config,
    node: nodeForWorkload({ namespace: "default", labels: { app: "backend" } }),
    pluginName: "default.meshauthz",
    rootId: "meshauthz",
    workers: 1,
  });
  const violations: string[] = [];
  let trap: string | null = null;
  if (!host.configAccepted) {
    const why = host.configError ?? "";
    if (/trap|failed:|unreachable|out of bounds|RuntimeError/i.test(why)) trap = `configure: ${why}`;
    else violations.push(`Envoy rejected the configuration (filter must accept and fail closed): ${why}`);
    return { trap, failClosed: false, accepted: false, violations };
  }
  let invalid = 0;
  let normal = 0;
  for (const r of PROBE_REQUESTS) {
    if (network) {
      const c = host.connect(connectionForRequest({ ...r, protocol: "TCP" }));
      const details = c.filterState["meshauthz.termination_details"] ?? "";
      if (c.trap) {
        trap = `connection: ${c.trap}`;
        break;
      }
      if (!c.allowed && details === INVALID_CONFIG_DETAILS) invalid++;
      else if (c.allowed || /^rbac_access_denied_matched_policy\[/.test(details)) normal++;
      else violations.push(`unexpected connection outcome: ${c.closeDetails} ${details}`);
      continue;
    }
    const res = host.request(streamForRequest(r));
    if (res.trap) {
      trap = `request: ${res.trap}`;
      break;
    }
    if (!res.forwarded && res.details === INVALID_CONFIG_DETAILS) {
      invalid++;
      const status = res.localReply?.status;
      if (status !== 403) violations.push(`invalid-config denial with status ${status}`);
      if (res.filterState["meshauthz.result"] !== undefined && res.filterState["meshauthz.result"] !== "denied") {
        violations.push(`invalid-config denial recorded result ${res.filterState["meshauthz.result"]}`);
      }
    } else if (res.forwarded || /^rbac_access_denied_matched_policy\[/.test(res.details)) {
      normal++;
    } else {
      violations.push(`unexpected answer: status ${res.status} details ${res.details}`);
    }
  }
  if (trap) return { trap, failClosed: false, accepted: false, violations };
  const failClosed = invalid === PROBE_REQUESTS.length;
  const accepted = normal === PROBE_REQUESTS.length;
  if (!failClosed && !accepted && violations.length === 0) violations.push(`mixed answers: ${invalid} invalid-config, ${normal} normal`);
  if (failClosed) {
    const critical = host.logs.filter((l) => l.level >= LOG_CRITICAL);
    if (critical.length === 0) violations.push("rejected configuration without a critical log saying why");
    else if (critical.every((l) => l.message.trim() === "")) violations.push("critical log is empty");
  }
  return { trap, failClosed, accepted, violations };
}

export interface BlobStats {
  blobs: number;
  traps: number;
  fail_closed: number;
  accepted: number;
  crc_wrong: number;
  crc_wrong_rejected: number;
  crc_fixed: number;
  crc_fixed_rejected: number;
  crc_fixed_accepted: number;
  config_texts: number;
  violations: number;
  /** first problems with a reproducer (kind, seed index) */
  problems: Array<{ index: number; kind: string; problem: string }>;
}

export function newBlobStats(): BlobStats {
  return { blobs: 0, traps: 0, fail_closed: 0, accepted: 0, crc_wrong: 0, crc_wrong_rejected: 0, crc_fixed: 0, crc_fixed_rejected: 0, crc_fixed_accepted: 0, config_texts: 0, violations: 0, problems: [] };
}

/** Deterministic stream of hostile configurations: index i of seed s is always the same blob. */
export function hostileAt(seed: number, index: number, bases: Uint8Array[]): HostileBlob {
  const rng = new Rng((seed * 2654435761 + index * 40503 + 1) >>> 0);
  return hostileBlob(rng, rng.pick(bases));
}

export async function runBlobCampaign(wasm: Uint8Array, bases: Uint8Array[], n: number, seed: number, onProgress?: (s: BlobStats) => void): Promise<BlobStats> {
  const s = newBlobStats();
  for (let i = 0; i < n; i++) {
    const h = hostileAt(seed, i, bases);
    const o = await runConfig(wasm, h.config);
    s.blobs++;
    if (h.cls === "crc-wrong") s.crc_wrong++;
    else if (h.cls === "crc-fixed") s.crc_fixed++;
    else s.config_texts++;
    if (o.trap) s.traps++;
    if (o.failClosed) s.fail_closed++;
    if (o.accepted) s.accepted++;
    if (h.cls === "crc-wrong" && o.failClosed) s.crc_wrong_rejected++;
    if (h.cls === "crc-fixed" && o.failClosed) s.crc_fixed_rejected++;
    if (h.cls === "crc-fixed" && o.accepted) s.crc_fixed_accepted++;
    const problems = [...o.violations];
    if (o.trap) problems.push(`trap: ${o.trap}`);
    if (h.mustReject && !o.failClosed && !o.trap) problems.push(`${h.cls} configuration was not rejected`);
    if (problems.length > 0) {
      s.violations++;
      if (s.problems.length < 20) s.problems.push({ index: i, kind: h.kind, problem: problems.join("; ") });
    }
    if (onProgress && i % 1000 === 999) onProgress(s);
  }
  return s;
}
