// An HTTP header map with Envoy's observable behaviour: lower-case names, pseudo-headers kept in
// front of regular headers, repeated names kept as separate entries, byteSize() = sum of name and
// value lengths (what proxy_get_header_map_size returns), setCopy = remove all then add.
//
// Values are BYTES, as in Envoy (HeaderString): a value may hold bytes that are not UTF-8 (obs-text,
// which both codecs accept: HeaderUtility::headerValueIsValid with ObsTextOption::kAllow). What can
// never reach a filter (NUL, CR, LF in a value) is refused by the stream (invalidHeaderValue).
//
// `host` is `:authority`: Envoy's request map keeps a `host` header in the :authority slot
// (source/common/http/header_map_impl.cc, "map a legacy host header to :authority"), so a lookup,
// add, replace or removal of `host` acts on :authority, and pairs list `:authority`, never `host`.

import { serializePairs, type BytePair } from "./pairs.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type HeaderValue = string | Uint8Array;

/** Envoy's LowerCaseString lowers ASCII only. */
export function asciiLower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  }
  return s;
}

function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, "utf8");
  }
  return s.length;
}

function bytesOf(v: HeaderValue): Uint8Array {
  return typeof v === "string" ? encoder.encode(v) : v;
}

function concat(a: Uint8Array, sep: number, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + 1 + b.length);
  out.set(a, 0);
  out[a.length] = sep;
  out.set(b, a.length + 1);
  return out;
}

/** NUL, CR or LF: bytes no codec lets into a header value (nghttp2_check_header_value, quiche HeaderValidator). */
export function invalidHeaderValue(v: HeaderValue): boolean {
  const b = bytesOf(v);
  for (let i = 0; i < b.length; i++) if (b[i] === 0 || b[i] === 0x0a || b[i] === 0x0d) return true;
  return false;
}

export interface HeaderMapOptions {
  /** Request maps: `host` lives in the :authority slot. */
  request?: boolean;
  /** HTTP/2 codec: a `host` after `:authority` is discarded (http2/codec_impl.cc onHeader, http2_discard_host_header). */
  http2?: boolean;
}

export class HeaderMap {
  private names: string[] = [];
  private values: Uint8Array[] = [];
  private legacyHost = false;

  /** Builds a map from (name, value) pairs as a codec inserts them; names are lower-cased. */
  static from(pairs: ReadonlyArray<readonly [string, HeaderValue]>, opts?: HeaderMapOptions): HeaderMap {
    const m = new HeaderMap();
    m.legacyHost = opts?.request === true;
    for (const [name, value] of pairs) {
      const key = m.canon(name);
      if (key === ":authority" && m.legacyHost && asciiLower(name) === "host" && opts?.http2 && m.has(":authority")) continue;
      m.add(name, value);
    }
    return m;
  }

  /** Lower-cased name; `host` is `:authority` in a request map. */
  private canon(name: string): string {
    const key = asciiLower(name);
    return this.legacyHost && key === "host" ? ":authority" : key;
  }

  get size(): number {
    return this.names.length;
  }

  /** First value of a name as bytes: what proxy_get_header_map_value returns. */
  firstBytes(name: string): Uint8Array | undefined {
    const key = this.canon(name);
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === key) return this.values[i];
    return undefined;
  }

  /** First value decoded as UTF-8 (for the host's own parsing: content-length, :path, content-type). */
  first(name: string): string | undefined {
    const b = this.firstBytes(name);
    return b === undefined ? undefined : decoder.decode(b);
  }

  /** All values joined with "," (getAllOfHeaderAsString): what request.headers.<name> returns. */
  joinedBytes(name: string): Uint8Array | undefined {
    const key = this.canon(name);
    let out: Uint8Array | undefined;
    const names = this.names;
    for (let i = 0; i < names.length; i++) {
      if (names[i] === key) out = out === undefined ? this.values[i] : concat(out, 0x2c, this.values[i]);
    }
    return out;
  }

  joined(name: string): string | undefined {
    const b = this.joinedBytes(name);
    return b === undefined ? undefined : decoder.decode(b);
  }

  has(name: string): boolean {
    return this.names.includes(this.canon(name));
  }

  /**
   * addCopy: pseudo-headers go before the first regular header. :authority is an inline header: a second one
   * (e.g. `host` added to a request that has an authority) is appended to the first with "," (insertByKey).
   */
  add(name: string, value: HeaderValue): void {
    const key = this.canon(name);
    const bytes = bytesOf(value);
    if (key === ":authority" && this.legacyHost) {
      const at = this.names.indexOf(key);
      if (at >= 0) {
        if (bytes.length > 0) this.values[at] = this.values[at].length > 0 ? concat(this.values[at], 0x2c, bytes) : bytes;
        return;
      }
    }
    if (key.charCodeAt(0) === 58 /* ':' */) {
      let i = 0;
      while (i < this.names.length && this.names[i].charCodeAt(0) === 58) i++;
      this.names.splice(i, 0, key);
      this.values.splice(i, 0, bytes);
    } else {
      this.names.push(key);
      this.values.push(bytes);
    }
  }

  remove(name: string): void {
    const key = this.canon(name);
    for (let i = this.names.length - 1; i >= 0; i--) {
      if (this.names[i] === key) {
        this.names.splice(i, 1);
        this.values.splice(i, 1);
      }
    }
  }

  /** setCopy (replace all values of the name). */
  set(name: string, value: HeaderValue): void {
    this.remove(name);
    this.add(name, value);
  }

  clear(): void {
    this.names.length = 0;
    this.values.length = 0;
  }

  byteSize(): number {
    let n = 0;
    for (let i = 0; i < this.names.length; i++) n += utf8Length(this.names[i]) + this.values[i].length;
    return n;
  }

  /** Entries with values decoded as UTF-8 (reports and upstream views). */
  entries(): Array<[string, string]> {
    return this.names.map((n, i) => [n, decoder.decode(this.values[i])]);
  }

  /** Entries with raw values. */
  byteEntries(): Array<[string, Uint8Array]> {
    return this.names.map((n, i) => [n, this.values[i]]);
  }

  /** Distinct names in first-appearance order. */
  distinctNames(): string[] {
    return [...new Set(this.names)];
  }

  /** The pairs serialization of every entry (pseudo-headers first). */
  serialize(): Uint8Array {
    const pairs: BytePair[] = new Array(this.names.length);
    for (let i = 0; i < this.names.length; i++) pairs[i] = [encoder.encode(this.names[i]), this.values[i]];
    return serializePairs(pairs);
  }

  clone(): HeaderMap {
    const m = new HeaderMap();
    m.names = this.names.slice();
    m.values = this.values.slice();
    m.legacyHost = this.legacyHost;
    return m;
  }
}
