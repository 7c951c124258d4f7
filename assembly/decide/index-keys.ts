// Index keys of a rule: a set of (slot, EXACT or PREFIX operand) leaves such that whenever the
// rule's root is TRUE (or UNKNOWN), one of those leaves is TRUE (or its slot unknown). Then a
// request need only evaluate rules that one of its attribute values selects through a key.
//   LEAF EXACT/PREFIX on a string attribute -> itself;
//   AND -> the keys of its cheapest keyable child (all children must hold);
//   OR  -> the union of its children's keys (one child must hold), if every child is keyable;
//   anything else (NOT, ANY, SUFFIX, PATTERN, CIDR, ...) -> not keyable.
// Keys are local leaves (decide/graph.ts), kept in one buffer; each local node's keys are a range
// of it (an AND shares its child's range, an OR appends the concatenation of its children's).
import { Tables } from "../decode/tables";
import { Attr, Kind, LEAF_LIST_ELEMENTS, LEAF_LIST_ONLY, Op } from "../decode/format";
import { U32Buf, setU32At, u32At, zalloc } from "../bytes/buf";
import { Graph } from "./graph";

/** A rule with more keys than this is treated as "always a candidate". */
export const MAX_KEYS: u32 = 64;

const UNSEEN: u32 = 0xffffffff;
const NO_KEYS: u32 = 0xfffffffe;

/** Leaves whose value can be hashed: EXACT/PREFIX on a string read as a whole. LIST_ELEMENTS
 *  leaves match element by element, so their whole value cannot be hashed. */
export function indexableLeaf(t: Tables, l: u32): bool {
  const k = t.leafKind(l);
  if (k != Kind.Exact && k != Kind.Prefix) return false;
  if ((t.leafFlags(l) & (LEAF_LIST_ELEMENTS | LEAF_LIST_ONLY)) != 0) return false;
  const a = t.leafAttr(l);
  return a == Attr.PeerPrincipal || a == Attr.Sni || (a >= Attr.Method && a <= Attr.DynamicMetadata);
}

/** Keys of local nodes, memoized per node: trees share subtrees (the encoder hash-conses them),
 *  and without the memo a hostile DAG would cost exponential time here. */
@unmanaged
export class KeyFinder {
  t: Tables;
  g: Graph;
  /** Local leaves, one range per keyable node. */
  keys: U32Buf = new U32Buf();
  /** Per local node (u32): first key, and number of keys (UNSEEN, or NO_KEYS when not keyable). */
  start: usize;
  count: usize;

  constructor(t: Tables, g: Graph) {
    this.t = t;
    this.g = g;
    this.start = zalloc(<usize>g.nodeCount << 2);
    this.count = heap.alloc(max<usize>(<usize>g.nodeCount << 2, 4));
    memory.fill(this.count, 0xff, <usize>g.nodeCount << 2); // UNSEEN
  }

  free(): void {
    this.keys.free();
    heap.free(this.start);
    heap.free(this.count);
    heap.free(changetype<usize>(this));
  }

  /** Computes node n's keys; true when it has some (range start[n], count[n] in keys). */
  keyable(n: u32): bool {
    if (u32At(this.count, n) == UNSEEN) this.compute(n);
    return u32At(this.count, n) != NO_KEYS;
  }

  /** How much a key costs a request: methods select little (a handful of values), attributes read
   *  through a property path (headers, claims, metadata) cost a host call that the fixed ones
   *  (path, host, method, principal, SNI) usually pay anyway, and a prefix selects less than an
   *  exact value (a one-byte prefix almost nothing). AND picks its cheapest child. */
  private cost(n: u32): u32 {
    const t = this.t;
    let c: u32 = 0;
    const s = u32At(this.start, n);
    const e = s + u32At(this.count, n);
    for (let i = s; i < e; i++) {
      const l = this.g.blobLeaf(this.keys.get(i));
      const a = t.leafAttr(l);
      let w: u32 = a == Attr.Method ? 8 : a >= Attr.Header ? 2 : 1;
      if (t.leafKind(l) == Kind.Prefix) w *= t.strLen(t.leafValue(l)) <= 1 ? 16 : 2;
      c += w;
    }
    return c;
  }

  private compute(n: u32): void {
    const g = this.g;
    const op = g.op(n);
    const first = g.argOf(n);
    let start: u32 = 0;
    let count = NO_KEYS;
    if (op == Op.Leaf) {
      if (indexableLeaf(this.t, g.blobLeaf(first))) {
        start = this.keys.len;
        this.keys.push(first);
        count = 1;
      }
    } else if (op == Op.And || op == Op.Or) {
      const end = first + g.count(n);
      if (op == Op.And) {
        let best: u32 = UNSEEN;
        let bestCost: u32 = u32.MAX_VALUE;
        for (let j = first; j < end; j++) {
          const c = g.kid(j);
          if (!this.keyable(c)) continue;
          const k = this.cost(c);
          if (k < bestCost) {
            best = c;
            bestCost = k;
          }
        }
        if (best != UNSEEN) {
          start = u32At(this.start, best);
          count = u32At(this.count, best);
        }
      } else {
        let total: u32 = 0;
        let all = true;
        for (let j = first; j < end && all; j++) {
          const c = g.kid(j);
          all = this.keyable(c) && (total += u32At(this.count, c)) <= MAX_KEYS;
        }
        if (all) {
          start = this.keys.len;
          for (let j = first; j < end; j++) {
            const c = g.kid(j);
            const s = u32At(this.start, c);
            const e = s + u32At(this.count, c);
            for (let i = s; i < e; i++) this.keys.push(this.keys.get(i));
          }
          count = total;
        }
      }
    }
    setU32At(this.start, n, start);
    setU32At(this.count, n, count);
  }
}
