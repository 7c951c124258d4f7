import { lastPort, parseAddress } from "../../assembly/match/ip";
import { matchCidr } from "../../assembly/match/cidr";
import { matchPort } from "../../assembly/match/port";

const out = memory.data(16);

function parse(s: string): u32 {
  const b = String.UTF8.encode(s);
  return parseAddress(changetype<usize>(b), <usize>b.byteLength, out);
}

function byteAt(i: i32): u8 {
  return load<u8>(out + <usize>i);
}

function hex(n: u32): string {
  let s = "";
  for (let i = 0; i < <i32>n; i++) {
    const b = byteAt(i);
    s += (b < 16 ? "0" : "") + b.toString(16);
  }
  return s;
}

function net(bytes: Array<u8>): usize {
  const p = heap.alloc(<usize>bytes.length);
  for (let i = 0; i < bytes.length; i++) store<u8>(p + <usize>i, bytes[i]);
  return p;
}

describe("IP parsing", () => {
  it("parses ip:port", () => {
    expect<u32>(parse("10.1.2.3:8080")).toBe(4);
    expect<string>(hex(4)).toBe("0a010203");
    expect<i32>(lastPort()).toBe(8080);
  });
  it("parses a bare IPv4 (no port)", () => {
    expect<u32>(parse("192.168.0.1")).toBe(4);
    expect<i32>(lastPort()).toBe(-1);
  });
  it("parses port 0 (X-Forwarded-For remote address)", () => {
    expect<u32>(parse("1.2.3.4:0")).toBe(4);
    expect<i32>(lastPort()).toBe(0);
  });
  it("rejects malformed IPv4", () => {
    expect<u32>(parse("256.1.1.1:80")).toBe(0);
    expect<u32>(parse("1.2.3:80")).toBe(0);
    expect<u32>(parse("1.2.3.4.5:80")).toBe(0);
    expect<u32>(parse("1..3.4:80")).toBe(0);
    expect<u32>(parse("1.2.3.4:")).toBe(0);
    expect<u32>(parse("1.2.3.4:65536")).toBe(0);
    expect<u32>(parse("1.2.3.4:8a")).toBe(0);
    expect<u32>(parse("a.b.c.d:1")).toBe(0);
    expect<u32>(parse("")).toBe(0);
    expect<u32>(parse("/var/run/socket")).toBe(0);
  });
  it("parses [v6]:port", () => {
    expect<u32>(parse("[2001:db8::1]:443")).toBe(16);
    expect<string>(hex(16)).toBe("20010db8000000000000000000000001");
    expect<i32>(lastPort()).toBe(443);
    expect<u32>(parse("[::1]:80")).toBe(16);
    expect<string>(hex(16)).toBe("00000000000000000000000000000001");
    expect<u32>(parse("[::]:80")).toBe(16);
    expect<string>(hex(16)).toBe("00000000000000000000000000000000");
  });
  it("parses v6 forms: full, trailing ::, embedded IPv4", () => {
    expect<u32>(parse("[1:2:3:4:5:6:7:8]:1")).toBe(16);
    expect<string>(hex(16)).toBe("00010002000300040005000600070008");
    expect<u32>(parse("[fe80::]:1")).toBe(16);
    expect<string>(hex(16)).toBe("fe800000000000000000000000000000");
    expect<u32>(parse("[::ffff:10.0.0.1]:1")).toBe(16);
    expect<string>(hex(16)).toBe("00000000000000000000ffff0a000001");
    expect<u32>(parse("[1:2:3:4:5:6:1.2.3.4]:1")).toBe(16);
    expect<string>(hex(16)).toBe("00010002000300040005000601020304");
    expect<u32>(parse("2001:DB8::A")).toBe(16);
    expect<string>(hex(16)).toBe("20010db800000000000000000000000a");
  });
  it("rejects malformed v6", () => {
    expect<u32>(parse("[1:2:3:4:5:6:7:8:9]:1")).toBe(0);
    expect<u32>(parse("[1::2::3]:1")).toBe(0);
    expect<u32>(parse("[12345::1]:1")).toBe(0);
    expect<u32>(parse("[:1]:1")).toBe(0);
    expect<u32>(parse("[1:]:1")).toBe(0);
    expect<u32>(parse("[fe80::1%eth0]:1")).toBe(0);
    expect<u32>(parse("[::1]80")).toBe(0);
    expect<u32>(parse("[::1")).toBe(0);
    expect<u32>(parse("[1:2:3:4:5:6:7:1.2.3.4]:1")).toBe(0);
    expect<u32>(parse("[1:2:3:4:5:6:7:8::]:1")).toBe(0);
    expect<u32>(parse("[::1:2:3:4:5:6:7:8]:1")).toBe(0);
  });
});

describe("CIDR and port", () => {
  it("matches IPv4 ranges on bit boundaries", () => {
    parse("10.1.200.3:1");
    expect<bool>(matchCidr(out, 4, net([10, 1, 0, 0]), 4, 16)).toBe(true);
    expect<bool>(matchCidr(out, 4, net([10, 1, 192, 0]), 4, 18)).toBe(true);
    expect<bool>(matchCidr(out, 4, net([10, 1, 128, 0]), 4, 18)).toBe(false);
    expect<bool>(matchCidr(out, 4, net([10, 1, 200, 3]), 4, 32)).toBe(true);
    expect<bool>(matchCidr(out, 4, net([10, 1, 200, 2]), 4, 32)).toBe(false);
    expect<bool>(matchCidr(out, 4, net([0, 0, 0, 0]), 4, 0)).toBe(true);
  });
  it("never matches across families", () => {
    parse("[::ffff:10.1.2.3]:1");
    expect<bool>(matchCidr(out, 16, net([10, 1, 0, 0]), 4, 16)).toBe(false);
    parse("10.1.2.3:1");
    expect<bool>(matchCidr(out, 4, net([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 16, 0)).toBe(false);
  });
  it("matches IPv6 prefixes", () => {
    parse("[2001:db8:1::5]:1");
    expect<bool>(matchCidr(out, 16, net([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 16, 32)).toBe(true);
    expect<bool>(matchCidr(out, 16, net([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 16, 48)).toBe(false);
    expect<bool>(matchCidr(out, 16, net([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 16, 48)).toBe(true);
  });
  it("PORT is equality", () => {
    expect<bool>(matchPort(8080, 8080)).toBe(true);
    expect<bool>(matchPort(8080, 9090)).toBe(false);
  });
});
