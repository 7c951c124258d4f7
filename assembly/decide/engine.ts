// One RBAC engine (CUSTOM, AUDIT, SHADOW_DENY, DENY, SHADOW_ALLOW, ALLOW): its applicable rules in
// blob order (= Envoy's std::map order of policy names) and how an UNKNOWN root counts. Its only
// question per request is "which rule matches first?", answered linearly or through the index.
import { Tables } from "../decode/tables";
import { Slots } from "../request/slots";
import { Evaluator, MAYBE, TRUE } from "./evaluate";
import { RuleIndex } from "./rule-index";

export class Engine {
  /** Blob rule index of each engine position. */
  rules: StaticArray<u32>;
  /** Root node of each engine position. */
  roots: StaticArray<u32>;
  index: RuleIndex | null = null;
  /** Rules evaluated this request (tests and benchmarks). */
  evaluated: u32 = 0;

  /** unknownMatches: an UNKNOWN root counts as a match (DENY, CUSTOM and their shadows), fail-safe. */
  constructor(t: Tables, rules: Array<u32>, public unknownMatches: bool) {
    this.rules = StaticArray.fromArray<u32>(rules);
    this.roots = new StaticArray<u32>(rules.length);
    for (let i = 0; i < rules.length; i++) unchecked((this.roots[i] = t.ruleRoot(rules[i])));
  }

  get size(): i32 {
    return this.rules.length;
  }

  buildIndex(t: Tables, slots: Slots): void {
    if (this.rules.length > 0) this.index = new RuleIndex(t, slots, this.roots);
  }

  @inline matches(ev: Evaluator, pos: u32): bool {
    this.evaluated++;
    const r = ev.node(unchecked(this.roots[pos]));
    return r == TRUE || (r == MAYBE && this.unknownMatches);
  }

  /** Blob rule index of the first matching rule, or -1. */
  firstMatch(ev: Evaluator): i32 {
    this.evaluated = 0;
    const index = this.index;
    if (index === null) return this.linear(ev);
    index.reset();
    const always = index.always;
    const na = always.length;
    const np = index.probeCount;
    let k = 0;
    let p = 0;
    for (;;) {
      // Evaluate, in order, every known candidate below the next probe's lowest position: no
      // rule keyed on that probe (or a later one) can come before them.
      const bound = p < np ? unchecked(index.probeMin[p]) : u32.MAX_VALUE;
      let pos = min(index.peek(), k < na ? unchecked(always[k]) : u32.MAX_VALUE);
      while (pos < bound) {
        index.skip(pos);
        if (k < na && unchecked(always[k]) == pos) k++;
        if (this.matches(ev, pos)) return <i32>unchecked(this.rules[pos]);
        pos = min(index.peek(), k < na ? unchecked(always[k]) : u32.MAX_VALUE);
      }
      if (p >= np) return -1;
      index.probe(p, ev.cache);
      p++;
    }
    return -1;
  }

  linear(ev: Evaluator): i32 {
    const n = this.rules.length;
    for (let pos = 0; pos < n; pos++) {
      if (this.matches(ev, <u32>pos)) return <i32>unchecked(this.rules[pos]);
    }
    return -1;
  }
}
