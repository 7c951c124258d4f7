// IP parsing from Envoy's address strings: "a.b.c.d:port", "[v6]:port" (and bare addresses).
// The address bytes (4 or 16, network order) go to a caller buffer; the port, when present,
// to lastPort(). Anything else (pipes, scope ids, junk) is "not an IP".

let port: i32 = -1;

/** Port of the last parsed address, or -1 when it had none. */
export function lastPort(): i32 {
  return port;
}

/** Parses into out (16 bytes). Returns 4 or 16 (address length), or 0 when not an IP. */
export function parseAddress(p: usize, n: usize, out: usize): u32 {
  port = -1;
  if (n == 0) return 0;
  if (load<u8>(p) == 91) {
    // [v6]:port
    let close: usize = 0;
    while (close < n && load<u8>(p + close) != 93) close++;
    if (close >= n) return 0;
    if (!parseV6(p + 1, close - 1, out)) return 0;
    if (close + 1 < n) {
      if (load<u8>(p + close + 1) != 58 || !parsePort(p + close + 2, n - close - 2)) return 0;
    } else if (close + 1 != n) return 0;
    return 16;
  }
  let colons = 0;
  let lastColon: usize = 0;
  for (let i: usize = 0; i < n; i++) {
    if (load<u8>(p + i) == 58) {
      colons++;
      lastColon = i;
    }
  }
  if (colons == 0) return parseV4(p, n, out) ? 4 : 0;
  if (colons == 1) {
    if (!parseV4(p, lastColon, out)) return 0;
    return parsePort(p + lastColon + 1, n - lastColon - 1) ? 4 : 0;
  }
  return parseV6(p, n, out) ? 16 : 0;
}

function parsePort(p: usize, n: usize): bool {
  if (n == 0 || n > 5) return false;
  let v: i32 = 0;
  for (let i: usize = 0; i < n; i++) {
    const d = <i32>load<u8>(p + i) - 48;
    if (d < 0 || d > 9) return false;
    v = v * 10 + d;
  }
  if (v > 65535) return false;
  port = v;
  return true;
}

export function parseV4(p: usize, n: usize, out: usize): bool {
  let part = 0;
  let digits = 0;
  let v: u32 = 0;
  for (let i: usize = 0; i <= n; i++) {
    const c: u32 = i < n ? <u32>load<u8>(p + i) : 46;
    if (c == 46) {
      if (digits == 0 || part > 3) return false;
      store<u8>(out + part, <u8>v);
      part++;
      digits = 0;
      v = 0;
    } else {
      const d = c - 48;
      if (d > 9 || ++digits > 3) return false;
      v = v * 10 + d;
      if (v > 255) return false;
    }
  }
  return part == 4;
}

function hexDigit(c: u32): i32 {
  if (c - 48 < 10) return <i32>(c - 48);
  const l = c | 32;
  if (l - 97 < 6) return <i32>(l - 87);
  return -1;
}

/** RFC 4291 text: up to 8 groups of 1-4 hex digits, one optional "::", optional dotted-quad tail. */
export function parseV6(p: usize, n: usize, out: usize): bool {
  if (n < 2) return false;
  memory.fill(out, 0, 16);
  let groups = 0; // 16-bit groups written
  let gap = -1; // group index where "::" was
  let i: usize = 0;
  if (load<u8>(p) == 58) {
    if (load<u8>(p + 1) != 58) return false;
    gap = 0;
    i = 2;
    if (i == n) return true; // "::"
  }
  for (;;) {
    // One group, or a dotted quad in the last 32 bits.
    const start = i;
    let v: u32 = 0;
    let digits = 0;
    while (i < n && digits < 5) {
      const d = hexDigit(load<u8>(p + i));
      if (d < 0) break;
      v = (v << 4) | <u32>d;
      digits++;
      i++;
    }
    if (i < n && load<u8>(p + i) == 46) {
      if (groups > 6) return false;
      if (!parseV4(p + start, n - start, out + (groups << 1))) return false;
      groups += 2;
      i = n;
      break;
    }
    if (digits == 0 || digits > 4 || groups >= 8) return false;
    store<u8>(out + (groups << 1), <u8>(v >> 8));
    store<u8>(out + (groups << 1) + 1, <u8>v);
    groups++;
    if (i == n) break;
    if (load<u8>(p + i) != 58) return false;
    i++;
    if (i < n && load<u8>(p + i) == 58) {
      if (gap >= 0) return false;
      gap = groups;
      i++;
      if (i == n) break;
    } else if (i == n) {
      return false; // trailing single ':'
    }
  }
  if (gap < 0) return groups == 8;
  if (groups > 7) return false;
  // Move the groups after "::" to the end.
  const tail = (groups - gap) << 1;
  const from = out + (<usize>gap << 1);
  const to = out + 16 - <usize>tail;
  memory.copy(to, from, <usize>tail);
  memory.fill(from, 0, <usize>(to - from));
  return true;
}
