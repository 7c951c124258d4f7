// Matcher trees in three-valued (Kleene) logic: FALSE, TRUE, UNKNOWN. UNKNOWN comes only from the
// untrusted direct source IP (blob-format §3.3) or a failed host read; each engine then decides how
// an UNKNOWN rule counts. AND/OR short-circuit in child order, so attributes behind a FALSE child
// are never read. Node results are memoized per request: rules share subtrees (the encoder
// hash-conses them), so a request evaluates each node at most once, which also bounds the cost of
// a hostile DAG to O(nodes + children). The memo is a generation stamp, never cleared per request.
// Trees are the workload's local graph (decide/graph.ts); leaf records are read in the blob.
// Depth is <= 32 (checked by decode/reach.ts), so the recursion is bounded.
import { Tables } from "../decode/tables";
import { Graph } from "./graph";
import { zalloc } from "../bytes/buf";
import { Kind, LEAF_IGNORE_CASE, LEAF_LIST_ELEMENTS, LEAF_LIST_ONLY, Op, isMetadataAttr } from "../decode/format";
import { ABSENT, PRESENT, RequestCache, UNKNOWN } from "../request/cache";
import { MdKind, listBegin, listKind, listNext, mdLen, mdPtr } from "../request/metadata";
import { matchNonEmpty } from "../match/string";
import { bytesEqualFold, sameBytes } from "../bytes/range";
import { matchPattern } from "../match/pattern";
import { matchCidr } from "../match/cidr";
import { matchPort } from "../match/port";

export const FALSE: u8 = 0;
export const TRUE: u8 = 1;
export const MAYBE: u8 = 2;

@unmanaged
export class Evaluator {
  t: Tables;
  g: Graph;
  cache: RequestCache;
  /** Per local node: generation of the memoized result (u32), and the result (u8). */
  memoGen: usize;
  memoVal: usize;
  gen: u32 = 0;
  /** Leaves evaluated this request (tests and benchmarks). */
  leafEvals: u32 = 0;

  constructor(t: Tables, g: Graph, cache: RequestCache) {
    this.t = t;
    this.g = g;
    this.cache = cache;
    this.memoGen = zalloc(<usize>g.nodeCount << 2);
    this.memoVal = zalloc(<usize>g.nodeCount);
  }

  free(): void {
    heap.free(this.memoGen);
    heap.free(this.memoVal);
    heap.free(changetype<usize>(this));
  }

  begin(): void {
    this.gen++;
    if (this.gen == 0) {
      // Wrapped after 2^32 requests: clear the stamps once.
      memory.fill(this.memoGen, 0, <usize>this.g.nodeCount << 2);
      this.gen = 1;
    }
    this.leafEvals = 0;
  }

  node(n: u32): u8 {
    const at = this.memoGen + (<usize>n << 2);
    if (load<u32>(at) == this.gen) return load<u8>(this.memoVal + <usize>n);
    const r = this.nodeUncached(n);
    store<u32>(at, this.gen);
    store<u8>(this.memoVal + <usize>n, r);
    return r;
  }

  nodeUncached(n: u32): u8 {
    const g = this.g;
    const op = g.op(n);
    const first = g.argOf(n);
    if (op == Op.Leaf) return this.leaf(first);
    if (op == Op.Any) return TRUE;
    if (op == Op.Not) {
      const r = this.node(g.kid(first));
      return r == MAYBE ? MAYBE : r ^ 1;
    }
    const end = first + g.count(n);
    if (op == Op.And) {
      let res = TRUE;
      for (let j = first; j < end; j++) {
        const r = this.node(g.kid(j));
        if (r == FALSE) return FALSE;
        if (r == MAYBE) res = MAYBE;
      }
      return res;
    }
    let res = FALSE;
    for (let j = first; j < end; j++) {
      const r = this.node(g.kid(j));
      if (r == TRUE) return TRUE;
      if (r == MAYBE) res = MAYBE;
    }
    return res;
  }

  /** Local leaf ll. */
  @inline leaf(ll: u32): u8 {
    this.leafEvals++;
    const t = this.t;
    const c = this.cache;
    const slot = c.slots.slotOf(ll);
    const l = this.g.blobLeaf(ll);
    const st = c.get(slot);
    if (st == ABSENT) return FALSE;
    if (st == UNKNOWN) return MAYBE;
    const p = c.ptrOf(slot);
    const n = <usize>c.lenOf(slot);
    const a = t.leafAttr(l);
    const kind = t.leafKind(l);
    if (kind == Kind.Cidr) {
      const v = t.leafValue(l);
      return matchCidr(p, n, t.strPtr(v), t.strLen(v), t.leafAux(l)) ? TRUE : FALSE;
    }
    if (kind == Kind.Port) return matchPort(<u32>n, t.leafAux(l)) ? TRUE : FALSE;
    if (isMetadataAttr(a)) {
      // Envoy's ValueMatcher on a typed Value (common/common/matchers.cc): a string matcher matches
      // string values only; a list matcher (one_of) a list with a matching element. Istio's claims,
      // audiences and presenter are OR(list one_of, string) = LIST_ELEMENTS; `[v]` metadata values
      // are the list matcher alone = LIST_ONLY; requestPrincipals' iss/sub are string matchers.
      const vt = c.typeOf(slot);
      const flags = t.leafFlags(l);
      if (vt == MdKind.String) return (flags & LEAF_LIST_ONLY) == 0 && this.text(l, kind, p, n) ? TRUE : FALSE;
      if (vt == MdKind.List && (flags & (LEAF_LIST_ELEMENTS | LEAF_LIST_ONLY)) != 0) return this.anyElement(l, kind, p, n);
      return FALSE; // null, number, bool, struct, and lists under a string matcher never match
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
        // The value's bytes that must equal the operand: all of them, its start or its end.
        const v = t.leafValue(l);
        const ol = t.strLen(v);
        if (kind == Kind.Exact ? n != ol : n < ol) return false;
        const at = kind == Kind.Suffix ? p + n - ol : p;
        const op = t.strPtr(v);
        return (t.leafFlags(l) & LEAF_IGNORE_CASE) != 0 ? bytesEqualFold(at, op, ol) : sameBytes(at, op, ol);
      }
      case Kind.Present:
        return true;
      case Kind.NonEmpty:
        return matchNonEmpty(p, n);
      case Kind.Pattern:
        return matchPattern(t, t.leafAux(l), p, n);
    }
    return false;
  }

  /** A list (ListValue message at p) matches if a string element does (Envoy ListMatcher one_of);
   *  a malformed element makes it UNKNOWN unless another element matches. */
  anyElement(l: u32, kind: u32, p: usize, n: usize): u8 {
    let res = FALSE;
    listBegin(p, n);
    while (listNext()) {
      const k = listKind();
      if (k == MdKind.Malformed) res = MAYBE;
      else if (k == MdKind.String && this.text(l, kind, mdPtr(), mdLen())) return TRUE;
    }
    return res;
  }
}
