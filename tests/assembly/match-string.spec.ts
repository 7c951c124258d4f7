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
  it("NONEMPTY", () => {
    expect<bool>(matchNonEmpty(0)).toBe(false);
    expect<bool>(matchNonEmpty(1)).toBe(true);
  });
});
