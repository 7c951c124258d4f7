// PATTERN leaves: full match of literals and character-class gaps (blob-format §2.7), i.e. RE2
// FullMatch of `.*`, `.+`, `[^/]*` and Envoy's URI-template classes. Evaluated as a set-of-positions
// automaton: after each piece, reach[j] says whether value[0..j) can be produced by the pieces so
// far. Cost is O(pieces x length) with no backtracking and no recursion, whatever the input.
//
// RE2 matches in UTF-8 mode (Envoy builds RE2 with default options): `.` and `[^/]` match one
// UTF-8 encoded code point, as the byte sequences RE2's compiler emits for them (re2/compile.cc
// AddRuneRangeUTF8, Add_80_10ffff: 00-7F | C2-DF 80-BF | E0-EF 80-BF 80-BF | F0-F4 80-BF 80-BF
// 80-BF; overlong E0/F0 forms and F4 9x-Bx are accepted, bytes 80-C1 and F5-FF on their own never
// match). `.` excludes `\n` (re2/parse.cc PushDot without DotNL); a negated class such as `[^/]`
// includes `\n` (RE2::Options::ParseFlags always sets ClassNL and never NeverNL). The URI-template
// classes are ASCII byte sets.
import { Tables } from "../decode/tables";
import { GapClass, PieceKind } from "../decode/format";
import { sameBytes } from "../bytes/range";

/** CLASS[c * 256 + b] = 1 when the one-byte unit b belongs to gap class c. Built once per VM. */
const CLASS = new StaticArray<u8>(4 * 256);
let classReady = false;

function buildClasses(): void {
  const pchar = "-._~%!$&'()+,;:@=";
  for (let b: i32 = 0; b < 256; b++) {
    const alnum = (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122);
    let p = alnum;
    for (let k = 0; k < pchar.length && !p; k++) p = pchar.charCodeAt(k) == b;
    unchecked((CLASS[GapClass.Any * 256 + b] = b < 0x80 && b != 10 ? 1 : 0));
    unchecked((CLASS[GapClass.NotSlash * 256 + b] = b < 0x80 && b != 47 ? 1 : 0));
    unchecked((CLASS[GapClass.Pchar * 256 + b] = p ? 1 : 0));
    unchecked((CLASS[GapClass.PcharOrSlash * 256 + b] = p || b == 47 ? 1 : 0));
  }
  classReady = true;
}

export function inClass(cls: u32, b: u32): bool {
  if (!classReady) buildClasses();
  return unchecked(CLASS[(cls << 8) + b]) != 0;
}

/** Length of the UTF-8 unit RE2 accepts for `.`/`[^x]` at v[i..n) when its lead byte is >= 0x80,
 *  or 0 when none starts there. */
export function multiByteUnit(v: usize, i: usize, n: usize): usize {
  const c = <u32>load<u8>(v + i);
  let extra: usize;
  if (c >= 0xc2 && c <= 0xdf) extra = 1;
  else if (c >= 0xe0 && c <= 0xef) extra = 2;
  else if (c >= 0xf0 && c <= 0xf4) extra = 3;
  else return 0;
  if (n - i <= extra) return 0;
  for (let k: usize = 1; k <= extra; k++) {
    if ((<u32>load<u8>(v + i + k) & 0xc0) != 0x80) return 0;
  }
  return extra + 1;
}

/** Length of the gap-class unit at v[i..n) (i < n), 0 when the class has none there. */
// @ts-ignore: decorator
@inline function unitAt(table: usize, utf8: bool, v: usize, i: usize, n: usize): usize {
  const b = <usize>load<u8>(v + i);
  if (load<u8>(table + b) != 0) return 1;
  return utf8 && b >= 0x80 ? multiByteUnit(v, i, n) : 0;
}

/** RE2 FullMatch of `.+`: non-empty, and every unit is one `.` accepts. */
export function matchDotPlus(v: usize, n: usize): bool {
  if (n == 0) return false;
  let i: usize = 0;
  while (i < n) {
    const b = <u32>load<u8>(v + i);
    if (b < 0x80) {
      if (b == 10) return false;
      i++;
      continue;
    }
    const u = multiByteUnit(v, i, n);
    if (u == 0) return false;
    i += u;
  }
  return true;
}

// Two reach vectors, grown to the longest value seen, then reused (no per-request allocation).
let reachA: usize = 0;
let reachB: usize = 0;
let reachCap: usize = 0;

function ensureReach(n: usize): void {
  if (n <= reachCap) return;
  let cap: usize = reachCap == 0 ? 256 : reachCap;
  while (cap < n) cap <<= 1;
  if (reachA != 0) heap.free(reachA);
  if (reachB != 0) heap.free(reachB);
  reachA = heap.alloc(cap);
  reachB = heap.alloc(cap);
  reachCap = cap;
}

export function matchPattern(t: Tables, pattern: u32, v: usize, n: usize): bool {
  if (!classReady) buildClasses();
  ensureReach(n + 1);
  let cur = reachA;
  let next = reachB;
  memory.fill(cur, 0, n + 1);
  store<u8>(cur, 1);
  const first = t.patternFirst(pattern);
  const count = t.patternPieces(pattern);
  const classes = changetype<usize>(CLASS);
  for (let k: u32 = 0; k < count; k++) {
    const j = first + k;
    memory.fill(next, 0, n + 1);
    let any = false;
    if (t.pieceKind(j) == PieceKind.Literal) {
      const s = t.pieceStr(j);
      const sp = t.strPtr(s);
      const sl = t.strLen(s);
      if (sl <= n) {
        const last = n - sl;
        for (let i: usize = 0; i <= last; i++) {
          if (load<u8>(cur + i) != 0 && sameBytes(v + i, sp, sl)) {
            store<u8>(next + i + sl, 1);
            any = true;
          }
        }
      }
    } else {
      const cls = t.pieceClass(j);
      const table = classes + (<usize>cls << 8);
      const utf8 = cls == GapClass.Any || cls == GapClass.NotSlash;
      const min0 = t.pieceMin(j) == 0;
      // next[i]: value[0..i) is the pieces so far plus >= min units of the class. Units only move
      // forward, so next[i] is final when i is reached: a start at i is cur[i] or next[i].
      for (let i: usize = 0; i <= n; i++) {
        const r = load<u8>(cur + i) != 0;
        if (min0 && r) store<u8>(next + i, 1);
        if (i < n && (r || load<u8>(next + i) != 0)) {
          const u = unitAt(table, utf8, v, i, n);
          if (u != 0) store<u8>(next + i + u, 1);
        }
        if (load<u8>(next + i) != 0) any = true;
      }
    }
    if (!any) return false;
    const tmp = cur;
    cur = next;
    next = tmp;
  }
  return load<u8>(cur + n) != 0;
}
