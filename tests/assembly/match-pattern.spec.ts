import { BlobBuilder } from "./helpers/blob";
import { decodeBlob } from "../../assembly/decode/decoder";
import { Tables } from "../../assembly/decode/tables";
import { inClass, matchPattern } from "../../assembly/match/pattern";
import { heapCopy } from "./helpers/blob";

// Gap pieces: "\0" + class digit + min digit. Classes: 0 ANY, 1 NOT_SLASH, 2 PCHAR, 3 PCHAR_OR_SLASH.
const ANY0 = "\x0000";
const ANY1 = "\x0001";
const NOSLASH0 = "\x0010";
const PCHAR1 = "\x0021";
const PCHARSLASH0 = "\x0030";

let tables: Tables | null = null;
const pats = new Array<u32>();

function setup(): void {
  const b = new BlobBuilder();
  pats.push(b.pattern(["/a/", PCHAR1, "/b/", PCHARSLASH0])); // 0: /a/{*}/b/{**}
  pats.push(b.pattern([ANY0])); // 1: .*
  pats.push(b.pattern([ANY1])); // 2: .+
  pats.push(b.pattern(["/x/", NOSLASH0, ".css"])); // 3: /x/[^/]*\.css
  pats.push(b.pattern(["abc"])); // 4: literal
  pats.push(b.pattern([ANY0, "a", ANY0, "a", ANY0, "a", ANY0, "b"])); // 5: backtracking trap
  pats.push(b.pattern([PCHAR1, PCHAR1])); // 6: two non-empty runs
  pats.push(b.pattern(["/", PCHARSLASH0, "/end"])); // 7
  const blob = b.build();
  const d = decodeBlob(heapCopy(blob), <usize>blob.byteLength);
  tables = d.tables;
}

/** Raw bytes (not text): hex pairs, e.g. "61ff62". */
function raw(hex: string): ArrayBuffer {
  const b = new ArrayBuffer(hex.length >> 1);
  for (let i = 0; i < hex.length; i += 2) store<u8>(changetype<usize>(b) + (i >> 1), <u8>I32.parseInt(hex.substr(i, 2), 16));
  return b;
}
function mb(i: i32, hex: string): bool {
  const b = raw(hex);
  return matchPattern(tables!, pats[i], changetype<usize>(b), <usize>b.byteLength);
}

function m(i: i32, v: string): bool {
  const b = String.UTF8.encode(v);
  return matchPattern(tables!, pats[i], changetype<usize>(b), <usize>b.byteLength);
}

describe("pattern matcher", () => {
  setup();
  it("decodes the test patterns", () => {
    expect<bool>(tables !== null).toBe(true);
  });
  it("gap classes", () => {
    expect<bool>(inClass(0, 10)).toBe(false);
    expect<bool>(inClass(0, 47)).toBe(true);
    expect<bool>(inClass(1, 47)).toBe(false);
    expect<bool>(inClass(0, 0xc3)).toBe(false); // lead bytes are units of several bytes, not classes
    expect<bool>(inClass(2, 0x2a)).toBe(false); // '*' is not in Envoy's pchar class
    expect<bool>(inClass(2, 0x25)).toBe(true); // '%'
    expect<bool>(inClass(2, 0x40)).toBe(true); // '@'
    expect<bool>(inClass(2, 0x3f)).toBe(false); // '?'
    expect<bool>(inClass(2, 0x2f)).toBe(false);
    expect<bool>(inClass(3, 0x2f)).toBe(true);
    expect<bool>(inClass(2, 0xc3)).toBe(false);
  });
  it("URI template /a/{*}/b/{**}", () => {
    expect<bool>(m(0, "/a/x/b/")).toBe(true);
    expect<bool>(m(0, "/a/x/b/c/d.txt")).toBe(true);
    expect<bool>(m(0, "/a//b/c")).toBe(false); // {*} needs at least one pchar
    expect<bool>(m(0, "/a/x/y/b/c")).toBe(false); // {*} does not cross '/'
    expect<bool>(m(0, "/a/x/b")).toBe(false);
    expect<bool>(m(0, "/a/x/b/c?d")).toBe(false);
  });
  it(".* and .+ exclude newlines", () => {
    expect<bool>(m(1, "")).toBe(true);
    expect<bool>(m(1, "anything")).toBe(true);
    expect<bool>(m(1, "a\nb")).toBe(false);
    expect<bool>(m(2, "")).toBe(false);
    expect<bool>(m(2, "x")).toBe(true);
  });
  it("[^/]* with literals around", () => {
    expect<bool>(m(3, "/x/.css")).toBe(true);
    expect<bool>(m(3, "/x/a.b.css")).toBe(true);
    expect<bool>(m(3, "/x/a/b.css")).toBe(false);
    expect<bool>(m(3, "/x/a.cssx")).toBe(false);
  });
  it("RE2 UTF-8 mode: `.` is one UTF-8 sequence, invalid bytes never match", () => {
    expect<bool>(m(2, "h\u00e9llo \u4e16\u754c \ud83d\ude00")).toBe(true);
    expect<bool>(mb(2, "00")).toBe(true); // NUL is a code point
    expect<bool>(mb(2, "7f")).toBe(true);
    expect<bool>(mb(2, "80")).toBe(false); // lone continuation byte
    expect<bool>(mb(2, "ff")).toBe(false);
    expect<bool>(mb(2, "c0af")).toBe(false); // C0/C1 leads are never accepted
    expect<bool>(mb(2, "c3")).toBe(false); // truncated
    expect<bool>(mb(2, "c3a9")).toBe(true);
    expect<bool>(mb(2, "e08080")).toBe(true); // overlong E0 form: RE2 accepts it (Add_80_10ffff)
    expect<bool>(mb(2, "eda080")).toBe(true); // surrogate: accepted too
    expect<bool>(mb(2, "f4908080")).toBe(true); // above U+10FFFF in an F4 sequence: accepted
    expect<bool>(mb(2, "f5808080")).toBe(false);
    expect<bool>(mb(2, "61ff62")).toBe(false);
    expect<bool>(mb(1, "61ff62")).toBe(false); // .* cannot cross it either
    expect<bool>(mb(2, "e282")).toBe(false);
    expect<bool>(mb(2, "e282ac")).toBe(true);
  });
  it("[^/] matches newlines and UTF-8 sequences, not invalid bytes", () => {
    expect<bool>(m(3, "/x/a\nb.css")).toBe(true); // ClassNL: negated classes include \n
    expect<bool>(m(3, "/x/\u00e9.css")).toBe(true);
    expect<bool>(mb(3, "2f782f" + "ff" + "2e637373")).toBe(false);
    expect<bool>(inClass(1, 10)).toBe(true);
  });
  it("literal-only patterns are full matches", () => {
    expect<bool>(m(4, "abc")).toBe(true);
    expect<bool>(m(4, "abcd")).toBe(false);
    expect<bool>(m(4, "ab")).toBe(false);
  });
  it("runs in linear-ish time on inputs that make backtracking explode", () => {
    let v = "";
    for (let i = 0; i < 60000; i++) v += "a";
    expect<bool>(m(5, v)).toBe(false);
    expect<bool>(m(5, v + "b")).toBe(true);
  });
  it("adjacent non-empty gaps need two bytes", () => {
    expect<bool>(m(6, "a")).toBe(false);
    expect<bool>(m(6, "ab")).toBe(true);
    expect<bool>(m(6, "abc")).toBe(true);
  });
  it("zero-length gap between literals", () => {
    expect<bool>(m(7, "//end")).toBe(true);
    expect<bool>(m(7, "/a/b/end")).toBe(true);
    expect<bool>(m(7, "/end")).toBe(false);
  });
});
