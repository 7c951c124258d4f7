// The shared blob test vectors (docs/blob-format.md): valid blobs made by the encoder from
// tests/vectors/sources/*.yaml, and hostile variants with the decoder error each must produce.
// `npm run vectors` writes them; tests/encode checks the committed files are what the encoder
// makes today, and the AssemblyScript decoder tests read the same files.
import { readdirSync, readFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import * as yaml from "js-yaml";
import { compilePolicies } from "../../tools/compile/compile.ts";
import { encodeBlobWithStats } from "../../tools/encode/encode.ts";
import { FORMAT_MINOR, SectionTag } from "../../tools/encode/format.ts";
import type { AuthorizationPolicy } from "../../tools/model/policy.ts";
import { DEFAULT_MESH } from "../../tools/model/policy.ts";
import { isMeshConfigDocument, meshConfigOf, providersOf } from "../../tools/meshconfig/source.ts";

export const SOURCES = new URL("./sources/", import.meta.url);
export const VECTORS = new URL("./", import.meta.url);

export interface Vector {
  name: string;
  blob: Uint8Array;
  /** What a correct decoder reports: the decoded contents, or the error it must fail with. */
  expect: Record<string, unknown>;
}

function validVectors(): Vector[] {
  const out: Vector[] = [];
  for (const file of readdirSync(SOURCES).filter((f) => f.endsWith(".yaml")).sort()) {
    const all = yaml.loadAll(readFileSync(new URL(file, SOURCES), "utf8"));
    // A mesh config document (the istio ConfigMap) defines the ext_authz providers (format 1.3).
    const meshDoc = all.find(isMeshConfigDocument);
    const docs = all.filter((d) => !isMeshConfigDocument(d)) as AuthorizationPolicy[];
    const settings = meshDoc ? { ...DEFAULT_MESH, extensionProviders: providersOf(meshConfigOf(meshDoc, file)) } : DEFAULT_MESH;
    const { mesh, diagnostics } = compilePolicies(docs.map((policy) => ({ policy })), settings);
    if (diagnostics.length) throw new Error(`${file}: ${diagnostics.map((d) => d.message).join("; ")}`);
    const { blob, stats, ruleIds } = encodeBlobWithStats(mesh);
    out.push({
      name: file.replace(/\.yaml$/, ""),
      blob,
      expect: {
        ok: true,
        length: blob.length,
        root_namespace: mesh.rootNamespace,
        counts: stats,
        policies: mesh.policies.map((p) => ({
          namespace: p.namespace,
          name: p.name,
          action: p.action,
          dry_run: p.dryRun,
          provider: p.provider ?? null,
          selector: p.selector,
        })),
        rule_ids: ruleIds,
        // Format 1.1: the rules a TCP filter chain leaves out (ALLOW rules with HTTP-only fields).
        tcp_dropped: tcpDropped(mesh, ruleIds),
        // Format 1.3: the mesh config's ext_authz providers.
        providers: (mesh.providers ?? []).map((p) => ({ name: p.name, kind: p.kind, cluster: p.cluster, timeout_ms: p.timeoutMs })),
      },
    });
  }
  return out;
}

function tcpDropped(mesh: ReturnType<typeof compilePolicies>["mesh"], ruleIds: string[]): string[] {
  const dropped = new Set(mesh.policies.flatMap((p) => p.rules.filter((r) => r.tcpRoot === null).map((r) => r.id)));
  return ruleIds.filter((id) => dropped.has(id));
}

/** A format 1.0 blob: the 1.1 blob without its TCP_RULES section (decoders still accept 1.0). */
function withoutTcp(blob: Uint8Array): Uint8Array {
  const s = sections(blob);
  const tcp = s.get(SectionTag.TcpRules)!;
  const b = blob.slice(0, tcp.offset - 8);
  const v = new DataView(b.buffer);
  v.setUint16(6, 0, true);
  v.setUint32(8, b.length, true);
  v.setUint32(20, 7, true);
  v.setUint32(12, crc32(b.subarray(16)), true);
  return b;
}

/** Byte offsets of each section's payload, for surgery on valid blobs. */
function sections(blob: Uint8Array): Map<SectionTag, { offset: number; length: number }> {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const out = new Map<SectionTag, { offset: number; length: number }>();
  let at = 24;
  for (let i = 0; i < view.getUint32(20, true); i++) {
    const tag = view.getUint32(at, true);
    const length = view.getUint32(at + 4, true);
    out.set(tag, { offset: at + 8, length });
    at += 8 + length + ((4 - (length % 4)) % 4);
  }
  return out;
}

function mutate(base: Uint8Array, edit: (b: Uint8Array, v: DataView) => void, fixChecksum = true): Uint8Array {
  const b = base.slice();
  const v = new DataView(b.buffer);
  edit(b, v);
  if (fixChecksum) v.setUint32(12, crc32(b.subarray(16)), true);
  return b;
}

function hostileVectors(seed: Uint8Array, withProviders: Uint8Array): Vector[] {
  const prov = sections(withProviders).get(SectionTag.Providers)!;
  const s = sections(seed);
  const rules = s.get(SectionTag.Rules)!;
  const tcp = s.get(SectionTag.TcpRules)!;
  const nodes = s.get(SectionTag.Nodes)!;
  const err = (error: string) => ({ ok: false, error });
  return [
    { name: "bad-empty", blob: new Uint8Array(0), expect: err("truncated") },
    { name: "bad-truncated", blob: seed.slice(0, seed.length - 8), expect: err("length") },
    { name: "bad-magic", blob: mutate(seed, (b) => (b[0] = 0x58)), expect: err("magic") },
    { name: "bad-major", blob: mutate(seed, (_, v) => v.setUint16(4, 2, true)), expect: err("version") },
    { name: "bad-minor", blob: mutate(seed, (_, v) => v.setUint16(6, FORMAT_MINOR + 1, true)), expect: err("version") },
    { name: "bad-length", blob: mutate(seed, (_, v) => v.setUint32(8, seed.length + 4, true)), expect: err("length") },
    { name: "bad-checksum", blob: mutate(seed, (b) => (b[b.length - 1] ^= 0x01), false), expect: err("checksum") },
    { name: "bad-flags", blob: mutate(seed, (_, v) => v.setUint32(16, 1, true)), expect: err("flags") },
    {
      name: "bad-rule-node-index",
      blob: mutate(seed, (_, v) => v.setUint32(rules.offset + 4 + 12, 0xffff, true)),
      expect: err("index"),
    },
    {
      // Swap the two rules: ids no longer ascending.
      name: "bad-rule-order",
      blob: mutate(seed, (b) => {
        const a = b.slice(rules.offset + 4, rules.offset + 20);
        b.copyWithin(rules.offset + 4, rules.offset + 20, rules.offset + 36);
        b.set(a, rules.offset + 20);
      }),
      expect: err("order"),
    },
    {
      // Make node 0 an AND whose child is node 0 itself: a cycle, child not before parent.
      name: "bad-node-cycle",
      blob: mutate(seed, (_, v) => {
        const count = v.getUint32(nodes.offset, true);
        const childStart = nodes.offset + 4 + count * 8 + 4;
        v.setUint8(nodes.offset + 4, 2);
        v.setUint16(nodes.offset + 6, 1, true);
        v.setUint32(nodes.offset + 8, 0, true);
        const childCount = v.getUint32(childStart - 4, true);
        if (childCount > 0) v.setUint32(childStart, 0, true);
      }),
      expect: err("structure"),
    },
    {
      // 1.1: a TCP root out of range.
      name: "bad-tcp-node-index",
      blob: mutate(seed, (_, v) => v.setUint32(tcp.offset + 4, 0xffff, true)),
      expect: err("index"),
    },
    {
      // 1.1: a TCP_RULES count other than the rule count.
      name: "bad-tcp-count",
      blob: mutate(seed, (_, v) => v.setUint32(tcp.offset, v.getUint32(tcp.offset, true) + 1, true)),
      expect: err("section"),
    },
    {
      // 1.1 with 7 sections: TCP_RULES missing.
      name: "bad-tcp-missing",
      blob: mutate(withoutTcp(seed), (_, v) => v.setUint16(6, 1, true)),
      expect: err("section"),
    },
    {
      // A provider whose items run past item_count (format 1.3 PROVIDERS).
      name: "bad-provider-items",
      blob: mutate(withProviders, (_, v) => v.setUint32(prov.offset + 4 + 24, 0xfff0, true)),
      expect: err("index"),
    },
    {
      name: "bad-section-tag",
      blob: mutate(seed, (_, v) => v.setUint32(24, 9, true)),
      expect: err("section"),
    },
  ];
}

export function buildVectors(): Vector[] {
  const valid = validVectors();
  const seed = valid.find((v) => v.name === "seed")!;
  // A format 1.0 blob still decodes (HTTP only); its expectations are the seed's without TCP.
  const compat = withoutTcp(seed.blob);
  const compatExpect = { ...seed.expect, length: compat.length, tcp_dropped: null };
  const allKinds = valid.find((v) => v.name === "all-kinds")!;
  return [...valid, { name: "compat-1-0", blob: compat, expect: { ...compatExpect, providers: [] } }, ...hostileVectors(seed.blob, allKinds.blob)];
}
