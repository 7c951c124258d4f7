// The rules a workload uses, checked and compiled. decodeBlob checks what every sidecar reads (the
// header, the CRC over the whole blob, the POLICIES table); this checks, for each rule of an
// applicable policy, everything of docs/blob-format.md that the rule reaches: its id (derived
// from its policy, and in strictly ascending order after the rules checked before it), its root,
// every node, child, leaf, pattern, piece and string below it, the depth limit. Nothing is read by
// the filter before it is checked here; what no applicable rule reaches is covered by the CRC
// only, and never read.
//
// While checking, it copies the reached part of the graph into local arrays (nodes numbered in
// post-order, leaves in first-reach order): the per-workload tables, memo and slots are sized by
// what the workload uses, not by the mesh. Shared subtrees are visited once (memo by blob index),
// so a hostile DAG costs O(nodes + children); the recursion stops at the depth limit.
import { Tables } from "./tables";
import { DecodeError, Where } from "./errors";
import {
  Attr, GapClass, Kind, LEAF_BYTES, LEAF_IGNORE_CASE, LEAF_LIST_ELEMENTS, LEAF_LIST_ONLY, MAX_DEPTH, NODE_BYTES, NONE, Op,
  PIECE_BYTES, PieceKind, isHttpOnlyAttr, isIpAttr, isMetadataAttr, isStringAttr,
} from "./format";
import { ByteBuf, IntMap, U32Buf } from "../bytes/buf";
import { bytesCompare, bytesEqual, lower } from "../bytes/range";

/** Envoy RBAC's response code details for a denial: DETAILS_OPEN + id + "]". */
export const DETAILS_OPEN = "rbac_access_denied_matched_policy[";

/** rule() in the TCP projection: the rule is dropped on TCP chains (no root, no id recorded). */
export const DROPPED: u32 = 0xfffffffe;

@unmanaged
export class Reach {
  error: DecodeError = DecodeError.None;
  where: u32 = Where.Blob;
  at: u32 = 0;

  /** Local nodes: op | count << 8 | depth << 24, and arg (first local child, or local leaf). */
  head: U32Buf = new U32Buf();
  arg: U32Buf = new U32Buf();
  kids: U32Buf = new U32Buf();
  /** Blob leaf index of each local leaf. */
  leafBlob: U32Buf = new U32Buf();
  /** The details of each rule checked so far, back to back: rule k's are
   *  ids[idStart[k] .. idStart[k + 1] or ids.len), its id those minus DETAILS_OPEN and "]". */
  ids: ByteBuf = new ByteBuf();
  idStart: U32Buf = new U32Buf();

  private nodeMap: IntMap = new IntMap(64);
  private leafMap: IntMap = new IntMap(64);
  private patternSeen: IntMap = new IntMap(8);
  private stack: U32Buf = new U32Buf();
  /** Check and compile the TCP projection (TCP_RULES roots, no HTTP-only leaf) instead. */
  tcp: bool = false;

  constructor(public t: Tables) {}

  /** Releases the builders (what Graph took is gone from them) and this object. */
  free(): void {
    this.head.free();
    this.arg.free();
    this.kids.free();
    this.leafBlob.free();
    this.ids.free();
    this.idStart.free();
    this.nodeMap.free();
    this.leafMap.free();
    this.patternSeen.free();
    this.stack.free();
    heap.free(changetype<usize>(this));
  }

  private fail(e: DecodeError, where: u32, at: u32): u32 {
    if (this.error == DecodeError.None) {
      this.error = e;
      this.where = where;
      this.at = at;
    }
    return NONE;
  }

  /** Checks blob rule r (after the rules checked before) and compiles its tree; returns its local
   *  root node, or NONE after recording the error. */
  rule(r: u32): u32 {
    if (this.error != DecodeError.None) return NONE;
    const t = this.t;
    const root = this.tcp ? t.ruleTcpRoot(r) : t.ruleRoot(r);
    if (this.tcp && root == NONE) return DROPPED;
    const pol = t.rulePolicy(r); // checked by the decoder
    const ns = t.policyNamespace(pol);
    const name = t.policyName(pol);
    const ids = this.ids;
    const start = ids.len;
    ids.ascii(DETAILS_OPEN);
    ids.ascii("ns[");
    ids.bytes(t.strPtr(ns), t.strLen(ns));
    ids.ascii("]-policy[");
    ids.bytes(t.strPtr(name), t.strLen(name));
    ids.ascii("]-rule[");
    ids.decimal(t.ruleIndex(r));
    ids.ascii("]");
    ids.byte(93); // "]" closing the details
    const idPtr = ids.ptr + start + <usize>DETAILS_OPEN.length;
    const idLen = ids.len - start - <usize>DETAILS_OPEN.length - 1;
    const stored = t.ruleId(r);
    if (stored != NONE && t.strError(stored) != DecodeError.None) return this.fail(t.strError(stored), Where.Rule, r);
    if (root >= t.nodeCount) return this.fail(DecodeError.BadNodeIndex, Where.Rule, r);
    if (stored != NONE && !bytesEqual(t.strPtr(stored), t.strLen(stored), idPtr, idLen)) return this.fail(DecodeError.BadRuleId, Where.Rule, r);
    const k = this.idStart.len;
    if (k > 0) {
      const prev = <usize>this.idStart.get(k - 1) + <usize>DETAILS_OPEN.length;
      if (bytesCompare(ids.ptr + prev, start - prev - 1, idPtr, idLen) >= 0) return this.fail(DecodeError.RuleOrder, Where.Rule, r);
    }
    const local = this.visit(root, 1);
    if (local != NONE) this.idStart.push(<u32>start);
    return local;
  }

  private add(op: u32, count: u32, arg: u32, depth: u32): u32 {
    const i = this.head.len;
    this.head.push(op | (count << 8) | (depth << 24));
    this.arg.push(arg);
    return i;
  }

  /** Blob node g at `level` (a root is 1) -> local node, or NONE. */
  private visit(g: u32, level: u32): u32 {
    const known = this.nodeMap.get(g);
    if (known != NONE) {
      // Already checked; its depth below this level must still fit.
      if (level + (this.head.get(known) >>> 24) - 1 > MAX_DEPTH) return this.fail(DecodeError.TooDeep, Where.Node, g);
      return known;
    }
    if (level > MAX_DEPTH) return this.fail(DecodeError.TooDeep, Where.Node, g);
    const t = this.t;
    const rec = t.nodes + <usize>g * NODE_BYTES;
    const op = <u32>load<u8>(rec);
    const n = <u32>load<u16>(rec, 2);
    const arg = load<u32>(rec, 4);
    if (load<u8>(rec, 1) != 0) return this.fail(DecodeError.BadNode, Where.Node, g);
    let local: u32;
    if (op == Op.Any) {
      if (n != 0 || arg != 0) return this.fail(DecodeError.BadNode, Where.Node, g);
      local = this.add(op, 0, 0, 1);
    } else if (op == Op.Leaf) {
      if (n != 0) return this.fail(DecodeError.BadNode, Where.Node, g);
      if (arg >= t.leafCount) return this.fail(DecodeError.BadLeafIndex, Where.Node, g);
      const l = this.leaf(arg);
      if (l == NONE) return NONE;
      local = this.add(op, 0, l, 1);
    } else if (op == Op.Not || op == Op.And || op == Op.Or) {
      if (op == Op.Not ? n != 1 : n == 0) return this.fail(DecodeError.BadNode, Where.Node, g);
      if (<u64>arg + <u64>n > <u64>t.childCount) return this.fail(DecodeError.BadChild, Where.Node, g);
      const base = this.stack.len;
      let depth: u32 = 0;
      for (let j = arg; j < arg + n; j++) {
        const c = t.child(j);
        if (c >= g) return this.fail(DecodeError.BadChild, Where.Node, g);
        const lc = this.visit(c, level + 1);
        if (lc == NONE) return NONE;
        this.stack.push(lc);
        const d = this.head.get(lc) >>> 24;
        if (d > depth) depth = d;
      }
      const first = this.kids.len;
      for (let k = base; k < this.stack.len; k++) this.kids.push(this.stack.get(k));
      this.stack.len = base;
      local = this.add(op, n, first, depth + 1);
    } else {
      return this.fail(DecodeError.BadNode, Where.Node, g);
    }
    this.nodeMap.set(g, local);
    return local;
  }

  /** Blob leaf g -> local leaf, or NONE. */
  private leaf(g: u32): u32 {
    const known = this.leafMap.get(g);
    if (known != NONE) return known;
    const t = this.t;
    const rec = t.leaves + <usize>g * LEAF_BYTES;
    const a = <u32>load<u8>(rec);
    const k = <u32>load<u8>(rec, 1);
    const flags = <u32>load<u8>(rec, 2);
    const key = load<u32>(rec, 4);
    const value = load<u32>(rec, 8);
    const aux = load<u32>(rec, 12);
    if (a < Attr.PeerPrincipal || a > Attr.DynamicMetadata || k < Kind.Exact || k > Kind.Port) return this.fail(DecodeError.BadLeaf, Where.Leaf, g);
    // A connection has no HTTP request: a TCP projection reaching such a leaf is malformed.
    if (this.tcp && isHttpOnlyAttr(a)) return this.fail(DecodeError.BadLeaf, Where.Leaf, g);
    const fits = isStringAttr(a) ? k <= Kind.Pattern : isIpAttr(a) ? k == Kind.Cidr : k == Kind.Port;
    const listFlags = flags & (LEAF_LIST_ELEMENTS | LEAF_LIST_ONLY);
    const allFlags: u32 = LEAF_IGNORE_CASE | LEAF_LIST_ELEMENTS | LEAF_LIST_ONLY;
    const badList = listFlags != 0 && (!isMetadataAttr(a) || listFlags == (LEAF_LIST_ELEMENTS | LEAF_LIST_ONLY));
    if (!fits || (flags & ~allFlags) != 0 || badList || load<u8>(rec, 3) != 0) {
      return this.fail(DecodeError.BadLeaf, Where.Leaf, g);
    }
    if (a == Attr.Header || isMetadataAttr(a)) {
      if (t.strError(key) != DecodeError.None) return this.fail(t.strError(key), Where.Leaf, g);
      if (!keyShape(a, t.strPtr(key), t.strLen(key))) return this.fail(DecodeError.BadLeafOperand, Where.Leaf, g);
    } else if (key != NONE) {
      return this.fail(DecodeError.BadStringIndex, Where.Leaf, g);
    }
    if (k == Kind.Exact || k == Kind.Prefix || k == Kind.Suffix || k == Kind.Cidr) {
      if (t.strError(value) != DecodeError.None) return this.fail(t.strError(value), Where.Leaf, g);
    } else if (value != NONE) {
      return this.fail(DecodeError.BadStringIndex, Where.Leaf, g);
    }
    if (k == Kind.Pattern) {
      if (aux >= t.patternCount) return this.fail(DecodeError.BadPatternIndex, Where.Leaf, g);
      if (!this.pattern(aux)) return NONE;
    } else if (k == Kind.Cidr) {
      const n = t.strLen(value);
      const bits: u32 = n == 4 ? 32 : n == 16 ? 128 : 0;
      if (bits == 0 || aux > bits || !hostBitsZero(t.strPtr(value), n, aux)) return this.fail(DecodeError.BadLeafOperand, Where.Leaf, g);
    } else if (k == Kind.Port ? aux > 65535 : aux != 0) {
      return this.fail(DecodeError.BadLeafOperand, Where.Leaf, g);
    }
    const local = this.leafBlob.len;
    this.leafBlob.push(g);
    this.leafMap.set(g, local);
    return local;
  }

  /** Pattern i (< patternCount) and its pieces. */
  private pattern(i: u32): bool {
    if (this.patternSeen.get(i) != NONE) return true;
    const t = this.t;
    const first = t.patternFirst(i);
    const n = t.patternPieces(i);
    if (n == 0 || <u64>first + <u64>n > <u64>t.pieceCount) {
      this.fail(DecodeError.BadPattern, Where.Pattern, i);
      return false;
    }
    for (let j = first; j < first + n; j++) {
      const rec = t.pieces + <usize>j * PIECE_BYTES;
      const kind = <u32>load<u8>(rec);
      const cls = <u32>load<u8>(rec, 1);
      const min = <u32>load<u8>(rec, 2);
      const s = load<u32>(rec, 4);
      let bad = load<u8>(rec, 3) != 0;
      if (kind == PieceKind.Literal) {
        if (!bad && (cls != 0 || min != 0)) bad = true;
        else if (!bad && t.strError(s) != DecodeError.None) {
          this.fail(t.strError(s), Where.Piece, j);
          return false;
        }
      } else {
        bad = bad || kind != PieceKind.Gap || cls > GapClass.PcharOrSlash || min > 1 || s != NONE;
      }
      if (bad) {
        this.fail(DecodeError.BadPiece, Where.Piece, j);
        return false;
      }
    }
    this.patternSeen.set(i, 1);
    return true;
  }
}

function hostBitsZero(p: usize, n: usize, prefix: u32): bool {
  for (let i: usize = 0; i < n; i++) {
    const bitStart = <u32>(i << 3);
    if (bitStart + 8 <= prefix) continue;
    const mask: u32 = bitStart >= prefix ? 0xff : 0xff >> (prefix - bitStart);
    if ((<u32>load<u8>(p + i) & mask) != 0) return false;
  }
  return true;
}

/** Header names are lower-case and non-empty; claim and metadata paths (1.0) are NUL-separated
 *  non-empty segments (metadata: a filter name and at least one key); a DYNAMIC_METADATA path
 *  (1.2) is length-prefixed segments that fill the string exactly: a non-empty filter name and at
 *  least one key (keys may be empty or hold any byte, NUL included, as in Istio). */
function keyShape(a: u32, p: usize, n: usize): bool {
  if (a == Attr.DynamicMetadata) {
    let i: usize = 0;
    let segments = 0;
    while (i < n) {
      if (n - i < 4) return false;
      const len = <usize>load<u32>(p + i);
      if (len > n - i - 4) return false;
      if (segments == 0 && len == 0) return false;
      i += 4 + len;
      segments++;
    }
    return segments >= 2;
  }
  if (n == 0) return false;
  if (a == Attr.Header) {
    for (let i: usize = 0; i < n; i++) {
      const c = <u32>load<u8>(p + i);
      if (c == 0 || lower(c) != c) return false;
    }
    return true;
  }
  let segments = 1;
  let segLen: usize = 0;
  for (let i: usize = 0; i < n; i++) {
    if (load<u8>(p + i) == 0) {
      if (segLen == 0) return false;
      segments++;
      segLen = 0;
    } else {
      segLen++;
    }
  }
  if (segLen == 0) return false;
  return a == Attr.Metadata ? segments >= 2 : true;
}
