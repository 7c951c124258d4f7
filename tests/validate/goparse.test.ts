// Go standard-library parser ports: acceptance and error texts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAddr, parseBool, parsePrefix, parseUint32 } from "../../tools/validate/goparse.ts";

test("netip.ParseAddr accepts", () => {
  for (const s of ["0.0.0.0", "255.255.255.255", "1.2.3.4", "::", "::1", "1::", "2001:db8::1", "fe80::1%eth0", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4", "ABCD::ef"]) {
    const r = parseAddr(s);
    assert.ok(r.ok, `${s}: ${r.ok ? "" : r.error}`);
  }
  const v = parseAddr("::ffff:10.0.0.1");
  assert.ok(v.ok && !v.value.is4 && v.value.bytes.slice(10).join(".") === "255.255.10.0.0.1");
  const w = parseAddr("2001:db8::1");
  assert.ok(w.ok && w.value.bytes[0] === 0x20 && w.value.bytes[1] === 0x01 && w.value.bytes[15] === 1);
});

test("netip.ParseAddr rejects, with Go's messages", () => {
  const cases: Array<[string, string]> = [
    ["", 'ParseAddr(""): unable to parse IP'],
    ["abc", 'ParseAddr("abc"): unable to parse IP'],
    ["%eth0", 'ParseAddr("%eth0"): missing IPv6 address'],
    ["1.2.3", 'ParseAddr("1.2.3"): IPv4 address too short'],
    ["1.2.3.4.5", 'ParseAddr("1.2.3.4.5"): IPv4 address too long'],
    ["01.2.3.4", 'ParseAddr("01.2.3.4"): IPv4 field has octet with leading zero'],
    ["1.2.3.256", 'ParseAddr("1.2.3.256"): IPv4 field has value >255'],
    ["1..2.3", 'ParseAddr("1..2.3"): IPv4 field must have at least one digit (at ".2.3")'],
    ["1.2.3.4%eth0", 'ParseAddr("1.2.3.4%eth0"): unexpected character (at "%eth0")'],
    ["fe80::1%", 'ParseAddr("fe80::1%"): zone must be a non-empty string'],
    ["1:2:3:4:5:6:7:8:9", 'ParseAddr("1:2:3:4:5:6:7:8:9"): trailing garbage after address (at "9")'],
    ["12345::", 'ParseAddr("12345::"): each colon-separated field must have at most 4 hex digits (at "12345::")'],
    ["1::2::3", 'ParseAddr("1::2::3"): multiple :: in address (at ":3")'],
    ["1:2", 'ParseAddr("1:2"): address string too short'],
    ["1:2:3:4:5:6:7:8::", 'ParseAddr("1:2:3:4:5:6:7:8::"): the :: must expand to at least one field of zeros'],
    ["1:2:3:4::5:6:7:8", 'ParseAddr("1:2:3:4::5:6:7:8"): the :: must expand to at least one field of zeros'],
    [":1", 'ParseAddr(":1"): each colon-separated field must have at least one digit (at ":1")'],
    ["1:", 'ParseAddr("1:"): colon must be followed by more characters (at ":")'],
    ["1.2.3.4:80", 'ParseAddr("1.2.3.4:80"): unexpected character (at ":80")'],
    ["::1.2.3.04", 'ParseAddr("::1.2.3.04"): IPv4 field has octet with leading zero'],
    ["1:2:1.2.3.4", 'ParseAddr("1:2:1.2.3.4"): embedded IPv4 address must replace the final 2 fields of the address (at "1.2.3.4")'],
  ];
  for (const [s, msg] of cases) {
    const r = parseAddr(s);
    assert.ok(!r.ok, `${s} should be rejected`);
    assert.equal(r.error, msg);
  }
});

test("netip.ParsePrefix", () => {
  for (const s of ["10.0.0.0/8", "10.1.2.3/16", "0.0.0.0/0", "1.2.3.4/32", "::/0", "2001:db8::/128", "::ffff:1.2.3.4/100"]) {
    assert.ok(parsePrefix(s).ok, s);
  }
  const cases: Array<[string, string]> = [
    ["10.0.0.0", 'netip.ParsePrefix("10.0.0.0"): no \'/\''],
    ["10.0.0.0/33", 'netip.ParsePrefix("10.0.0.0/33"): prefix length out of range'],
    ["::/129", 'netip.ParsePrefix("::/129"): prefix length out of range'],
    ["10.0.0.0/-1", 'netip.ParsePrefix("10.0.0.0/-1"): bad bits after slash: "-1"'],
    ["10.0.0.0/+8", 'netip.ParsePrefix("10.0.0.0/+8"): bad bits after slash: "+8"'],
    ["10.0.0.0/08", 'netip.ParsePrefix("10.0.0.0/08"): bad bits after slash: "08"'],
    ["10.0.0.0/", 'netip.ParsePrefix("10.0.0.0/"): bad bits after slash: ""'],
    ["10.0.0.0/x", 'netip.ParsePrefix("10.0.0.0/x"): bad bits after slash: "x"'],
    ["fe80::%eth0/64", 'netip.ParsePrefix("fe80::%eth0/64"): IPv6 zones cannot be present in a prefix'],
    ["10.0.0/8", 'netip.ParsePrefix("10.0.0/8"): ParseAddr("10.0.0"): IPv4 address too short'],
    ["1.2.3.4/8/8", 'netip.ParsePrefix("1.2.3.4/8/8"): ParseAddr("1.2.3.4/8"): unexpected character (at "/8")'],
  ];
  for (const [s, msg] of cases) {
    const r = parsePrefix(s);
    assert.ok(!r.ok, `${s} should be rejected`);
    assert.equal(r.error, msg);
  }
  const v = parsePrefix("10.1.2.3/16");
  assert.ok(v.ok && v.value.bits === 16 && v.value.addr.bytes.join(".") === "10.1.2.3");
});

test("strconv.ParseUint(s, 10, 32)", () => {
  assert.deepEqual(parseUint32("0"), { ok: true, value: 0 });
  assert.deepEqual(parseUint32("00080"), { ok: true, value: 80 });
  assert.deepEqual(parseUint32("4294967295"), { ok: true, value: 4294967295 });
  assert.deepEqual(parseUint32("4294967296"), { ok: false, error: 'strconv.ParseUint: parsing "4294967296": value out of range' });
  assert.deepEqual(parseUint32("99999999999999999999"), { ok: false, error: 'strconv.ParseUint: parsing "99999999999999999999": value out of range' });
  for (const s of ["", "-1", "+1", "1_0", "0x10", " 1", "1.0"]) {
    assert.deepEqual(parseUint32(s), { ok: false, error: `strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax` });
  }
});

test("strconv.ParseBool", () => {
  for (const s of ["1", "t", "T", "TRUE", "true", "True"]) assert.deepEqual(parseBool(s), { ok: true, value: true });
  for (const s of ["0", "f", "F", "FALSE", "false", "False"]) assert.deepEqual(parseBool(s), { ok: true, value: false });
  for (const s of ["yes", "y", "on", "tRue", "", "truE"]) {
    assert.deepEqual(parseBool(s), { ok: false, error: `strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax` });
  }
});
