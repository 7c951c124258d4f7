// A small JSON scanner for pluginConfig: it validates the whole text, finds the top-level string
// members "policy", "engine", "mode" (docs/tcp.md), the observability options ("policyCounters",
// "decisionLog", "denyHeader", docs/filter-io.md) and the delivery members ("role", "rootDigest",
// "namespace", docs/delivery.md), and skips every other member whatever its type. Nesting is
// followed with an explicit bit stack (no recursion) and limited to MAX_DEPTH levels, so a hostile
// config cannot exhaust the stack. The policy string is base64-decoded while it is scanned, in
// place: the blob is written from the start of the text (config/base64.ts), and nothing the
// scanner still needs lies behind its read position ("engine" is classified when it is read).
import { Base64 } from "./base64";

export const MAX_DEPTH: i32 = 32;

export enum JsonError {
  None = 0,
  NotObject,
  Syntax,
  TooDeep,
  DuplicateKey,
  NotString,
  TooLong,
  NotBool,
}

/** A JSON string member: the raw bytes between the quotes, and whether they contain escapes. */
export class JsonString {
  found: bool = false;
  start: usize = 0;
  len: usize = 0;
  escaped: bool = false;
}

export namespace Engine {
  export const Indexed: i32 = 0;
  export const Linear: i32 = 1;
  /** Present, but neither. */
  export const Other: i32 = -1;
}

export class PluginJson {
  error: JsonError = JsonError.None;
  /** Byte offset where the scan stopped on an error. */
  at: usize = 0;
  /** The member that was not a string (NotString) or repeated (DuplicateKey). */
  member: string = "";
  policyFound: bool = false;
  /** The policy string is complete, valid base64 (its bytes are at the start of the text). */
  policyValid: bool = false;
  /** Decoded bytes, and characters of the string (after unescaping). */
  policyLen: usize = 0;
  policyChars: usize = 0;
  engineFound: bool = false;
  engine: i32 = Engine.Indexed;
  /** The engine string (for the error message) when it is neither. */
  engineText: string = "";
  /** Delivery members (docs/delivery.md), copied when read: "role", "rootDigest", "namespace".
   *  null = absent; longer than MAX_TEXT bytes = TooLong. */
  role: string | null = null;
  rootDigest: string | null = null;
  namespace: string | null = null;
  /** Observability options: the index of the value in its word list, -1 when it is none of them
   *  (its text in optionText), or the default when absent. */
  countersFound: bool = false;
  counters: i32 = 0;
  logFound: bool = false;
  decisionLog: i32 = 0;
  denyHeaderFound: bool = false;
  denyHeader: bool = false;
  /** "mode": 0 http (default), 1 network (MODE_WORDS), -1 neither. */
  modeFound: bool = false;
  mode: i32 = 0;
  /** The member whose value is not one of its words, and that value. */
  optionMember: string = "";
  optionText: string = "";
}

/** Longest delivery member value kept (a namespace name is at most 63 bytes). */
export const MAX_TEXT: usize = 256;

/** The values of "policyCounters" and "decisionLog", in the order of their codes. */
export const COUNTER_WORDS: StaticArray<string> = ["off", "policy", "rule"];
export const LOG_WORDS: StaticArray<string> = ["off", "trace", "debug", "info", "warn", "error", "critical"];
/** The values of "mode": an HTTP filter, or a network filter deciding connections (docs/tcp.md). */
export const MODE_WORDS: StaticArray<string> = ["http", "network"];

class Scanner {
  pos: usize;
  constructor(public base: usize, public end: usize) {
    this.pos = base;
  }

  @inline peek(): u32 {
    return this.pos < this.end ? <u32>load<u8>(this.pos) : 0xffffffff;
  }

  ws(): void {
    while (this.pos < this.end) {
      const c = load<u8>(this.pos);
      if (c != 32 && c != 9 && c != 10 && c != 13) return;
      this.pos++;
    }
  }

  /** Scans a string at pos (which must be '"'); fills out. */
  string(out: JsonString): bool {
    if (this.peek() != 34) return false;
    this.pos++;
    out.start = this.pos;
    out.escaped = false;
    while (this.pos < this.end) {
      const c = <u32>load<u8>(this.pos);
      if (c == 34) {
        out.len = this.pos - out.start;
        this.pos++;
        return true;
      }
      if (c < 0x20) return false;
      if (c == 92) {
        out.escaped = true;
        this.pos++;
        if (this.pos >= this.end) return false;
        const e = <u32>load<u8>(this.pos);
        if (e == 117) {
          if (this.end - this.pos < 5) return false;
          for (let k: usize = 1; k <= 4; k++) if (hexValue(load<u8>(this.pos + k)) < 0) return false;
          this.pos += 5;
          continue;
        }
        if (e != 34 && e != 92 && e != 47 && e != 98 && e != 102 && e != 110 && e != 114 && e != 116) return false;
      }
      this.pos++;
    }
    return false;
  }

  literal(word: string): bool {
    const n = <usize>word.length;
    if (this.end - this.pos < n) return false;
    for (let i: usize = 0; i < n; i++) {
      if (<u32>load<u8>(this.pos + i) != <u32>word.charCodeAt(<i32>i)) return false;
    }
    this.pos += n;
    return true;
  }

  digits(): usize {
    const s = this.pos;
    while (this.pos < this.end && <u32>load<u8>(this.pos) - 48 < 10) this.pos++;
    return this.pos - s;
  }

  number(): bool {
    if (this.peek() == 45) this.pos++;
    const c = this.peek();
    if (c == 48) this.pos++;
    else if (c - 49 < 9) this.digits();
    else return false;
    if (this.peek() == 46) {
      this.pos++;
      if (this.digits() == 0) return false;
    }
    const e = this.peek();
    if (e == 101 || e == 69) {
      this.pos++;
      const s = this.peek();
      if (s == 43 || s == 45) this.pos++;
      if (this.digits() == 0) return false;
    }
    return true;
  }

  /** A scalar value at pos: string, number, true, false or null. */
  scalar(): bool {
    const c = this.peek();
    if (c == 34) return this.string(SKIPPED);
    if (c == 116) return this.literal("true");
    if (c == 102) return this.literal("false");
    if (c == 110) return this.literal("null");
    return this.number();
  }

  /** Skips any value. Containers are tracked in a bit stack: bit set = object, clear = array. */
  skipValue(result: PluginJson): bool {
    let stack: u64 = 0;
    let depth: i32 = 0;
    for (;;) {
      this.ws();
      const c = this.peek();
      let opened = false;
      if (c == 123 || c == 91) {
        // depth counts the enclosing top-level object too.
        if (depth + 2 > MAX_DEPTH) {
          result.error = JsonError.TooDeep;
          return false;
        }
        stack = (stack << 1) | (c == 123 ? 1 : 0);
        depth++;
        this.pos++;
        this.ws();
        const close: u32 = c == 123 ? 125 : 93;
        if (this.peek() == close) {
          this.pos++;
          stack >>= 1;
          depth--;
        } else {
          if (c == 123 && !this.memberKey()) return this.syntax(result);
          opened = true;
        }
      } else if (!this.scalar()) {
        return this.syntax(result);
      }
      if (opened) continue;
      // After a value: close containers or move to the next element.
      for (;;) {
        if (depth == 0) return true;
        this.ws();
        const d = this.peek();
        const inObject = (stack & 1) != 0;
        if (d == 44) {
          this.pos++;
          if (inObject) {
            this.ws();
            if (!this.memberKey()) return this.syntax(result);
          }
          break;
        }
        if ((inObject && d == 125) || (!inObject && d == 93)) {
          this.pos++;
          stack >>= 1;
          depth--;
          continue;
        }
        return this.syntax(result);
      }
    }
    return false;
  }

  /** `"key" :` inside a skipped object. */
  memberKey(): bool {
    if (!this.string(SKIPPED)) return false;
    this.ws();
    if (this.peek() != 58) return false;
    this.pos++;
    return true;
  }

  syntax(result: PluginJson): bool {
    if (result.error == JsonError.None) result.error = JsonError.Syntax;
    return false;
  }
}

const SKIPPED = new JsonString();

function hexValue(c: u32): i32 {
  if (c - 48 < 10) return <i32>(c - 48);
  const l = c | 32;
  if (l - 97 < 6) return <i32>(l - 87);
  return -1;
}

/** True when the raw JSON string s spells `word` (escapes decoded). */
function keyIs(s: JsonString, word: string): bool {
  if (!s.escaped) {
    if (s.len != <usize>word.length) return false;
    for (let i: usize = 0; i < s.len; i++) {
      if (<u32>load<u8>(s.start + i) != <u32>word.charCodeAt(<i32>i)) return false;
    }
    return true;
  }
  const tmp = heap.alloc(s.len > 0 ? s.len : 1);
  const n = jsonUnescape(s.start, s.len, tmp);
  let same = n == <isize>word.length;
  for (let i: isize = 0; same && i < n; i++) {
    same = <u32>load<u8>(tmp + i) == <u32>word.charCodeAt(<i32>i);
  }
  heap.free(tmp);
  return same;
}

/** Decodes the escapes of a scanned (hence syntactically valid) JSON string into dst, which must
 *  hold at least len bytes (decoding never grows). Returns the decoded length, or -1 for a lone
 *  UTF-16 surrogate. */
export function jsonUnescape(src: usize, len: usize, dst: usize): isize {
  let i: usize = 0;
  let o: usize = 0;
  while (i < len) {
    const c = <u32>load<u8>(src + i);
    if (c != 92) {
      store<u8>(dst + o++, c);
      i++;
      continue;
    }
    const e = <u32>load<u8>(src + i + 1);
    i += 2;
    if (e != 117) {
      let v = e;
      if (e == 98) v = 8;
      else if (e == 102) v = 12;
      else if (e == 110) v = 10;
      else if (e == 114) v = 13;
      else if (e == 116) v = 9;
      store<u8>(dst + o++, v);
      continue;
    }
    let cp = hex4(src + i);
    i += 4;
    if (cp - 0xdc00 < 0x400) return -1;
    if (cp - 0xd800 < 0x400) {
      if (i + 6 > len || load<u8>(src + i) != 92 || load<u8>(src + i + 1) != 117) return -1;
      const lo = hex4(src + i + 2);
      if (lo - 0xdc00 >= 0x400) return -1;
      i += 6;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    // \uXXXX is 6 bytes and a surrogate pair 12: the UTF-8 form (<= 3 and 4 bytes) never outgrows them.
    if (cp < 0x80) {
      store<u8>(dst + o++, cp);
    } else if (cp < 0x800) {
      store<u8>(dst + o++, 0xc0 | (cp >> 6));
      store<u8>(dst + o++, 0x80 | (cp & 63));
    } else if (cp < 0x10000) {
      store<u8>(dst + o++, 0xe0 | (cp >> 12));
      store<u8>(dst + o++, 0x80 | ((cp >> 6) & 63));
      store<u8>(dst + o++, 0x80 | (cp & 63));
    } else {
      store<u8>(dst + o++, 0xf0 | (cp >> 18));
      store<u8>(dst + o++, 0x80 | ((cp >> 12) & 63));
      store<u8>(dst + o++, 0x80 | ((cp >> 6) & 63));
      store<u8>(dst + o++, 0x80 | (cp & 63));
    }
  }
  return <isize>o;
}

function hex4(p: usize): u32 {
  let v: u32 = 0;
  for (let k: usize = 0; k < 4; k++) v = (v << 4) | <u32>hexValue(load<u8>(p + k));
  return v;
}

/** Scans pluginConfig JSON text. */
export function scanPluginJson(base: usize, len: usize): PluginJson {
  const r = new PluginJson();
  const s = new Scanner(base, base + len);
  s.ws();
  if (s.peek() != 123) {
    r.error = JsonError.NotObject;
    r.at = 0;
    return r;
  }
  s.pos++;
  s.ws();
  if (s.peek() == 125) s.pos++;
  else if (!members(r, s)) return r;
  s.ws();
  if (s.pos != s.end) return fail(r, s);
  return r;
}

/** The members of the top-level object, through its closing brace. */
function members(r: PluginJson, s: Scanner): bool {
  const key = new JsonString();
  let more = true;
  while (more) {
    s.ws();
    if (!s.string(key)) return failed(r, s);
    s.ws();
    if (s.peek() != 58) return failed(r, s);
    s.pos++;
    s.ws();
    const isPolicy = keyIs(key, "policy");
    if (isPolicy || keyIs(key, "engine")) {
      const seen = isPolicy ? r.policyFound : r.engineFound;
      if (seen || s.peek() != 34) {
        r.error = seen ? JsonError.DuplicateKey : JsonError.NotString;
        r.member = isPolicy ? "policy" : "engine";
        r.at = s.pos - s.base;
        return false;
      }
      if (!(isPolicy ? decodePolicy(r, s) : readEngine(r, s))) return failed(r, s);
    } else if (keyIs(key, "role") || keyIs(key, "rootDigest") || keyIs(key, "namespace")) {
      if (!readTextMember(r, s, key)) return false;
    } else if (keyIs(key, "mode")) {
      if (r.modeFound || s.peek() != 34) {
        r.error = r.modeFound ? JsonError.DuplicateKey : JsonError.NotString;
        r.member = "mode";
        r.at = s.pos - s.base;
        return false;
      }
      const v = readChoice(r, s, "mode", MODE_WORDS);
      if (v == -2) return failed(r, s);
      r.modeFound = true;
      r.mode = v;
    } else if (keyIs(key, "policyCounters") || keyIs(key, "decisionLog")) {
      const counters = keyIs(key, "policyCounters");
      const name = counters ? "policyCounters" : "decisionLog";
      if ((counters ? r.countersFound : r.logFound) || s.peek() != 34) {
        r.error = (counters ? r.countersFound : r.logFound) ? JsonError.DuplicateKey : JsonError.NotString;
        r.member = name;
        r.at = s.pos - s.base;
        return false;
      }
      const v = readChoice(r, s, name, counters ? COUNTER_WORDS : LOG_WORDS);
      if (v == -2) return failed(r, s);
      if (counters) {
        r.countersFound = true;
        r.counters = v;
      } else {
        r.logFound = true;
        r.decisionLog = v;
      }
    } else if (keyIs(key, "denyHeader")) {
      const b = readBool(s);
      if (r.denyHeaderFound || b < 0) {
        r.error = r.denyHeaderFound ? JsonError.DuplicateKey : JsonError.NotBool;
        r.member = "denyHeader";
        r.at = s.pos - s.base;
        return false;
      }
      r.denyHeaderFound = true;
      r.denyHeader = b == 1;
    } else if (!s.skipValue(r)) {
      r.at = s.pos - s.base;
      return false;
    }
    s.ws();
    const c = s.peek();
    if (c != 44 && c != 125) return failed(r, s);
    s.pos++;
    more = c == 44;
  }
  return true;
}

/** A delivery member's string at pos, copied now (a policy decoded later may overwrite it). */
function readTextMember(r: PluginJson, s: Scanner, key: JsonString): bool {
  const name = keyIs(key, "role") ? "role" : keyIs(key, "rootDigest") ? "rootDigest" : "namespace";
  const seen = name == "role" ? r.role !== null : name == "rootDigest" ? r.rootDigest !== null : r.namespace !== null;
  if (seen || s.peek() != 34) {
    r.error = seen ? JsonError.DuplicateKey : JsonError.NotString;
    r.member = name;
    r.at = s.pos - s.base;
    return false;
  }
  const v = new JsonString();
  if (!s.string(v)) return failed(r, s);
  if (v.len > MAX_TEXT) {
    r.error = JsonError.TooLong;
    r.member = name;
    r.at = v.start - s.base;
    return false;
  }
  let p = v.start;
  let n = <isize>v.len;
  let tmp: usize = 0;
  if (v.escaped) {
    tmp = heap.alloc(v.len);
    n = jsonUnescape(v.start, v.len, tmp);
    p = tmp;
  }
  if (n < 0) {
    if (tmp != 0) heap.free(tmp);
    return failed(r, s);
  }
  const text = String.UTF8.decodeUnsafe(p, <usize>n);
  if (tmp != 0) heap.free(tmp);
  if (name == "role") r.role = text;
  else if (name == "rootDigest") r.rootDigest = text;
  else r.namespace = text;
  return true;
}

/** A string's bytes, unescaped into a temporary (freed with `done`) when it has escapes;
 *  n < 0 when an escape is invalid. */
class StringBytes {
  p: usize = 0;
  n: isize = 0;
  tmp: usize = 0;

  constructor(v: JsonString) {
    this.p = v.start;
    this.n = <isize>v.len;
    if (v.escaped) {
      this.tmp = heap.alloc(v.len);
      this.n = jsonUnescape(v.start, v.len, this.tmp);
      this.p = this.tmp;
    }
  }

  /** Up to 64 bytes as text, for an error message. */
  text(): string {
    return String.UTF8.decodeUnsafe(this.p, this.n < 0 ? 0 : min(<usize>this.n, 64));
  }

  done(): void {
    if (this.tmp != 0) heap.free(this.tmp);
  }
}

/** The "engine" string at pos: classified now, before the policy may overwrite it. */
function readEngine(r: PluginJson, s: Scanner): bool {
  const v = new JsonString();
  if (!s.string(v)) return false;
  r.engineFound = true;
  const b = new StringBytes(v);
  if (b.n >= 0 && bytesAre(b.p, <usize>b.n, "linear")) r.engine = Engine.Linear;
  else if (b.n >= 0 && bytesAre(b.p, <usize>b.n, "indexed")) r.engine = Engine.Indexed;
  else {
    r.engine = Engine.Other;
    r.engineText = b.text();
  }
  b.done();
  return true;
}

/** A string member read now (the policy may overwrite it later): the index of its value in
 *  `words`, -1 when it is none of them (recorded for the error message), -2 on bad JSON. */
function readChoice(r: PluginJson, s: Scanner, member: string, words: StaticArray<string>): i32 {
  const v = new JsonString();
  if (!s.string(v)) return -2;
  const b = new StringBytes(v);
  let found: i32 = -1;
  for (let i = 0; i < words.length && b.n >= 0; i++) {
    if (bytesAre(b.p, <usize>b.n, unchecked(words[i]))) found = i;
  }
  if (found < 0 && r.optionMember.length == 0) {
    r.optionMember = member;
    r.optionText = b.text();
  }
  b.done();
  return found;
}

/** `true` (1) or `false` (0) at pos, consumed; -1 for any other value (not consumed). */
function readBool(s: Scanner): i32 {
  if (s.end - s.pos >= 4 && bytesAre(s.pos, 4, "true")) {
    s.pos += 4;
    return 1;
  }
  if (s.end - s.pos >= 5 && bytesAre(s.pos, 5, "false")) {
    s.pos += 5;
    return 0;
  }
  return -1;
}

/** The "policy" string at pos, base64-decoded to the start of the text as it is scanned. The JSON
 *  syntax of the string is checked to its end even when the base64 is invalid. */
function decodePolicy(r: PluginJson, s: Scanner): bool {
  s.pos++;
  const d = new Base64(s.base, s.end);
  let open = true;
  while (open) {
    s.pos += d.quads(s.pos, s.end);
    if (s.pos >= s.end) return false;
    const c = <u32>load<u8>(s.pos);
    if (c == 34) {
      open = false;
    } else if (c < 0x20) {
      return false;
    } else if (c == 92) {
      if (s.end - s.pos < 2) return false;
      const e = <u32>load<u8>(s.pos + 1);
      if (e == 117) {
        if (s.end - s.pos < 6) return false;
        let v: u32 = 0;
        for (let k: usize = 2; k < 6; k++) {
          const h = hexValue(load<u8>(s.pos + k));
          if (h < 0) return false;
          v = (v << 4) | <u32>h;
        }
        d.char(v);
        s.pos += 4;
      } else {
        const v = simpleEscape(e);
        if (v < 0) return false;
        d.char(<u32>v);
      }
      s.pos++;
    } else {
      d.char(c);
    }
    s.pos++;
  }
  r.policyFound = true;
  r.policyValid = d.finish();
  r.policyLen = d.length;
  r.policyChars = d.chars;
  return true;
}

/** The character of a one-letter escape (\" \\ \/ \b \f \n \r \t), or -1. */
function simpleEscape(e: u32): i32 {
  if (e == 34 || e == 92 || e == 47) return <i32>e;
  if (e == 98) return 8;
  if (e == 102) return 12;
  if (e == 110) return 10;
  if (e == 114) return 13;
  if (e == 116) return 9;
  return -1;
}

function bytesAre(p: usize, n: usize, word: string): bool {
  if (n != <usize>word.length) return false;
  for (let i: usize = 0; i < n; i++) {
    if (<u32>load<u8>(p + i) != <u32>word.charCodeAt(<i32>i)) return false;
  }
  return true;
}

function failed(r: PluginJson, s: Scanner): bool {
  fail(r, s);
  return false;
}

function fail(r: PluginJson, s: Scanner): PluginJson {
  if (r.error == JsonError.None) r.error = JsonError.Syntax;
  r.at = s.pos - s.base;
  return r;
}
