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
