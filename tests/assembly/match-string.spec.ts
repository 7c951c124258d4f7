import { matchExact, matchNonEmpty, matchPrefix, matchSuffix } from "../../assembly/match/string";

function ex(v: string, o: string, fold: bool = false): bool {
  const a = String.UTF8.encode(v);
  const b = String.UTF8.encode(o);
  return matchExact(changetype<usize>(a), a.byteLength, changetype<usize>(b), b.byteLength, fold);
}
function pre(v: string, o: string, fold: bool = false): bool {
  const a = String.UTF8.encode(v);
  const b = String.UTF8.encode(o);
  return matchPrefix(changetype<usize>(a), a.byteLength, changetype<usize>(b), b.byteLength, fold);
}
function suf(v: string, o: string, fold: bool = false): bool {
  const a = String.UTF8.encode(v);
  const b = String.UTF8.encode(o);
  return matchSuffix(changetype<usize>(a), a.byteLength, changetype<usize>(b), b.byteLength, fold);
}

function ne(v: string): bool {
  const a = String.UTF8.encode(v);
  return matchNonEmpty(changetype<usize>(a), a.byteLength);
}

describe("string matchers", () => {
  it("EXACT compares bytes", () => {
    expect<bool>(ex("/api", "/api")).toBe(true);
    expect<bool>(ex("/api", "/API")).toBe(false);
    expect<bool>(ex("/api", "/api/")).toBe(false);
    expect<bool>(ex("", "")).toBe(true);
    expect<bool>(ex("a\0b", "a\0b")).toBe(true);
    expect<bool>(ex("a\0b", "a\0c")).toBe(false);
  });
  it("EXACT with IGNORE_CASE folds ASCII only", () => {
    expect<bool>(ex("Shop.Example.COM", "shop.example.com", true)).toBe(true);
    expect<bool>(ex("É", "é", true)).toBe(false);
    expect<bool>(ex("[", "{", true)).toBe(false); // 0x5B vs 0x7B differ by 0x20 but are not letters
    expect<bool>(ex("@", "`", true)).toBe(false);
  });
  it("PREFIX", () => {
    expect<bool>(pre("/api/v1", "/api/")).toBe(true);
    expect<bool>(pre("/api", "/api/")).toBe(false);
    expect<bool>(pre("anything", "")).toBe(true);
    expect<bool>(pre("/API/v1", "/api/", true)).toBe(true);
    expect<bool>(pre("/API/v1", "/api/")).toBe(false);
  });
  it("SUFFIX", () => {
    expect<bool>(suf("style.css", ".css")).toBe(true);
    expect<bool>(suf("css", ".css")).toBe(false);
    expect<bool>(suf("STYLE.CSS", ".css", true)).toBe(true);
    expect<bool>(suf("x", "")).toBe(true);
  });
  it("NONEMPTY is RE2 FullMatch of .+", () => {
    expect<bool>(ne("")).toBe(false);
    expect<bool>(ne("x")).toBe(true);
    expect<bool>(ne("user\n1")).toBe(false); // `.` never matches \n
    expect<bool>(ne("\n")).toBe(false);
    expect<bool>(ne("a\rb\tc\0")).toBe(true);
    expect<bool>(ne("\u00fc\u4e16\ud83d\ude00")).toBe(true);
    const bad = new ArrayBuffer(3);
    store<u8>(changetype<usize>(bad), 0x61);
    store<u8>(changetype<usize>(bad) + 1, 0xff); // not UTF-8: RE2's `.` does not match it
    store<u8>(changetype<usize>(bad) + 2, 0x62);
    expect<bool>(matchNonEmpty(changetype<usize>(bad), 3)).toBe(false);
  });
});
