// The indexed strategy of an engine. At configure time every rule gets index keys (index-keys.ts);
// each key is an operand hashed (FNV-1a, ASCII-folded for IGNORE_CASE) under a "probe": one
// (slot, fold) pair, with the set of PREFIX operand lengths used on it. Per request, a probe's
// value is read once and hashed in one pass: the running hash after L bytes is the hash of the
// L-byte prefix, so every prefix length and the exact value cost one table lookup each.
//
// Candidates are evaluated in ascending engine order, so the first match (the effective policy
// id) is the one a linear scan finds. Probes are sorted by the lowest rule position keyed on them
// and run lazily: before probing p, every pending candidate below p's lowest position is
// evaluated, so a request that matches early never reads the attributes of later probes.
// Hash collisions only add candidates and every candidate is evaluated in full, so the index can
// never change a decision; it only skips rules whose key leaf is certainly FALSE.
import { Tables } from "../decode/tables";
import { Kind, LEAF_IGNORE_CASE, isMetadataAttr } from "../decode/format";
import { ABSENT, PRESENT, RequestCache, UNKNOWN } from "../request/cache";
import { MdKind } from "../request/metadata";
import { Slots } from "../request/slots";
import { FNV_BASIS, fnvStep, mix } from "../bytes/hash";
import { lower } from "../bytes/range";
import { IntMap, NONE, U32Buf, setU32At, sortU64, u32At, zalloc } from "../bytes/buf";
import { Graph } from "./graph";
import { KeyFinder } from "./index-keys";

/** FNV-1a of h continued over n bytes at p, ASCII-lowercased when fold. */
// @ts-ignore: decorator
@inline function hashMore(h: u32, p: usize, n: u32, fold: bool): u32 {
  const end = p + <usize>n;
  if (fold) {
    for (let q = p; q < end; q++) h = fnvStep(h, lower(load<u8>(q)));
  } else {
    for (let q = p; q < end; q++) h = fnvStep(h, load<u8>(q));
  }
  return h;
}

@unmanaged
export class RuleIndex {
  // Probes: tag = probe * 2 (+1 for PREFIX keys). Arrays of u32 unless noted.
  probeCount: u32 = 0;
  probeSlot: usize = 0;
  /** Per probe (u8): ASCII-fold its value; some EXACT key. */
  probeFold: usize = 0;
  probeExact: usize = 0;
  /** Lowest engine position keyed on each probe (probes are numbered in that order). */
  probeMin: usize = 0;
  /** Sorted distinct PREFIX lengths of each probe: lens[lensStart[p] .. lensStart[p+1]). */
  lensStart: usize = 0;
  lens: usize = 0;
  /** Rules with a key on the probe, for when its value is UNKNOWN. */
  fallStart: usize = 0;
  fall: usize = 0;

  // Entries: one per distinct (tag, len, hash); postings are ascending engine positions.
  eTag: usize = 0;
  eLen: usize = 0;
  eHash: usize = 0;
  ePost: usize = 0;
  eCount: usize = 0;
  postings: usize = 0;
  /** Open-addressing table of entry index + 1. */
  table: usize = 0;
  mask: u32 = 0;

  /** Engine positions of rules without keys (always candidates), ascending. */
  always: usize = 0;
  alwaysCount: u32 = 0;
  /** Per-request candidate scratch: cand[head .. candCount) are pending, sorted. */
  cand: usize = 0;
  candCount: u32 = 0;
  head: u32 = 0;

  constructor(t: Tables, g: Graph, slots: Slots, finder: KeyFinder, roots: usize, n: u32) {
    // Probes are numbered as first seen; positions ascend, so that is the order of their lowest
    // keyed position (ties: the order of keys within the rule).
    const probeOf = new IntMap(16); // slot << 1 | fold -> probe
    const pSlot = new U32Buf();
    const pFlags = new U32Buf(); // fold | exact << 1
    const pMin = new U32Buf();
    const pLast = new U32Buf(); // last position added to the probe's fallback list
    const pFall = new U32Buf(); // fallback list size per probe
    const lensPairs = new U32Buf(); // probe, length (PREFIX keys)
    const fallPairs = new U32Buf(); // probe, position (ascending per probe)
    const recs = new U32Buf(); // tag, len, hash, position
    const always = new U32Buf();
    const keys = finder.keys;
    for (let pos: u32 = 0; pos < n; pos++) {
      const root = u32At(roots, pos);
      if (!finder.keyable(root)) {
        always.push(pos);
        continue;
      }
      const ks = u32At(finder.start, root);
      const ke = ks + u32At(finder.count, root);
      for (let i = ks; i < ke; i++) {
        const ll = keys.get(i);
        const l = g.blobLeaf(ll);
        const slot = slots.slotOf(ll);
        const fold: u32 = (t.leafFlags(l) & LEAF_IGNORE_CASE) != 0 ? 1 : 0;
        const prefix: u32 = t.leafKind(l) == Kind.Prefix ? 1 : 0;
        const pk = (slot << 1) | fold;
        let probe = probeOf.get(pk);
        if (probe == NONE) {
          probe = pSlot.len;
          probeOf.set(pk, probe);
          pSlot.push(slot);
          pFlags.push(fold);
          pMin.push(pos);
          pLast.push(NONE);
          pFall.push(0);
        }
        const v = t.leafValue(l);
        const len = <u32>t.strLen(v);
        if (prefix != 0) {
          lensPairs.push(probe);
          lensPairs.push(len);
        } else {
          pFlags.set(probe, pFlags.get(probe) | 2);
        }
        if (pLast.get(probe) != pos) {
          pLast.set(probe, pos);
          pFall.set(probe, pFall.get(probe) + 1);
          fallPairs.push(probe);
          fallPairs.push(pos);
        }
        recs.push((probe << 1) | prefix);
        recs.push(len);
        recs.push(hashMore(FNV_BASIS, t.strPtr(v), <u32>t.strLen(v), fold != 0));
        recs.push(pos);
      }
    }
    probeOf.free();
    const np = pSlot.len;
    this.probeCount = np;
    this.probeSlot = pSlot.take();
    this.probeMin = pMin.take();
    this.probeFold = zalloc(<usize>np);
    this.probeExact = zalloc(<usize>np);
    for (let p: u32 = 0; p < np; p++) {
      store<u8>(this.probeFold + <usize>p, <u8>(pFlags.get(p) & 1));
      store<u8>(this.probeExact + <usize>p, <u8>(pFlags.get(p) >> 1));
    }
    this.alwaysCount = always.len;
    this.always = always.take();

    // Prefix lengths: (probe, len) sorted, distinct.
    const nl = lensPairs.len >> 1;
    const lp = zalloc(<usize>nl << 3);
    for (let i: u32 = 0; i < nl; i++) store<u64>(lp + (<usize>i << 3), (<u64>lensPairs.get(2 * i) << 32) | <u64>lensPairs.get(2 * i + 1));
    sortU64(lp, nl);
    this.lensStart = zalloc((<usize>np + 1) << 2);
    const lens = new U32Buf();
    let prev: u64 = u64.MAX_VALUE;
    let pr: u32 = 0;
    for (let i: u32 = 0; i < nl; i++) {
      const x = load<u64>(lp + (<usize>i << 3));
      if (x == prev) continue;
      prev = x;
      const probe = <u32>(x >> 32);
      while (pr <= probe) setU32At(this.lensStart, pr++, lens.len);
      lens.push(<u32>x);
    }
    while (pr <= np) setU32At(this.lensStart, pr++, lens.len);
    heap.free(lp);
    this.lens = lens.take();

    // Fallback lists: sizes were counted per probe; starts, then filled in position order.
    this.fallStart = zalloc((<usize>np + 1) << 2);
    let total: u32 = 0;
    for (let p: u32 = 0; p < np; p++) {
      setU32At(this.fallStart, p, total);
      const size = pFall.get(p);
      pFall.set(p, total);
      total += size;
    }
    setU32At(this.fallStart, np, total);
    this.fall = zalloc(<usize>total << 2);
    for (let i: u32 = 0; i < fallPairs.len; i += 2) {
      const p = fallPairs.get(i);
      const at = pFall.get(p);
      setU32At(this.fall, at, fallPairs.get(i + 1));
      pFall.set(p, at + 1);
    }

    // Entries: one per distinct (tag, len, hash), found through the table while it is built;
    // postings counted, then filled in position order (duplicates of a position dropped).
    const nr = recs.len >> 2;
    let cap: u32 = 8;
    while (cap < nr * 2) cap <<= 1;
    this.table = zalloc(<usize>cap << 2);
    this.mask = cap - 1;
    const eTag = new U32Buf();
    const eLen = new U32Buf();
    const eHash = new U32Buf();
    const eCount = new U32Buf();
    const eLast = new U32Buf();
    const recEntry = new U32Buf();
    for (let i: u32 = 0; i < nr; i++) {
      const tag = recs.get(4 * i);
      const len = recs.get(4 * i + 1);
      const hash = recs.get(4 * i + 2);
      const pos = recs.get(4 * i + 3);
      let s = this.bucket(tag, len, hash);
      let e: u32 = NONE;
      let e1 = u32At(this.table, s);
      while (e1 != 0 && e == NONE) {
        if (eTag.get(e1 - 1) == tag && eLen.get(e1 - 1) == len && eHash.get(e1 - 1) == hash) e = e1 - 1;
        else {
          s = (s + 1) & this.mask;
          e1 = u32At(this.table, s);
        }
      }
      if (e == NONE) {
        e = eTag.len;
        eTag.push(tag);
        eLen.push(len);
        eHash.push(hash);
        eCount.push(0);
        eLast.push(NONE);
        setU32At(this.table, s, e + 1);
      }
      recEntry.push(e);
      if (eLast.get(e) != pos) {
        eLast.set(e, pos);
        eCount.set(e, eCount.get(e) + 1);
      }
    }
    const ne = eTag.len;
    this.ePost = zalloc(<usize>ne << 2);
    let posts: u32 = 0;
    for (let e: u32 = 0; e < ne; e++) {
      setU32At(this.ePost, e, posts);
      posts += eCount.get(e);
      eLast.set(e, NONE);
    }
    this.postings = zalloc(<usize>posts << 2);
    const fill = zalloc(<usize>ne << 2);
    for (let i: u32 = 0; i < nr; i++) {
      const e = recEntry.get(i);
      const pos = recs.get(4 * i + 3);
      if (eLast.get(e) == pos) continue;
      eLast.set(e, pos);
      const at = u32At(fill, e);
      setU32At(this.postings, u32At(this.ePost, e) + at, pos);
      setU32At(fill, e, at + 1);
    }
    heap.free(fill);
    this.eTag = eTag.take();
    this.eLen = eLen.take();
    this.eHash = eHash.take();
    this.eCount = eCount.take();
    // Worst case: every posting and every fallback list at once.
    this.cand = zalloc((<usize>posts + <usize>total + 1) << 2);

    pSlot.free();
    pFlags.free();
    pMin.free();
    pLast.free();
    pFall.free();
    lensPairs.free();
    fallPairs.free();
    recs.free();
    always.free();
    eTag.free();
    eLen.free();
    eHash.free();
    eCount.free();
    eLast.free();
    recEntry.free();
  }

  free(): void {
    heap.free(this.probeSlot);
    heap.free(this.probeFold);
    heap.free(this.probeExact);
    heap.free(this.probeMin);
    heap.free(this.lensStart);
    heap.free(this.lens);
    heap.free(this.fallStart);
    heap.free(this.fall);
    heap.free(this.eTag);
    heap.free(this.eLen);
    heap.free(this.eHash);
    heap.free(this.ePost);
    heap.free(this.eCount);
    heap.free(this.postings);
    heap.free(this.table);
    heap.free(this.always);
    heap.free(this.cand);
    heap.free(changetype<usize>(this));
  }

  @inline bucket(tag: u32, len: u32, hash: u32): u32 {
    return mix(hash ^ (tag * 0x9e3779b1) ^ (len * 0x85ebca77)) & this.mask;
  }

  /** Appends the postings of (tag, len, hash), if such an entry exists. */
  lookup(tag: u32, len: u32, hash: u32): void {
    let s = this.bucket(tag, len, hash);
    let e1 = u32At(this.table, s);
    while (e1 != 0) {
      const e = e1 - 1;
      if (u32At(this.eHash, e) == hash && u32At(this.eTag, e) == tag && u32At(this.eLen, e) == len) {
        this.append(this.postings + (<usize>u32At(this.ePost, e) << 2), u32At(this.eCount, e));
        return;
      }
      s = (s + 1) & this.mask;
      e1 = u32At(this.table, s);
    }
  }

  @inline append(from: usize, count: u32): void {
    memory.copy(this.cand + (<usize>this.candCount << 2), from, <usize>count << 2);
    this.candCount += count;
  }

  reset(): void {
    this.candCount = 0;
    this.head = 0;
  }

  /** Adds probe p's candidates for this request to the pending ones, keeping them sorted. */
  probe(p: u32, cache: RequestCache): void {
    const slot = u32At(this.probeSlot, p);
    const st = cache.get(slot);
    const before = this.candCount;
    if (st == ABSENT) return;
    // A metadata value that is not a string matches no key leaf (they are string matchers).
    if (st == PRESENT && isMetadataAttr(cache.slots.attrOf(slot)) && cache.typeOf(slot) != MdKind.String) return;
    if (st == UNKNOWN) {
      const fs = u32At(this.fallStart, p);
      this.append(this.fall + (<usize>fs << 2), u32At(this.fallStart, p + 1) - fs);
    } else {
      const v = cache.ptrOf(slot);
      const n = cache.lenOf(slot);
      const fold = load<u8>(this.probeFold + <usize>p) != 0;
      const exact = load<u8>(this.probeExact + <usize>p) != 0;
      const prefixTag = (p << 1) | 1;
      // The running hash after L bytes is the hash of the L-byte prefix: one pass for all lengths.
      let li = u32At(this.lensStart, p);
      const le = u32At(this.lensStart, p + 1);
      let h = FNV_BASIS;
      let i: u32 = 0;
      while (li < le && u32At(this.lens, li) <= n) {
        const l = u32At(this.lens, li);
        h = hashMore(h, v + i, l - i, fold);
        i = l;
        this.lookup(prefixTag, l, h);
        li++;
      }
      if (exact) {
        h = hashMore(h, v + i, n - i, fold);
        this.lookup(p << 1, n, h);
      }
    }
    if (this.candCount > before && this.candCount - this.head > 1) {
      sortU32(this.cand, this.head, this.candCount);
    }
  }

  /** Next pending candidate (duplicates skipped), or u32.MAX_VALUE. Does not consume it. */
  @inline peek(): u32 {
    return this.head < this.candCount ? u32At(this.cand, this.head) : u32.MAX_VALUE;
  }

  /** Consumes pending candidates equal to pos. */
  @inline skip(pos: u32): void {
    while (this.head < this.candCount && u32At(this.cand, this.head) == pos) this.head++;
  }
}

/** In-place sort of the u32 at a[from..to): insertion sort for short runs, heapsort otherwise
 *  (no recursion, O(n log n) worst case). */
export function sortU32(a: usize, from: u32, to: u32): void {
  const n = to - from;
  const base = a + (<usize>from << 2);
  if (n <= 24) {
    for (let i: u32 = 1; i < n; i++) {
      const x = u32At(base, i);
      let j = <i32>i - 1;
      while (j >= 0 && u32At(base, <u32>j) > x) {
        setU32At(base, <u32>j + 1, u32At(base, <u32>j));
        j--;
      }
      setU32At(base, <u32>(j + 1), x);
    }
    return;
  }
  for (let i = <i32>(n >> 1) - 1; i >= 0; i--) siftDown(base, <u32>i, n);
  for (let end = n - 1; end > 0; end--) {
    const x = u32At(base, 0);
    setU32At(base, 0, u32At(base, end));
    setU32At(base, end, x);
    siftDown(base, 0, end);
  }
}

function siftDown(a: usize, i: u32, n: u32): void {
  let done = false;
  while (!done) {
    let m = i;
    const l: u32 = 2 * i + 1;
    const r: u32 = l + 1;
    if (l < n && u32At(a, l) > u32At(a, m)) m = l;
    if (r < n && u32At(a, r) > u32At(a, m)) m = r;
    if (m == i) {
      done = true;
    } else {
      const x = u32At(a, i);
      setU32At(a, i, u32At(a, m));
      setU32At(a, m, x);
      i = m;
    }
  }
}
