// A tiny, test-only writer of format-1.0 blobs (docs/blob-format.md), independent of tools/encode, for
// hand-crafted structural attacks: deep or cyclic matcher trees, out-of-range indices, huge fan-out.
// It writes exactly what it is given, valid or not; the header (length, CRC) is always made consistent.
import { fixHeader } from "./hostile-blobs.ts";

export interface CraftNode {
  op: number; // 1 ANY, 2 AND, 3 OR, 4 NOT, 5 LEAF
  count: number;
  arg: number;
}

export interface Craft {
  strings: string[];
  /** one DENY (action 1) or ALLOW (0) policy in namespace strings[0], name strings[1] */
  action: number;
  /** rule id string index and root node index */
  rules: Array<{ id: number; root: number }>;
  nodes: CraftNode[];
  children: number[];
  /** leaves: attribute, kind, flags, key, value, aux */
  leaves: Array<[number, number, number, number, number, number]>;
}

const NONE = 0xffffffff;

class W {
  bytes: number[] = [];
  u8(v: number) {
    this.bytes.push(v & 0xff);
  }
  u16(v: number) {
    this.u8(v);
    this.u8(v >>> 8);
  }
  u32(v: number) {
    for (let i = 0; i < 4; i++) this.u8(v >>> (8 * i));
  }
  raw(b: Uint8Array) {
    for (const x of b) this.bytes.push(x);
  }
}

export function craftBlob(c: Craft): Uint8Array {
  const enc = new TextEncoder();
  const sections: Array<[number, W]> = [];
  const strs = new W();
  const pool = c.strings.map((s) => enc.encode(s));
  strs.u32(pool.length);
  let off = 0;
  strs.u32(0);
  for (const p of pool) strs.u32((off += p.length));
  for (const p of pool) strs.raw(p);
  sections.push([1, strs]);
  const meta = new W();
  meta.u32(2); // root namespace: strings[2]
  meta.u32(3); // generator: strings[3]
  sections.push([2, meta]);
  const pol = new W();
  pol.u32(1);
  pol.u32(0);
  pol.u32(1);
  pol.u8(c.action);
  pol.u8(0);
  pol.u16(0);
  pol.u32(NONE);
  pol.u32(0);
  pol.u32(0);
  pol.u32(0); // label_count_total
  sections.push([3, pol]);
  const rules = new W();
  rules.u32(c.rules.length);
  c.rules.forEach((r, i) => {
    rules.u32(0);
    rules.u32(i);
    rules.u32(r.id);
    rules.u32(r.root);
  });
  sections.push([4, rules]);
  const nodes = new W();
  nodes.u32(c.nodes.length);
  for (const n of c.nodes) {
    nodes.u8(n.op);
    nodes.u8(0);
    nodes.u16(n.count);
    nodes.u32(n.arg);
  }
  nodes.u32(c.children.length);
  for (const ch of c.children) nodes.u32(ch);
  sections.push([5, nodes]);
  const leaves = new W();
  leaves.u32(c.leaves.length);
  for (const [a, k, f, key, v, aux] of c.leaves) {
    leaves.u8(a);
    leaves.u8(k);
    leaves.u8(f);
    leaves.u8(0);
    leaves.u32(key);
    leaves.u32(v);
    leaves.u32(aux);
  }
  sections.push([6, leaves]);
  const pats = new W();
  pats.u32(0);
  pats.u32(0);
  sections.push([7, pats]);

  const out = new W();
  out.raw(Uint8Array.from([0x4d, 0x41, 0x5a, 0x42]));
  out.u16(1);
  out.u16(0);
  out.u32(0); // total length: fixed below
  out.u32(0); // crc: fixed below
  out.u32(0); // flags
  out.u32(7);
  for (const [tag, w] of sections) {
    out.u32(tag);
    out.u32(w.bytes.length);
    for (const b of w.bytes) out.u8(b);
    while (out.bytes.length % 4 !== 0) out.u8(0);
  }
  return fixHeader(Uint8Array.from(out.bytes));
}

/** strings: 0 ns "default", 1 name "p", 2 root ns, 3 generator, 4 the rule id, 5 "GET" */
export const STRINGS = ["default", "p", "istio-system", "meshauthz crafted", "ns[default]-policy[p]-rule[0]", "GET"];
/** METHOD (7) EXACT (1) "GET" */
export const GET_LEAF: [number, number, number, number, number, number] = [7, 1, 0, NONE, 5, 0];

/** A chain of NOTs over the GET leaf: depth `depth` (the leaf is depth 1). */
export function notChain(depth: number, action = 1): Craft {
  const nodes: CraftNode[] = [{ op: 5, count: 0, arg: 0 }];
  const children: number[] = [];
  for (let i = 1; i < depth; i++) {
    children.push(i - 1);
    nodes.push({ op: 4, count: 1, arg: i - 1 });
  }
  return { strings: STRINGS, action, rules: [{ id: 4, root: depth - 1 }], nodes, children, leaves: [GET_LEAF] };
}
