// One RBAC engine (CUSTOM, AUDIT, SHADOW_DENY, DENY, SHADOW_ALLOW, ALLOW): its applicable rules in
// blob order (= Envoy's std::map order of policy names) and how an UNKNOWN root counts. Its only
// question per request is "which rule matches first?", answered linearly or through the index.
import { Tables } from "../decode/tables";
import { Slots } from "../request/slots";
import { u32At } from "../bytes/buf";
import { Evaluator, MAYBE, TRUE } from "./evaluate";
import { Graph } from "./graph";
import { KeyFinder } from "./index-keys";
import { RuleIndex } from "./rule-index";

@unmanaged
export class Engine {
  /** Plugin rule number (Plugin.ruleBlob, details) of each engine position (u32). */
  rules: usize;
  /** Local root node of each engine position (u32). */
  roots: usize;
  size: u32;
  index: RuleIndex | null = null;
  /** Rules evaluated this request (tests and benchmarks). */
  evaluated: u32 = 0;
  /** unknownMatches: an UNKNOWN root counts as a match (DENY, CUSTOM and their shadows), fail-safe. */
  unknownMatches: bool;

  /** Takes the arrays (heap.alloc'd). */
  constructor(rules: usize, roots: usize, size: u32, unknownMatches: bool) {
    this.rules = rules;
    this.roots = roots;
    this.size = size;
    this.unknownMatches = unknownMatches;
  }

  free(): void {
    heap.free(this.rules);
    heap.free(this.roots);
    const index = this.index;
    if (index !== null) index.free();
    heap.free(changetype<usize>(this));
  }

  buildIndex(t: Tables, g: Graph, slots: Slots, finder: KeyFinder): void {
    if (this.size > 0) this.index = new RuleIndex(t, g, slots, finder, this.roots, this.size);
  }

  @inline matches(ev: Evaluator, pos: u32): bool {
    this.evaluated++;
    const r = ev.node(u32At(this.roots, pos));
    return r == TRUE || (r == MAYBE && this.unknownMatches);
  }

  /** Plugin rule number of the first matching rule, or -1. */
  firstMatch(ev: Evaluator): i32 {
    this.evaluated = 0;
    const index = this.index;
    if (index === null) return this.linear(ev);
    index.reset();
    const always = index.always;
    const na = index.alwaysCount;
    const np = index.probeCount;
    let k: u32 = 0;
    let p: u32 = 0;
    let found: i32 = -1;
    let more = true;
    while (more) {
      // Evaluate, in order, every known candidate below the next probe's lowest position: no
      // rule keyed on that probe (or a later one) can come before them.
      const bound = p < np ? u32At(index.probeMin, p) : u32.MAX_VALUE;
      let pos = min(index.peek(), k < na ? u32At(always, k) : u32.MAX_VALUE);
      while (pos < bound && found < 0) {
        index.skip(pos);
        if (k < na && u32At(always, k) == pos) k++;
        if (this.matches(ev, pos)) found = <i32>u32At(this.rules, pos);
        else pos = min(index.peek(), k < na ? u32At(always, k) : u32.MAX_VALUE);
      }
      if (found >= 0 || p >= np) {
        more = false;
      } else {
        index.probe(p, ev.cache);
        p++;
      }
    }
    return found;
  }

  linear(ev: Evaluator): i32 {
    const n = this.size;
    for (let pos: u32 = 0; pos < n; pos++) {
      if (this.matches(ev, pos)) return <i32>u32At(this.rules, pos);
    }
    return -1;
  }
}
