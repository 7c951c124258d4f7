// RE2 full match over BYTES, for the regex subset Istio generates (literals, QuoteMeta escapes, `.`, `[...]`
// / `[^...]` classes, groups, `|`, `*`, `+`, `?`, `^`, `$`). Envoy's safe_regex is `re2::RE2(regex,
// RE2::Quiet)` matched with `RE2::FullMatch` (source/common/common/regex.cc), i.e. RE2's default options:
// UTF-8 encoding, dot_nl false, never_nl false. What that means for bytes, from RE2's own source:
//
// - re2/re2.cc Options::ParseFlags starts from `Regexp::ClassNL`: a NEGATED class such as `[^/]` matches `\n`;
//   `.` does not (DotNL is off), so `.` is the class [\x00-\x09 \x0b-\x{10FFFF}].
// - re2/compile.cc compiles a class to UTF-8 byte sequences (AddRuneRangeUTF8). When the class holds the whole
//   range 80-10FFFF, as `.` and every negated ASCII class do, Add_80_10ffff emits the LENIENT byte automaton
//   `[C2-DF][80-BF] | [E0-EF][80-BF]{2} | [F0-F4][80-BF]{3}`: overlong 3/4-byte forms, UTF-16 surrogates
//   (ED A0..BF xx) and F4 90.. (> U+10FFFF) are one "character"; a lone continuation byte, C0, C1, F5-FF, or a
//   truncated sequence matches nothing, so `.+` does not match a value containing such a byte. Other ranges
//   (a literal non-ASCII rune) are the rune's exact UTF-8 bytes.
// The subset's parser throws on anything else, so an unexpected regex can never be matched loosely.
// tests/reference/re2-table.json holds results of the real libre2 (re2-oracle/); re2.test.ts replays them.

type Range = [number, number]; // inclusive rune range

/** A set of runes. `lenientHigh`: the set holds all of 80-10FFFF (RE2's Add_80_10ffff automaton). */
interface RuneSet {
  ascii: Uint8Array; // 128 flags
  high: Range[]; // ranges >= 0x80
}

type Node =
  | { t: "set"; set: RuneSet }
  | { t: "cat"; items: Node[] }
  | { t: "alt"; items: Node[] }
  | { t: "rep"; min: 0 | 1; max: 1 | typeof Infinity; item: Node }
  | { t: "bol" }
  | { t: "eol" }
  | { t: "empty" };

const MAX_RUNE = 0x10ffff;

function setOf(ranges: Range[]): RuneSet {
  const ascii = new Uint8Array(128);
  const high: Range[] = [];
  for (const [lo, hi] of ranges) {
    for (let r = lo; r <= Math.min(hi, 0x7f); r++) ascii[r] = 1;
    if (hi >= 0x80) high.push([Math.max(lo, 0x80), hi]);
  }
  return { ascii, high: normalize(high) };
}

function normalize(rs: Range[]): Range[] {
  const s = rs.slice().sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

function negate(set: RuneSet): RuneSet {
  const ascii = set.ascii.map((b) => (b ? 0 : 1));
  const high: Range[] = [];
  let next = 0x80;
  for (const [lo, hi] of set.high) {
    if (lo > next) high.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_RUNE) high.push([next, MAX_RUNE]);
  return { ascii, high };
}

function fullHigh(set: RuneSet): boolean {
  return set.high.length === 1 && set.high[0]![0] === 0x80 && set.high[0]![1] === MAX_RUNE;
}

/** `.` without DotNL. */
const DOT: RuneSet = setOf([[0, 0x09], [0x0b, MAX_RUNE]]);

class Parser {
  private i = 0;
  constructor(private readonly src: string) {}

  parse(): Node {
    const n = this.alt();
    if (this.i < this.src.length) throw this.err("unexpected )");
    return n;
  }

  private err(msg: string): Error {
    return new Error(`re2 subset: ${msg} at ${this.i} in ${JSON.stringify(this.src)}`);
  }

  private peek(): string | undefined {
    return this.src[this.i];
  }

  private alt(): Node {
    const items = [this.cat()];
    while (this.peek() === "|") {
      this.i++;
      items.push(this.cat());
    }
    return items.length === 1 ? items[0]! : { t: "alt", items };
  }

  private cat(): Node {
    const items: Node[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === "|" || c === ")") break;
      let atom = this.atom();
      for (;;) {
        const q = this.peek();
        if (q === "*") atom = { t: "rep", min: 0, max: Infinity, item: atom };
        else if (q === "+") atom = { t: "rep", min: 1, max: Infinity, item: atom };
        else if (q === "?") atom = { t: "rep", min: 0, max: 1, item: atom };
        else break;
        this.i++;
        if (this.peek() === "?") this.i++; // non-greedy: same language
        if (this.peek() === "*" || this.peek() === "+") throw this.err("bad repetition");
      }
      items.push(atom);
    }
    return items.length === 0 ? { t: "empty" } : items.length === 1 ? items[0]! : { t: "cat", items };
  }

  private atom(): Node {
    const c = this.src.codePointAt(this.i)!;
    const ch = String.fromCodePoint(c);
    if (ch === "(") {
      this.i++;
      if (this.src.startsWith("?:", this.i)) this.i += 2;
      else if (this.peek() === "?") throw this.err("group flags");
      const n = this.alt();
      if (this.peek() !== ")") throw this.err("missing )");
      this.i++;
      return n;
    }
    if (ch === "[") return { t: "set", set: this.cls() };
    if (ch === ".") {
      this.i++;
      return { t: "set", set: DOT };
    }
    if (ch === "^") {
      this.i++;
      return { t: "bol" };
    }
    if (ch === "$") {
      this.i++;
      return { t: "eol" };
    }
    if (ch === "*" || ch === "+" || ch === "?" || ch === "{") throw this.err(`unsupported ${ch}`);
    if (ch === "\\") {
      const r = this.escape();
      return { t: "set", set: setOf([[r, r]]) };
    }
    this.i += ch.length;
    return { t: "set", set: setOf([[c, c]]) };
  }

  /** `\` + punctuation (Go regexp.QuoteMeta's output); letters/digits escapes are outside the subset. */
  private escape(): number {
    this.i++;
    const c = this.src.codePointAt(this.i);
    if (c === undefined) throw this.err("trailing \\");
    if (c < 0x80 && /[^A-Za-z0-9]/.test(String.fromCharCode(c))) {
      this.i++;
      return c;
    }
    throw this.err(`unsupported escape \\${String.fromCodePoint(c)}`);
  }

  private cls(): RuneSet {
    this.i++; // [
    let neg = false;
    if (this.peek() === "^") {
      neg = true;
      this.i++;
    }
    const ranges: Range[] = [];
    let first = true;
    while (this.peek() !== "]" || first) {
      if (this.peek() === undefined) throw this.err("missing ]");
      first = false;
      const lo = this.classChar();
      let hi = lo;
      if (this.peek() === "-" && this.src[this.i + 1] !== "]") {
        this.i++;
        hi = this.classChar();
        if (hi < lo) throw this.err("bad range");
      }
      ranges.push([lo, hi]);
    }
    this.i++; // ]
    const set = setOf(ranges);
    // ClassNL is on (re2.cc ParseFlags) and NeverNL off: a negated class keeps `\n`.
    return neg ? negate(set) : set;
  }

  private classChar(): number {
    if (this.peek() === "\\") return this.escape();
    if (this.src.startsWith("[:", this.i)) throw this.err("POSIX classes");
    const c = this.src.codePointAt(this.i)!;
    this.i += c > 0xffff ? 2 : 1;
    return c;
  }
}

/**
 * Length of the one "character" of `set` that starts at text[i] (as RE2's compiled byte automaton reads it),
 * or -1. Only byte sequences RE2 would accept for that set count.
 */
function step(set: RuneSet, text: Uint8Array, i: number): number {
  const b = text[i];
  if (b === undefined) return -1;
  if (b < 0x80) return set.ascii[b] ? 1 : -1;
  if (set.high.length === 0) return -1;
  const cont = (k: number) => {
    const x = text[i + k];
    return x !== undefined && x >= 0x80 && x <= 0xbf;
  };
  if (fullHigh(set)) {
    // re2/compile.cc Add_80_10ffff
    if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : -1;
    if (b >= 0xe0 && b <= 0xef) return cont(1) && cont(2) ? 3 : -1;
    if (b >= 0xf0 && b <= 0xf4) return cont(1) && cont(2) && cont(3) ? 4 : -1;
    return -1;
  }
  // Exact UTF-8 of the set's runes (shortest form, no surrogates, <= 10FFFF).
  let n: number;
  let r: number;
  if (b >= 0xc2 && b <= 0xdf) (n = 2), (r = b & 0x1f);
  else if (b >= 0xe0 && b <= 0xef) (n = 3), (r = b & 0x0f);
  else if (b >= 0xf0 && b <= 0xf4) (n = 4), (r = b & 0x07);
  else return -1;
  for (let k = 1; k < n; k++) {
    if (!cont(k)) return -1;
    r = (r << 6) | (text[i + k]! & 0x3f);
  }
  if ((n === 3 && r < 0x800) || (n === 4 && (r < 0x10000 || r > MAX_RUNE)) || (r >= 0xd800 && r <= 0xdfff)) return -1;
  return set.high.some(([lo, hi]) => r >= lo && r <= hi) ? n : -1;
}

// Thompson NFA: instructions over byte positions (linear in the text; no backtracking).
type Inst =
  | { op: "set"; set: RuneSet; next: number }
  | { op: "split"; a: number; b: number }
  | { op: "jmp"; next: number }
  | { op: "bol"; next: number }
  | { op: "eol"; next: number }
  | { op: "match" };

function compile(root: Node): Inst[] {
  const prog: Inst[] = [];
  // Emits `n` so that it continues at `next`; returns the entry pc.
  const emit = (n: Node, next: number): number => {
    switch (n.t) {
      case "empty":
        return next;
      case "set":
        prog.push({ op: "set", set: n.set, next });
        return prog.length - 1;
      case "bol":
      case "eol":
        prog.push({ op: n.t, next });
        return prog.length - 1;
      case "cat": {
        let pc = next;
        for (let k = n.items.length - 1; k >= 0; k--) pc = emit(n.items[k]!, pc);
        return pc;
      }
      case "alt": {
        const entries = n.items.map((it) => emit(it, next));
        let pc = entries[entries.length - 1]!;
        for (let k = entries.length - 2; k >= 0; k--) {
          prog.push({ op: "split", a: entries[k]!, b: pc });
          pc = prog.length - 1;
        }
        return pc;
      }
      case "rep": {
        if (n.max === 1) {
          const body = emit(n.item, next);
          prog.push({ op: "split", a: body, b: next });
          return prog.length - 1;
        }
        // loop: split -> body -> split
        prog.push({ op: "split", a: -1, b: next });
        const loop = prog.length - 1;
        const body = emit(n.item, loop);
        (prog[loop] as { a: number }).a = body;
        return n.min === 1 ? body : loop;
      }
    }
  };
  prog.push({ op: "match" });
  const start = emit(root, 0);
  prog.push({ op: "jmp", next: start });
  return prog;
}

export interface Re2 {
  readonly source: string;
  fullMatch(text: Uint8Array): boolean;
}

const cache = new Map<string, Re2>();

/** Compiles an RE2 pattern of the subset Istio generates; throws on anything outside it. */
export function re2(source: string): Re2 {
  const hit = cache.get(source);
  if (hit) return hit;
  const prog = compile(new Parser(source).parse());
  const startPc = prog.length - 1;
  const m: Re2 = { source, fullMatch: (text) => run(prog, startPc, text) };
  if (cache.size > 10000) cache.clear();
  cache.set(source, m);
  return m;
}

function run(prog: Inst[], startPc: number, text: Uint8Array): boolean {
  const n = text.length;
  // pending[pos] = set of pcs (threads waiting at a `set` instruction or to be closed) at byte position pos
  const pending = new Map<number, Set<number>>();
  const add = (pos: number, pc: number) => {
    let s = pending.get(pos);
    if (!s) pending.set(pos, (s = new Set()));
    s.add(pc);
  };
  add(0, startPc);
  for (let pos = 0; pos <= n; pos++) {
    const seeds = pending.get(pos);
    if (!seeds) continue;
    pending.delete(pos);
    const seen = new Set<number>();
    const stack = [...seeds];
    while (stack.length > 0) {
      const pc = stack.pop()!;
      if (seen.has(pc)) continue;
      seen.add(pc);
      const ins = prog[pc]!;
      switch (ins.op) {
        case "match":
          if (pos === n) return true;
          break;
        case "jmp":
          stack.push(ins.next);
          break;
        case "split":
          stack.push(ins.a, ins.b);
          break;
        case "bol":
          if (pos === 0) stack.push(ins.next);
          break;
        case "eol":
          if (pos === n) stack.push(ins.next);
          break;
        case "set": {
          const len = step(ins.set, text, pos);
          if (len > 0) add(pos + len, ins.next);
          break;
        }
      }
    }
  }
  return false;
}
