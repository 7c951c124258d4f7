// PATTERN leaves: full match of literals and character-class gaps (blob-format §2.7), i.e. RE2
// FullMatch of `.*`, `.+`, `[^/]*` and Envoy's URI-template classes. Evaluated as a set-of-positions
// automaton: after each piece, reach[j] says whether value[0..j) can be produced by the pieces so
// far. Cost is O(pieces x length) with no backtracking and no recursion, whatever the input.
import { Tables } from "../decode/tables";
import { GapClass, PieceKind } from "../decode/format";
import { sameBytes } from "../bytes/range";

/** CLASS[c * 256 + b] = 1 when byte b belongs to gap class c. Built once per VM. */
const CLASS = new StaticArray<u8>(4 * 256);
let classReady = false;

function buildClasses(): void {
  const pchar = "-._~%!$&'()+,;:@=";
  for (let b: i32 = 0; b < 256; b++) {
    const alnum = (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122);
    let p = alnum;
    for (let k = 0; k < pchar.length && !p; k++) p = pchar.charCodeAt(k) == b;
    unchecked((CLASS[GapClass.Any * 256 + b] = b != 10 ? 1 : 0));
    unchecked((CLASS[GapClass.NotSlash * 256 + b] = b != 10 && b != 47 ? 1 : 0));
    unchecked((CLASS[GapClass.Pchar * 256 + b] = p ? 1 : 0));
    unchecked((CLASS[GapClass.PcharOrSlash * 256 + b] = p || b == 47 ? 1 : 0));
  }
  classReady = true;
}

export function inClass(cls: u32, b: u32): bool {
  if (!classReady) buildClasses();
  return unchecked(CLASS[(cls << 8) + b]) != 0;
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
      const table = classes + (<usize>t.pieceClass(j) << 8);
      const min0 = t.pieceMin(j) == 0;
      // act: some reachable i < j has value[i..j) inside the class.
      let act = false;
      for (let i: usize = 0; i <= n; i++) {
        const r = load<u8>(cur + i) != 0;
        if (act || (min0 && r)) {
          store<u8>(next + i, 1);
          any = true;
        }
        if (i < n) act = (act || r) && load<u8>(table + <usize>load<u8>(v + i)) != 0;
      }
    }
    if (!any) return false;
    const tmp = cur;
    cur = next;
    next = tmp;
  }
  return load<u8>(cur + n) != 0;
}
