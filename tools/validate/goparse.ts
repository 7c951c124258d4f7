// Re-implementations of the Go standard-library parsers that istiod's validation relies on, with the same
// acceptance rules and error texts (Go 1.22+):
//   net/netip.ParseAddr, net/netip.ParsePrefix, strconv.ParseUint(s, 10, 32), strconv.ParseBool, strconv.Quote.

/** Go strconv.Quote, close enough for error messages (ASCII escapes as Go writes them). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (c === 7) out += "\\a";
    else if (c === 8) out += "\\b";
    else if (c === 12) out += "\\f";
    else if (c === 10) out += "\\n";
    else if (c === 13) out += "\\r";
    else if (c === 9) out += "\\t";
    else if (c === 11) out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else if (c === 0xfffd) out += "\\ufffd";
    else out += ch;
  }
  return out + '"';
}

export type GoResult<T> = { ok: true; value: T } | { ok: false; error: string };

function addrError(input: string, msg: string, at = ""): GoResult<never> {
  return {
    ok: false,
    error: at !== "" ? `ParseAddr(${goQuote(input)}): ${msg} (at ${goQuote(at)})` : `ParseAddr(${goQuote(input)}): ${msg}`,
  };
}

export interface ParsedAddr {
  is4: boolean;
  /** 4 or 16 bytes. */
  bytes: number[];
  zone: string;
}

function parseIPv4Fields(input: string, off: number, end: number, fields: number[]): string | null {
  let val = 0;
  let pos = 0;
  let digLen = 0;
  const s = input.slice(off, end);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digLen === 1 && val === 0) return addrErrorText(input, "IPv4 field has octet with leading zero");
      val = val * 10 + (c - 48);
      digLen++;
      if (val > 255) return addrErrorText(input, "IPv4 field has value >255");
    } else if (s[i] === ".") {
      if (i === 0 || i === s.length - 1 || s[i - 1] === ".") {
        return addrErrorText(input, "IPv4 field must have at least one digit", s.slice(i));
      }
      if (pos === 3) return addrErrorText(input, "IPv4 address too long");
      fields[pos] = val;
      pos++;
      val = 0;
      digLen = 0;
    } else {
      return addrErrorText(input, "unexpected character", s.slice(i));
    }
  }
  if (pos < 3) return addrErrorText(input, "IPv4 address too short");
  fields[3] = val;
  return null;
}

function addrErrorText(input: string, msg: string, at = ""): string {
  return (addrError(input, msg, at) as { error: string }).error;
}

function parseIPv4(input: string): GoResult<ParsedAddr> {
  const fields = [0, 0, 0, 0];
  const err = parseIPv4Fields(input, 0, input.length, fields);
  if (err !== null) return { ok: false, error: err };
  return { ok: true, value: { is4: true, bytes: fields, zone: "" } };
}

function isHex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 97 + 10;
  if (c >= 65 && c <= 70) return c - 65 + 10;
  return -1;
}

function parseIPv6(input: string): GoResult<ParsedAddr> {
  let s = input;
  let zone = "";
  const pct = s.indexOf("%");
  if (pct !== -1) {
    zone = s.slice(pct + 1);
    s = s.slice(0, pct);
    if (zone === "") return addrError(input, "zone must be a non-empty string");
  }
  const ip = new Array<number>(16).fill(0);
  let ellipsis = -1;
  if (s.length >= 2 && s[0] === ":" && s[1] === ":") {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return { ok: true, value: { is4: false, bytes: ip, zone } };
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    for (; off < s.length; off++) {
      const h = isHex(s.charCodeAt(off));
      if (h < 0) break;
      acc = acc * 16 + h;
      if (off > 3) return addrError(input, "each colon-separated field must have at most 4 hex digits", s);
      if (acc > 0xffff) return addrError(input, "IPv6 field has value >=2^16", s);
    }
    if (off === 0) return addrError(input, "each colon-separated field must have at least one digit", s);
    if (off < s.length && s[off] === ".") {
      if (ellipsis < 0 && i !== 12) {
        return addrError(input, "embedded IPv4 address must replace the final 2 fields of the address", s);
      }
      if (i + 4 > 16) {
        return addrError(input, "too many hex fields to fit an embedded IPv4 at the end of the address", s);
      }
      let end = input.length;
      if (zone.length > 0) end -= zone.length + 1;
      const fields = [0, 0, 0, 0];
      const err = parseIPv4Fields(input, end - s.length, end, fields);
      if (err !== null) return { ok: false, error: err };
      for (let k = 0; k < 4; k++) ip[i + k] = fields[k];
      s = "";
      i += 4;
      break;
    }
    ip[i] = acc >> 8;
    ip[i + 1] = acc & 0xff;
    i += 2;
    s = s.slice(off);
    if (s.length === 0) break;
    if (s[0] !== ":") return addrError(input, "unexpected character, want colon", s);
    if (s.length === 1) return addrError(input, "colon must be followed by more characters", s);
    s = s.slice(1);
    if (s[0] === ":") {
      if (ellipsis >= 0) return addrError(input, "multiple :: in address", s);
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) return addrError(input, "trailing garbage after address", s);
  if (i < 16) {
    if (ellipsis < 0) return addrError(input, "address string too short");
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j];
    for (let j = ellipsis; j < ellipsis + n; j++) ip[j] = 0;
  } else if (ellipsis >= 0) {
    return addrError(input, "the :: must expand to at least one field of zeros", s);
  }
  return { ok: true, value: { is4: false, bytes: ip, zone } };
}

/** Go net/netip.ParseAddr. */
export function parseAddr(s: string): GoResult<ParsedAddr> {
  for (let i = 0; i < s.length; i++) {
    switch (s[i]) {
      case ".":
        return parseIPv4(s);
      case ":":
        return parseIPv6(s);
      case "%":
        return addrError(s, "missing IPv6 address");
    }
  }
  return addrError(s, "unable to parse IP");
}

export interface ParsedPrefix {
  addr: ParsedAddr;
  bits: number;
}

function prefixError(input: string, msg: string): GoResult<never> {
  return { ok: false, error: `netip.ParsePrefix(${goQuote(input)}): ${msg}` };
}

/** Go net/netip.ParsePrefix (host bits are not required to be zero; IPv6 zones are rejected). */
export function parsePrefix(s: string): GoResult<ParsedPrefix> {
  const i = s.lastIndexOf("/");
  if (i < 0) return prefixError(s, "no '/'");
  const ip = parseAddr(s.slice(0, i));
  if (!ip.ok) return prefixError(s, ip.error);
  if (!ip.value.is4 && ip.value.zone !== "") return prefixError(s, "IPv6 zones cannot be present in a prefix");
  const bitsStr = s.slice(i + 1);
  if (bitsStr.length > 1 && (bitsStr[0] < "1" || bitsStr[0] > "9")) {
    return prefixError(s, "bad bits after slash: " + goQuote(bitsStr));
  }
  const atoi = goAtoi(bitsStr);
  if (atoi === null) return prefixError(s, "bad bits after slash: " + goQuote(bitsStr));
  const maxBits = ip.value.is4 ? 32 : 128;
  if (atoi < 0 || atoi > maxBits) return prefixError(s, "prefix length out of range");
  return { ok: true, value: { addr: ip.value, bits: atoi } };
}

/** strconv.Atoi for the cases ParsePrefix can reach (optional sign, decimal digits, int64 range). */
function goAtoi(s: string): number | null {
  if (!/^[+-]?[0-9]+$/.test(s)) return null;
  const v = Number(s);
  if (!Number.isSafeInteger(v)) return null;
  return v;
}

/** Go strconv.ParseUint(s, 10, 32). */
export function parseUint32(s: string): GoResult<number> {
  if (s === "" || !/^[0-9]+$/.test(s)) {
    return { ok: false, error: `strconv.ParseUint: parsing ${goQuote(s)}: invalid syntax` };
  }
  const stripped = s.replace(/^0+(?=.)/, "");
  if (stripped.length > 10 || Number(stripped) > 0xffffffff) {
    return { ok: false, error: `strconv.ParseUint: parsing ${goQuote(s)}: value out of range` };
  }
  return { ok: true, value: Number(stripped) };
}

/** Go strconv.ParseBool. */
export function parseBool(s: string): GoResult<boolean> {
  switch (s) {
    case "1":
    case "t":
    case "T":
    case "TRUE":
    case "true":
    case "True":
      return { ok: true, value: true };
    case "0":
    case "f":
    case "F":
    case "FALSE":
    case "false":
    case "False":
      return { ok: true, value: false };
  }
  return { ok: false, error: `strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax` };
}

/** Length of a string in UTF-8 bytes (Go's len()). */
export function goLen(s: string): number {
  return Buffer.byteLength(s, "utf8");
}
