import { base64Decode, base64DecodedLength } from "../../assembly/config/base64";

/** Decodes s; returns the bytes as a latin1-ish string, or null when rejected. */
function dec(s: string): string | null {
  const src = String.UTF8.encode(s);
  const n = base64DecodedLength(changetype<usize>(src), <usize>src.byteLength);
  if (n < 0) return null;
  const out = new ArrayBuffer(<i32>n);
  if (!base64Decode(changetype<usize>(src), <usize>src.byteLength, changetype<usize>(out))) return null;
  return String.UTF8.decode(out);
}

describe("base64", () => {
  it("decodes the RFC 4648 test vectors", () => {
    expect<string | null>(dec("")).toBe("");
    expect<string | null>(dec("Zg==")).toBe("f");
    expect<string | null>(dec("Zm8=")).toBe("fo");
    expect<string | null>(dec("Zm9v")).toBe("foo");
    expect<string | null>(dec("Zm9vYg==")).toBe("foob");
    expect<string | null>(dec("Zm9vYmE=")).toBe("fooba");
    expect<string | null>(dec("Zm9vYmFy")).toBe("foobar");
  });
  it("decodes + and / of the standard alphabet", () => {
    const src = String.UTF8.encode("+/+/");
    const out = new ArrayBuffer(3);
    expect<bool>(base64Decode(changetype<usize>(src), 4, changetype<usize>(out))).toBe(true);
    expect<u8>(load<u8>(changetype<usize>(out))).toBe(0xfb);
    expect<u8>(load<u8>(changetype<usize>(out), 1)).toBe(0xff);
    expect<u8>(load<u8>(changetype<usize>(out), 2)).toBe(0xbf);
  });
  it("rejects a length that is not a multiple of 4", () => {
    expect<string | null>(dec("Zm9")).toBeNull();
    expect<string | null>(dec("Zg")).toBeNull();
  });
  it("rejects characters outside the alphabet", () => {
    expect<string | null>(dec("Zm9-")).toBeNull();
    expect<string | null>(dec("Zm9_")).toBeNull();
    expect<string | null>(dec("Zm 9")).toBeNull();
    expect<string | null>(dec("Zm9v\nYmFy")).toBeNull();
  });
  it("rejects misplaced or excess padding", () => {
    expect<string | null>(dec("Z===")).toBeNull();
    expect<string | null>(dec("Zg==Zm9v")).toBeNull();
    expect<string | null>(dec("Z=g=")).toBeNull();
    expect<string | null>(dec("====")).toBeNull();
  });
  it("rejects non-zero bits in the last quantum (non-canonical)", () => {
    expect<string | null>(dec("Zh==")).toBeNull();
    expect<string | null>(dec("Zm9=")).toBeNull();
  });
});

describe("base64 fast path", () => {
  it("decodes every byte value, at every length, like the definition", () => {
    const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (let n = 0; n < 70; n++) {
      // n bytes i * 37 + n, encoded by the textbook loop.
      let s = "";
      for (let i = 0; i < n; i += 3) {
        const a = <u32>((i * 37 + n) & 0xff);
        const b = i + 1 < n ? <u32>(((i + 1) * 37 + n) & 0xff) : 0;
        const c = i + 2 < n ? <u32>(((i + 2) * 37 + n) & 0xff) : 0;
        const v = (a << 16) | (b << 8) | c;
        s += A.charAt(<i32>(v >> 18)) + A.charAt(<i32>((v >> 12) & 63));
        s += i + 1 < n ? A.charAt(<i32>((v >> 6) & 63)) : "=";
        s += i + 2 < n ? A.charAt(<i32>(v & 63)) : "=";
      }
      const src = String.UTF8.encode(s);
      const out = new ArrayBuffer(n);
      expect<bool>(base64Decode(changetype<usize>(src), <usize>src.byteLength, changetype<usize>(out))).toBe(true);
      for (let i = 0; i < n; i++) expect<u8>(load<u8>(changetype<usize>(out) + <usize>i)).toBe(<u8>((i * 37 + n) & 0xff));
    }
  });
});
