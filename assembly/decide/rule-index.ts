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
import { ABSENT, PRESENT, RequestCache, UNKNOWN } from "../request/cache";
import { Slots } from "../request/slots";
import { FNV_BASIS, fnvStep, mix } from "../bytes/hash";
import { lower } from "../bytes/range";
import { IndexKey, KeyFinder } from "./index-keys";

// The probe rule lists the probe-order comparator reads (AssemblyScript has no closures).
let sortRules: Array<Array<u32>> = new Array<Array<u32>>();

class KeyRecord {
  constructor(public tag: u32, public len: u32, public hash: u32, public pos: u32) {}
}

function hashOperand(p: usize, n: usize, fold: bool): u32 {
  let h = FNV_BASIS;
  for (let i: usize = 0; i < n; i++) {
    const b = <u32>load<u8>(p + i);
    h = fnvStep(h, fold ? lower(b) : b);
  }
  return h;
}

export class RuleIndex {
  // Probes: tag = probe * 2 (+1 for PREFIX keys).
  probeSlot: StaticArray<u32>;
  probeFold: StaticArray<bool>;
  probeExact: StaticArray<bool>;
  /** Lowest engine position keyed on each probe (probes are sorted by it). */
  probeMin: StaticArray<u32>;
  /** Sorted distinct PREFIX lengths of each probe: lens[lensStart[p] .. lensStart[p+1]). */
  lensStart!: StaticArray<u32>;
  lens!: StaticArray<u32>;
  /** Rules with a key on the probe, for when its value is UNKNOWN. */
  fallStart!: StaticArray<u32>;
  fall!: StaticArray<u32>;

  // Entries: one per distinct (tag, len, hash); postings are ascending engine positions.
  eTag!: StaticArray<u32>;
  eLen!: StaticArray<u32>;
  eHash!: StaticArray<u32>;
  ePost!: StaticArray<u32>;
  eCount!: StaticArray<u32>;
  postings!: StaticArray<u32>;
  /** Open-addressing table of entry index + 1. */
  table!: StaticArray<u32>;
  mask: u32 = 0;

  /** Engine positions of rules without keys (always candidates), ascending. */
  always!: StaticArray<u32>;
  /** Per-request candidate scratch: cand[head .. candCount) are pending, sorted. */
  cand!: StaticArray<u32>;
  candCount: i32 = 0;
  head: i32 = 0;

  constructor(t: Tables, slots: Slots, roots: StaticArray<u32>) {
    const finder = new KeyFinder(t);
    const probeKeys = new Map<u32, u32>(); // (slot << 1 | fold) -> probe
    const probeSlot = new Array<u32>();
    const probeFold = new Array<bool>();
    const probeExact = new Array<bool>();
    const probeLens = new Array<Set<u32>>();
    const probeRules = new Array<Array<u32>>();
    const records = new Array<KeyRecord>();
    const always = new Array<u32>();
    for (let pos = 0; pos < roots.length; pos++) {
      const keys = finder.keysOf(unchecked(roots[pos]));
      if (keys === null) {
        always.push(<u32>pos);
        continue;
      }
      for (let i = 0; i < keys.length; i++) {
        const k: IndexKey = unchecked(keys[i]);
        const slot = unchecked(slots.leafSlot[k.leaf]);
        const pk = (slot << 1) | (k.fold ? 1 : 0);
        let probe: u32;
        if (probeKeys.has(pk)) probe = probeKeys.get(pk);
        else {
          probe = <u32>probeSlot.length;
          probeKeys.set(pk, probe);
          probeSlot.push(slot);
          probeFold.push(k.fold);
          probeExact.push(false);
          probeLens.push(new Set<u32>());
          probeRules.push(new Array<u32>());
        }
        const v = t.leafValue(k.leaf);
        const len = <u32>t.strLen(v);
        if (k.prefix) {
          probeLens[probe].add(len);
        } else {
          probeExact[probe] = true;
        }
        const pr = probeRules[probe];
        if (pr.length == 0 || pr[pr.length - 1] != <u32>pos) pr.push(<u32>pos);
        records.push(new KeyRecord((probe << 1) | (k.prefix ? 1 : 0), len, hashOperand(t.strPtr(v), t.strLen(v), k.fold), <u32>pos));
      }
    }

    // Probes in order of their lowest keyed position (probeRules lists are ascending). Records
    // keep their build-time probe number in the tag; remap it.
    const np = probeSlot.length;
    const order = new Array<i32>(np);
    for (let p = 0; p < np; p++) order[p] = p;
    sortRules = probeRules;
    order.sort((a: i32, b: i32): i32 => {
      const x = sortRules[a][0];
      const y = sortRules[b][0];
      return x < y ? -1 : x > y ? 1 : a - b;
    });
    const rank = new Array<u32>(np);
    for (let i = 0; i < np; i++) rank[order[i]] = <u32>i;
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      r.tag = (rank[r.tag >> 1] << 1) | (r.tag & 1);
    }
    this.probeSlot = new StaticArray<u32>(np);
    this.probeFold = new StaticArray<bool>(np);
    this.probeExact = new StaticArray<bool>(np);
    this.probeMin = new StaticArray<u32>(np);
    for (let i = 0; i < np; i++) {
      const o = order[i];
      this.probeSlot[i] = probeSlot[o];
      this.probeFold[i] = probeFold[o];
      this.probeExact[i] = probeExact[o];
      this.probeMin[i] = probeRules[o][0];
    }
    this.lensStart = new StaticArray<u32>(np + 1);
    this.fallStart = new StaticArray<u32>(np + 1);
    const lensAll = new Array<u32>();
    const fallAll = new Array<u32>();
    for (let i = 0; i < np; i++) {
      const p = order[i];
      unchecked((this.lensStart[i] = <u32>lensAll.length));
      unchecked((this.fallStart[i] = <u32>fallAll.length));
      const ls = probeLens[p].values().sort((a: u32, b: u32): i32 => <i32>(a > b) - <i32>(a < b));
      for (let i = 0; i < ls.length; i++) lensAll.push(ls[i]);
      const pr = probeRules[p];
      for (let i = 0; i < pr.length; i++) fallAll.push(pr[i]);
    }
    unchecked((this.lensStart[np] = <u32>lensAll.length));
    unchecked((this.fallStart[np] = <u32>fallAll.length));
    this.lens = StaticArray.fromArray<u32>(lensAll);
    this.fall = StaticArray.fromArray<u32>(fallAll);
    this.always = StaticArray.fromArray<u32>(always);

    // Group records by (tag, len, hash); within a group, ascending positions without duplicates.
    records.sort((a: KeyRecord, b: KeyRecord): i32 => {
      if (a.tag != b.tag) return a.tag < b.tag ? -1 : 1;
      if (a.len != b.len) return a.len < b.len ? -1 : 1;
      if (a.hash != b.hash) return a.hash < b.hash ? -1 : 1;
      return a.pos < b.pos ? -1 : a.pos > b.pos ? 1 : 0;
    });
    const eTag = new Array<u32>();
    const eLen = new Array<u32>();
    const eHash = new Array<u32>();
    const ePost = new Array<u32>();
    const eCount = new Array<u32>();
    const postings = new Array<u32>();
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      const e = eTag.length - 1;
      const same = e >= 0 && eTag[e] == r.tag && eLen[e] == r.len && eHash[e] == r.hash;
      if (!same) {
        eTag.push(r.tag);
        eLen.push(r.len);
        eHash.push(r.hash);
        ePost.push(<u32>postings.length);
        eCount.push(0);
      } else if (postings[postings.length - 1] == r.pos) {
        continue;
      }
      postings.push(r.pos);
      eCount[eCount.length - 1]++;
    }
    this.eTag = StaticArray.fromArray<u32>(eTag);
    this.eLen = StaticArray.fromArray<u32>(eLen);
    this.eHash = StaticArray.fromArray<u32>(eHash);
    this.ePost = StaticArray.fromArray<u32>(ePost);
    this.eCount = StaticArray.fromArray<u32>(eCount);
    this.postings = StaticArray.fromArray<u32>(postings);

    let cap: u32 = 8;
    while (cap < <u32>eTag.length * 2) cap <<= 1;
    this.table = new StaticArray<u32>(<i32>cap);
    this.mask = cap - 1;
    for (let e = 0; e < eTag.length; e++) {
      let s = this.bucket(eTag[e], eLen[e], eHash[e]);
      while (unchecked(this.table[s]) != 0) s = (s + 1) & this.mask;
      unchecked((this.table[s] = <u32>e + 1));
    }
    // Worst case: every posting and every fallback list at once.
    this.cand = new StaticArray<u32>(postings.length + fallAll.length + 1);
  }

  @inline bucket(tag: u32, len: u32, hash: u32): u32 {
    return mix(hash ^ (tag * 0x9e3779b1) ^ (len * 0x85ebca77)) & this.mask;
  }

  /** Appends the postings of (tag, len, hash), if such an entry exists. */
  lookup(tag: u32, len: u32, hash: u32): void {
    let s = this.bucket(tag, len, hash);
    for (;;) {
      const e1 = unchecked(this.table[s]);
      if (e1 == 0) return;
      const e = e1 - 1;
      if (unchecked(this.eHash[e]) == hash && unchecked(this.eTag[e]) == tag && unchecked(this.eLen[e]) == len) {
        this.append(unchecked(this.ePost[e]), unchecked(this.eCount[e]), this.postings);
        return;
      }
      s = (s + 1) & this.mask;
    }
  }

  @inline append(start: u32, count: u32, from: StaticArray<u32>): void {
    for (let i: u32 = 0; i < count; i++) unchecked((this.cand[this.candCount++] = from[start + i]));
  }

  get probeCount(): i32 {
    return this.probeSlot.length;
  }

  reset(): void {
    this.candCount = 0;
    this.head = 0;
  }

  /** Adds probe p's candidates for this request to the pending ones, keeping them sorted. */
  probe(p: i32, cache: RequestCache): void {
    const slot = unchecked(this.probeSlot[p]);
    const st = cache.get(slot);
    const before = this.candCount;
    if (st == ABSENT) return;
    if (st == UNKNOWN) {
      const fs = unchecked(this.fallStart[p]);
      this.append(fs, unchecked(this.fallStart[p + 1]) - fs, this.fall);
    } else {
      const v = unchecked(cache.ptr[slot]);
      const n = unchecked(cache.len[slot]);
      const fold = unchecked(this.probeFold[p]);
      const exact = unchecked(this.probeExact[p]);
      const prefixTag = (<u32>p << 1) | 1;
      let li = unchecked(this.lensStart[p]);
      const le = unchecked(this.lensStart[p + 1]);
      let h = FNV_BASIS;
      for (let i: u32 = 0; i <= n; i++) {
        while (li < le && unchecked(this.lens[li]) == i) {
          this.lookup(prefixTag, i, h);
          li++;
        }
        if (li >= le && !exact) break;
        if (i < n) {
          const b = <u32>load<u8>(v + i);
          h = fnvStep(h, fold ? lower(b) : b);
        }
      }
      if (exact) this.lookup(<u32>p << 1, n, h);
    }
    if (this.candCount > before && this.candCount - this.head > 1) {
      sortU32(this.cand, this.head, this.candCount);
    }
  }

  /** Next pending candidate (duplicates skipped), or u32.MAX_VALUE. Does not consume it. */
  @inline peek(): u32 {
    return this.head < this.candCount ? unchecked(this.cand[this.head]) : u32.MAX_VALUE;
  }

  /** Consumes pending candidates equal to pos. */
  @inline skip(pos: u32): void {
    while (this.head < this.candCount && unchecked(this.cand[this.head]) == pos) this.head++;
  }
}

/** In-place sort of a[from..to): insertion sort for short runs, heapsort otherwise (no
 *  recursion, O(n log n) worst case). */
export function sortU32(a: StaticArray<u32>, from: i32, to: i32): void {
  const n = to - from;
  if (n <= 24) {
    for (let i = from + 1; i < to; i++) {
      const x = unchecked(a[i]);
      let j = i - 1;
      while (j >= from && unchecked(a[j]) > x) {
        unchecked((a[j + 1] = a[j]));
        j--;
      }
      unchecked((a[j + 1] = x));
    }
    return;
  }
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(a, from, i, n);
  for (let end = n - 1; end > 0; end--) {
    const x = unchecked(a[from]);
    unchecked((a[from] = a[from + end]));
    unchecked((a[from + end] = x));
    siftDown(a, from, 0, end);
  }
}

function siftDown(a: StaticArray<u32>, base: i32, i: i32, n: i32): void {
  let done = false;
  while (!done) {
    let m = i;
    const l = 2 * i + 1;
    const r = l + 1;
    if (l < n && unchecked(a[base + l]) > unchecked(a[base + m])) m = l;
    if (r < n && unchecked(a[base + r]) > unchecked(a[base + m])) m = r;
    if (m == i) {
      done = true;
    } else {
      const x = unchecked(a[base + i]);
      unchecked((a[base + i] = a[base + m]));
      unchecked((a[base + m] = x));
      i = m;
    }
  }
}
