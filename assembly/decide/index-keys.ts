// Index keys of a rule: a set of (slot, EXACT or PREFIX operand) leaves such that whenever the
// rule's root is TRUE (or UNKNOWN), one of those leaves is TRUE (or its slot unknown). Then a
// request need only evaluate rules that one of its attribute values selects through a key.
//   LEAF EXACT/PREFIX on a string attribute -> itself;
//   AND -> the keys of its cheapest keyable child (all children must hold);
//   OR  -> the union of its children's keys (one child must hold), if every child is keyable;
//   anything else (NOT, ANY, SUFFIX, PATTERN, CIDR, ...) -> not keyable.
import { Tables } from "../decode/tables";
import { Attr, Kind, LEAF_IGNORE_CASE, LEAF_LIST_ELEMENTS, Op } from "../decode/format";

/** A rule with more keys than this is treated as "always a candidate". */
export const MAX_KEYS: i32 = 64;

export class IndexKey {
  constructor(public leaf: u32, public prefix: bool, public fold: bool) {}
}

/** Leaves whose value can be hashed: EXACT/PREFIX on a string read as a whole. LIST_ELEMENTS
 *  leaves match element by element, so their whole value cannot be hashed. */
export function indexableLeaf(t: Tables, l: u32): bool {
  const k = t.leafKind(l);
  if (k != Kind.Exact && k != Kind.Prefix) return false;
  if ((t.leafFlags(l) & LEAF_LIST_ELEMENTS) != 0) return false;
  const a = t.leafAttr(l);
  return a == Attr.PeerPrincipal || a == Attr.Sni || (a >= Attr.Method && a <= Attr.Metadata);
}

/** How much a key costs a request: methods select little (a handful of values), attributes read
 *  through a property path (headers, claims, metadata) cost a host call that the fixed ones
 *  (path, host, method, principal, SNI) usually pay anyway, and a prefix selects less than an exact
 *  value (a one-byte prefix almost nothing). AND picks its cheapest child. */
function weight(t: Tables, k: IndexKey): i32 {
  const a = t.leafAttr(k.leaf);
  let w = a == Attr.Method ? 8 : a >= Attr.Header ? 2 : 1;
  // A prefix of 0 or 1 byte ("/") selects nearly everything.
  if (k.prefix) w *= t.strLen(t.leafValue(k.leaf)) <= 1 ? 16 : 2;
  return w;
}

function cost(t: Tables, keys: Array<IndexKey>): i32 {
  let c = 0;
  for (let i = 0; i < keys.length; i++) c += weight(t, unchecked(keys[i]));
  return c;
}

/** Keys of rule roots. Memoized per node: trees may share subtrees (the encoder hash-conses
 *  them), and without the memo a hostile DAG would cost exponential time here. */
export class KeyFinder {
  private memo: Map<u32, Array<IndexKey>> = new Map<u32, Array<IndexKey>>();
  /** Marks "not keyable" in the memo (a keyable node always has at least one key). */
  private none: Array<IndexKey> = new Array<IndexKey>();

  constructor(public t: Tables) {}

  /** Keys of node n, or null when n is not keyable. */
  keysOf(n: u32): Array<IndexKey> | null {
    if (this.memo.has(n)) {
      const m = this.memo.get(n);
      return m.length == 0 ? null : m;
    }
    const k = this.compute(n);
    this.memo.set(n, k === null ? this.none : k);
    return k;
  }

  private compute(n: u32): Array<IndexKey> | null {
    const t = this.t;
    const op = t.nodeOp(n);
    if (op == Op.Leaf) {
      const l = t.nodeArg(n);
      if (!indexableLeaf(t, l)) return null;
      const keys = new Array<IndexKey>();
      keys.push(new IndexKey(l, t.leafKind(l) == Kind.Prefix, (t.leafFlags(l) & LEAF_IGNORE_CASE) != 0));
      return keys;
    }
    const first = t.nodeArg(n);
    const end = first + t.nodeCountOf(n);
    if (op == Op.And) {
      let best: Array<IndexKey> | null = null;
      let bestCost = i32.MAX_VALUE;
      for (let j = first; j < end; j++) {
        const k = this.keysOf(t.child(j));
        if (k === null) continue;
        const c = cost(t, k);
        if (c < bestCost) {
          best = k;
          bestCost = c;
        }
      }
      return best;
    }
    if (op == Op.Or) {
      const all = new Array<IndexKey>();
      for (let j = first; j < end; j++) {
        const k = this.keysOf(t.child(j));
        if (k === null) return null;
        for (let i = 0; i < k.length; i++) all.push(unchecked(k[i]));
        if (all.length > MAX_KEYS) return null;
      }
      return all;
    }
    return null;
  }
}
