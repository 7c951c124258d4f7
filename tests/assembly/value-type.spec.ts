import { ValueType, classifyValue, isText, pairsShape } from "../../assembly/request/value-type";
import { bytesOf, pairs } from "./helpers/blob";

function cls(b: ArrayBuffer): u8 {
  return classifyValue(changetype<usize>(b), <usize>b.byteLength);
}
function str(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}
function f64bytes(v: f64): ArrayBuffer {
  const b = new ArrayBuffer(8);
  store<f64>(changetype<usize>(b), v);
  return b;
}

describe("property value types (JWT claims, metadata)", () => {
  it("strings", () => {
    expect<u8>(cls(str("admin"))).toBe(ValueType.String);
    expect<u8>(cls(str(""))).toBe(ValueType.String);
    expect<u8>(cls(str("8-chars!"))).toBe(ValueType.String);
    expect<u8>(cls(str("é"))).toBe(ValueType.String);
    expect<u8>(cls(str("a"))).toBe(ValueType.String);
  });
  it("lists (pairs format with empty values)", () => {
    expect<u8>(cls(pairs(["admins", "", "devs", ""]))).toBe(ValueType.List);
    expect<u8>(cls(pairs([]))).toBe(ValueType.List);
  });
  it("maps (pairs format with values) are objects", () => {
    expect<u8>(cls(pairs(["role", "guest"]))).toBe(ValueType.Other);
  });
  it("8-byte doubles are numbers", () => {
    expect<u8>(cls(f64bytes(1700000000.0))).toBe(ValueType.Other);
    expect<u8>(cls(f64bytes(0.1))).toBe(ValueType.Other);
    expect<u8>(cls(f64bytes(1.0))).toBe(ValueType.Other);
  });
  it("1-byte 0/1 are bools", () => {
    expect<u8>(cls(bytesOf([1]))).toBe(ValueType.Other);
    expect<u8>(cls(bytesOf([0]))).toBe(ValueType.Other);
  });
  it("malformed pairs are just strings", () => {
    const b = pairs(["a", ""]);
    store<u8>(changetype<usize>(b) + <usize>b.byteLength - 1, 65); // drop the final NUL
    expect<i32>(pairsShape(changetype<usize>(b), <usize>b.byteLength)).toBe(0);
    const huge = bytesOf([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    expect<i32>(pairsShape(changetype<usize>(huge), 8)).toBe(0);
  });
  it("isText rejects controls and bad UTF-8", () => {
    expect<bool>(isText(changetype<usize>(str("abc")), 3)).toBe(true);
    const bad = bytesOf([0x61, 0x80, 0x62]);
    expect<bool>(isText(changetype<usize>(bad), 3)).toBe(false);
    const trunc = bytesOf([0x61, 0xe2, 0x82]);
    expect<bool>(isText(changetype<usize>(trunc), 3)).toBe(false);
  });
});
