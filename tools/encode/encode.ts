// CompiledMesh -> blob (docs/blob-format.md). Deterministic: the same input gives the same bytes.
// Identical leaves, patterns and subtrees are stored once (hash-consing), which keeps blobs for
// large meshes small: many policies share principals, methods and path prefixes.
import { crc32 } from "node:zlib";
import {
  type CompiledMesh,
  GapClass,
  type Leaf,
  type MatchNode,
  MatchKind,
  type PatternPiece,
} from "../compile/ir.ts";
import { ByteWriter } from "./byte-writer.ts";
import {
  ACTION_CODES,
  FORMAT_MAJOR,
  FORMAT_MINOR,
  HEADER_BYTES,
  LEAF_FLAG_IGNORE_CASE,
  LEAF_FLAG_LIST_ELEMENTS,
  LEAF_FLAG_LIST_ONLY,
  MAGIC,
  MAX_TREE_DEPTH,
  NodeOp,
  NONE,
  POLICY_FLAG_DRY_RUN,
  SectionTag,
} from "./format.ts";
import { encodeProviders } from "./providers.ts";
import { StringTable } from "./string-table.ts";

export class EncodeError extends Error {}

interface NodeRecord {
  op: NodeOp;
  count: number;
  arg: number;
}

class Tables {
  readonly strings = new StringTable();
  readonly nodes: NodeRecord[] = [];
  readonly children: number[] = [];
  readonly leaves: ByteWriter = new ByteWriter();
  leafCount = 0;
  readonly patterns: Array<{ first: number; count: number }> = [];
  readonly pieces: ByteWriter = new ByteWriter();
  pieceCount = 0;
  private readonly nodeIndex = new Map<string, number>();
  private readonly leafIndex = new Map<string, number>();
  private readonly patternIndex = new Map<string, number>();
  private readonly depth: number[] = [];

  str(v: string | Uint8Array | undefined): number {
    return v === undefined ? NONE : this.strings.intern(v);
  }

  pattern(pieces: PatternPiece[]): number {
    const key = JSON.stringify(pieces);
    let i = this.patternIndex.get(key);
    if (i !== undefined) return i;
    if (pieces.length === 0) throw new EncodeError("empty pattern");
    i = this.patterns.length;
    this.patterns.push({ first: this.pieceCount, count: pieces.length });
    for (const p of pieces) {
      if (p.kind === "literal") this.pieces.u8(0).u8(0).u8(0).u8(0).u32(this.str(p.text));
      else this.pieces.u8(1).u8(p.cls satisfies GapClass).u8(p.min).u8(0).u32(NONE);
      this.pieceCount++;
    }
    this.patternIndex.set(key, i);
    return i;
  }

  leaf(l: Leaf): number {
    let value = NONE;
    let aux = 0;
    switch (l.kind) {
      case MatchKind.Exact:
      case MatchKind.Prefix:
      case MatchKind.Suffix:
        value = this.str(l.value ?? "");
        break;
      case MatchKind.Pattern:
        aux = this.pattern(l.pattern ?? []);
        break;
      case MatchKind.Cidr:
        if (!l.cidr) throw new EncodeError("CIDR leaf without a range");
        value = this.str(l.cidr.address);
        aux = l.cidr.prefixLength;
        break;
      case MatchKind.Port:
        aux = l.port ?? 0;
        break;
    }
    const flags =
      (l.ignoreCase ? LEAF_FLAG_IGNORE_CASE : 0) |
      (l.listElements ? LEAF_FLAG_LIST_ELEMENTS : 0) |
      (l.listOnly ? LEAF_FLAG_LIST_ONLY : 0);
    const key = l.path ? this.str(encodePathSegments(l.path)) : this.str(l.key);
    const id = `${l.attribute}|${l.kind}|${flags}|${key}|${value}|${aux}`;
    let i = this.leafIndex.get(id);
    if (i !== undefined) return i;
    i = this.leafCount++;
    this.leaves.u8(l.attribute).u8(l.kind).u8(flags).u8(0).u32(key).u32(value).u32(aux);
    this.leafIndex.set(id, i);
    return i;
  }

  /** Post-order: children get smaller indices than their parents. */
  node(n: MatchNode): number {
    let rec: NodeRecord;
    let childIds: number[] = [];
    switch (n.op) {
      case "any":
        rec = { op: NodeOp.Any, count: 0, arg: 0 };
        break;
      case "leaf":
        rec = { op: NodeOp.Leaf, count: 0, arg: this.leaf(n.leaf) };
        break;
      case "not":
        childIds = [this.node(n.child)];
        rec = { op: NodeOp.Not, count: 1, arg: 0 };
        break;
      case "and":
      case "or":
        if (n.children.length === 0 || n.children.length > 0xffff) {
          throw new EncodeError(`${n.op} node with ${n.children.length} children`);
        }
        childIds = n.children.map((c) => this.node(c));
        rec = { op: n.op === "and" ? NodeOp.And : NodeOp.Or, count: childIds.length, arg: 0 };
        break;
    }
    const key = childIds.length === 0 ? `${rec.op}|${rec.arg}` : `${rec.op}|${childIds.join(",")}`;
    const existing = this.nodeIndex.get(key);
    if (existing !== undefined) return existing;
    if (childIds.length > 0) {
      rec.arg = this.children.length;
      this.children.push(...childIds);
    }
    let depth = 1;
    for (const c of childIds) depth = Math.max(depth, 1 + this.depth[c]);
    if (depth > MAX_TREE_DEPTH) throw new EncodeError(`matcher tree deeper than ${MAX_TREE_DEPTH}`);
    const i = this.nodes.length;
    this.nodes.push(rec);
    this.depth.push(depth);
    this.nodeIndex.set(key, i);
    return i;
  }
}

/** Rule ids sort by their UTF-8 bytes (the filter's binary search). For ids of ASCII characters
 *  that is UTF-16 code-unit order, so only non-ASCII ids pay for an encoding. */
function compareBytes(a: string, b: string): number {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(a) && /^[\x00-\x7f]*$/.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export interface BlobStats {
  strings: number;
  policies: number;
  labels: number;
  rules: number;
  nodes: number;
  children: number;
  leaves: number;
  patterns: number;
  pieces: number;
}

export function encodeBlob(mesh: CompiledMesh): Uint8Array {
  return encodeBlobWithStats(mesh).blob;
}

export function encodeBlobWithStats(mesh: CompiledMesh): { blob: Uint8Array; stats: BlobStats; ruleIds: string[] } {
  const t = new Tables();
  const policies = new ByteWriter();
  const labels = new ByteWriter();
  let labelCount = 0;
  const rules: Array<{ policy: number; index: number; id: string; root: number; tcpRoot: number }> = [];

  policies.u32(mesh.policies.length);
  mesh.policies.forEach((p, policyIndex) => {
    const first = labelCount;
    for (const [k, v] of p.selector) {
      labels.u32(t.str(k)).u32(t.str(v));
      labelCount++;
    }
    policies
      .u32(t.str(p.namespace))
      .u32(t.str(p.name))
      .u8(ACTION_CODES[p.action])
      .u8(p.dryRun ? POLICY_FLAG_DRY_RUN : 0)
      .u16(0)
      .u32(p.provider !== undefined ? t.str(p.provider) : NONE)
      .u32(first)
      .u32(p.selector.length);
    for (const r of p.rules) {
      // The filter derives the id from these three fields; the blob does not store it.
      if (r.id !== `ns[${p.namespace}]-policy[${p.name}]-rule[${r.index}]`) throw new EncodeError(`rule id ${r.id} is not derived from its policy and index`);
      rules.push({ policy: policyIndex, index: r.index, id: r.id, root: t.node(r.root), tcpRoot: r.tcpRoot === null ? NONE : t.node(r.tcpRoot) });
    }
  });
  policies.u32(labelCount).bytes(labels.finish());

  rules.sort((a, b) => compareBytes(a.id, b.id));
  for (let i = 1; i < rules.length; i++) {
    if (rules[i - 1].id === rules[i].id) throw new EncodeError(`duplicate rule id ${rules[i].id}`);
  }
  // id_str is NONE: the id is derived from the policy's namespace and name and the rule index
  // (docs/blob-format.md 2.4), so the blob does not carry ~45 bytes of it per rule.
  const ruleSection = new ByteWriter().u32(rules.length);
  for (const r of rules) ruleSection.u32(r.policy).u32(r.index).u32(NONE).u32(r.root);

  // 1.1: the TCP projection, one root per rule in RULES order (NONE: dropped on TCP chains).
  const tcpRules = new ByteWriter().u32(rules.length);
  for (const r of rules) tcpRules.u32(r.tcpRoot);

  const meta = new ByteWriter().u32(t.str(mesh.rootNamespace)).u32(t.str(mesh.generator));

  const nodes = new ByteWriter().u32(t.nodes.length);
  for (const n of t.nodes) nodes.u8(n.op).u8(0).u16(n.count).u32(n.arg);
  nodes.u32(t.children.length);
  for (const c of t.children) nodes.u32(c);

  const leaves = new ByteWriter().u32(t.leafCount).bytes(t.leaves.finish());

  const patterns = new ByteWriter().u32(t.patterns.length);
  for (const p of t.patterns) patterns.u32(p.first).u32(p.count);
  patterns.u32(t.pieceCount).bytes(t.pieces.finish());

  const providers = encodeProviders(mesh.providers ?? [], (v) => t.str(v));

  // STRINGS last to build (every section above interns), first to write.
  const entries = t.strings.entries;
  const strings = new ByteWriter().u32(entries.length);
  let offset = 0;
  strings.u32(0);
  for (const e of entries) strings.u32((offset += e.length));
  for (const e of entries) strings.bytes(e);

  const sections: Array<[SectionTag, Uint8Array]> = [
    [SectionTag.Strings, strings.finish()],
    [SectionTag.Meta, meta.finish()],
    [SectionTag.Policies, policies.finish()],
    [SectionTag.Rules, ruleSection.finish()],
    [SectionTag.Nodes, nodes.finish()],
    [SectionTag.Leaves, leaves.finish()],
    [SectionTag.Patterns, patterns.finish()],
    [SectionTag.TcpRules, tcpRules.finish()],
    [SectionTag.Providers, providers],
  ];

  const out = new ByteWriter();
  out.bytes(MAGIC).u16(FORMAT_MAJOR).u16(FORMAT_MINOR).u32(0).u32(0).u32(0).u32(sections.length);
  for (const [tag, payload] of sections) out.u32(tag).u32(payload.length).bytes(payload).padTo4();
  const blob = out.finish();
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  view.setUint32(8, blob.length, true);
  view.setUint32(12, crc32(blob.subarray(16)), true);
  if (blob.length < HEADER_BYTES) throw new EncodeError("blob shorter than its header");
  const stats: BlobStats = {
    strings: entries.length,
    policies: mesh.policies.length,
    labels: labelCount,
    rules: rules.length,
    nodes: t.nodes.length,
    children: t.children.length,
    leaves: t.leafCount,
    patterns: t.patterns.length,
    pieces: t.pieceCount,
  };
  return { blob, stats, ruleIds: rules.map((r) => r.id) };
}

/** A DYNAMIC_METADATA key: each segment as a u32 byte length (little-endian) and its UTF-8 bytes. */
export function encodePathSegments(path: string[]): Uint8Array {
  const utf8 = new TextEncoder();
  const parts = path.map((p) => utf8.encode(p));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const dv = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    dv.setUint32(at, p.length, true);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}
