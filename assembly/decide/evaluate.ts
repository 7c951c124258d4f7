// Matcher trees in three-valued (Kleene) logic: FALSE, TRUE, UNKNOWN. UNKNOWN comes only from the
// untrusted direct source IP (blob-format §3.3) or a failed host read; each engine then decides how
// an UNKNOWN rule counts. AND/OR short-circuit in child order, so attributes behind a FALSE child
// are never read. Node results are memoized per request: rules share subtrees (the encoder
// hash-conses them), so a request evaluates each node at most once, which also bounds the cost of
// a hostile DAG to O(nodes + children). The memo is a generation stamp, never cleared per request.
// Depth is <= 32 (checked by the decoder), so the recursion is bounded.
import { Tables } from "../decode/tables";
import { Attr, Kind, LEAF_IGNORE_CASE, LEAF_LIST_ELEMENTS, Op } from "../decode/format";
import { ABSENT, PRESENT, RequestCache, UNKNOWN } from "../request/cache";
import { ValueType, classifyValue } from "../request/value-type";
import { matchExact, matchNonEmpty, matchPrefix, matchSuffix } from "../match/string";
import { matchPattern } from "../match/pattern";
import { matchCidr } from "../match/cidr";
import { matchPort } from "../match/port";

export const FALSE: u8 = 0;
export const TRUE: u8 = 1;
export const MAYBE: u8 = 2;

export class Evaluator {
  memoGen: StaticArray<u32>;
  memoVal: StaticArray<u8>;
  gen: u32 = 0;
  /** Leaves evaluated this request (tests and benchmarks). */
  leafEvals: u32 = 0;

  constructor(public t: Tables, public cache: RequestCache) {
    this.memoGen = new StaticArray<u32>(<i32>t.nodeCount);
    this.memoVal = new StaticArray<u8>(<i32>t.nodeCount);
  }

  begin(): void {
    this.gen++;
    if (this.gen == 0) {
      // Wrapped after 2^32 requests: clear the stamps once.
      for (let i = 0; i < this.memoGen.length; i++) unchecked((this.memoGen[i] = 0));
      this.gen = 1;
    }
    this.leafEvals = 0;
  }

  node(n: u32): u8 {
    if (unchecked(this.memoGen[n]) == this.gen) return unchecked(this.memoVal[n]);
    const r = this.nodeUncached(n);
    unchecked((this.memoGen[n] = this.gen));
    unchecked((this.memoVal[n] = r));
    return r;
  }

  nodeUncached(n: u32): u8 {
    const t = this.t;
    const op = t.nodeOp(n);
    if (op == Op.Leaf) return this.leaf(t.nodeArg(n));
    if (op == Op.Any) return TRUE;
    const first = t.nodeArg(n);
    if (op == Op.Not) {
      const r = this.node(t.child(first));
      return r == MAYBE ? MAYBE : r ^ 1;
    }
    const end = first + t.nodeCountOf(n);
    if (op == Op.And) {
      let res = TRUE;
      for (let j = first; j < end; j++) {
        const r = this.node(t.child(j));
        if (r == FALSE) return FALSE;
        if (r == MAYBE) res = MAYBE;
      }
      return res;
    }
    let res = FALSE;
    for (let j = first; j < end; j++) {
      const r = this.node(t.child(j));
      if (r == TRUE) return TRUE;
      if (r == MAYBE) res = MAYBE;
    }
    return res;
  }

  leaf(l: u32): u8 {
    this.leafEvals++;
    const t = this.t;
    const c = this.cache;
    const slot = unchecked(c.slots.leafSlot[l]);
    const st = c.get(slot);
    if (st == ABSENT) return FALSE;
    if (st == UNKNOWN) return MAYBE;
    const p = unchecked(c.ptr[slot]);
    const n = <usize>unchecked(c.len[slot]);
    const a = t.leafAttr(l);
    const kind = t.leafKind(l);
    if (kind == Kind.Cidr) {
      const v = t.leafValue(l);
      return matchCidr(p, n, t.strPtr(v), t.strLen(v), t.leafAux(l)) ? TRUE : FALSE;
    }
    if (kind == Kind.Port) return matchPort(<u32>n, t.leafAux(l)) ? TRUE : FALSE;
    if (a == Attr.JwtClaim || a == Attr.Metadata) {
      const vt = <u32>unchecked(c.vtype[slot]);
      if (vt == ValueType.String) return this.text(l, kind, p, n) ? TRUE : FALSE;
      if (vt == ValueType.List && (t.leafFlags(l) & LEAF_LIST_ELEMENTS) != 0) return this.anyElement(l, kind, p, n) ? TRUE : FALSE;
      return FALSE; // numbers, bools, objects, and lists without LIST_ELEMENTS never match
    }
    return this.text(l, kind, p, n) ? TRUE : FALSE;
  }

  /** A string kind against one string value. */
  text(l: u32, kind: u32, p: usize, n: usize): bool {
    const t = this.t;
    switch (kind) {
      case Kind.Exact:
      case Kind.Prefix:
      case Kind.Suffix: {
        const v = t.leafValue(l);
        const fold = (t.leafFlags(l) & LEAF_IGNORE_CASE) != 0;
        const op = t.strPtr(v);
        const ol = t.strLen(v);
        if (kind == Kind.Exact) return matchExact(p, n, op, ol, fold);
        if (kind == Kind.Prefix) return matchPrefix(p, n, op, ol, fold);
        return matchSuffix(p, n, op, ol, fold);
      }
      case Kind.Present:
        return true;
      case Kind.NonEmpty:
        return matchNonEmpty(n);
      case Kind.Pattern:
        return matchPattern(t, t.leafAux(l), p, n);
    }
    return false;
  }

  /** LIST_ELEMENTS: the list (pairs format, elements as keys) matches if a string element does. */
  anyElement(l: u32, kind: u32, p: usize, n: usize): bool {
    const count = <usize>load<u32>(p);
    let data = p + 4 + count * 8;
    for (let i: usize = 0; i < count; i++) {
      const kl = <usize>load<u32>(p + 4 + i * 8);
      const vl = <usize>load<u32>(p + 8 + i * 8);
      if (classifyValue(data, kl) == ValueType.String && this.text(l, kind, data, kl)) return true;
      data += kl + 1 + vl + 1;
    }
    return false;
  }
}
