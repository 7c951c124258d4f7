// An HTTP header map with Envoy's observable behaviour: lower-case names, pseudo-headers kept in
// front of regular headers, repeated names kept as separate entries, byteSize() = sum of name and
// value lengths (what proxy_get_header_map_size returns), setCopy = remove all then add.

import { serializePairs, type BytePair } from "./pairs.ts";

const encoder = new TextEncoder();

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

export class HeaderMap {
  private names: string[] = [];
  private values: string[] = [];

  /** Builds a request/response map from (name, value) pairs as given; names are lower-cased. */
  static from(pairs: ReadonlyArray<readonly [string, string]>, opts?: { hostToAuthority?: boolean }): HeaderMap {
    const n = pairs.length;
    const keys = new Array<string>(n);
    let pseudo = 0;
    let host = -1;
    let authority = false;
    for (let i = 0; i < n; i++) {
      const k = asciiLower(pairs[i][0]);
      keys[i] = k;
      if (k.charCodeAt(0) === 58 /* ':' */) {
        pseudo++;
        if (k === ":authority") authority = true;
      } else if (k === "host" && host < 0) {
        host = i;
      }
    }
    // HTTP/1.1: Envoy's codec turns Host into :authority (when there is no :authority already).
    if (opts?.hostToAuthority && host >= 0 && !authority) {
      keys[host] = ":authority";
      pseudo++;
    }
    const m = new HeaderMap();
    const names = (m.names = new Array<string>(n));
    const values = (m.values = new Array<string>(n));
    let p = 0;
    let r = pseudo;
    for (let i = 0; i < n; i++) {
      const at = keys[i].charCodeAt(0) === 58 ? p++ : r++;
      names[at] = keys[i];
      values[at] = pairs[i][1];
    }
    return m;
  }

  get size(): number {
    return this.names.length;
  }

  /** First value of a (lower-case) name: what proxy_get_header_map_value returns. */
  first(name: string): string | undefined {
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === name) return this.values[i];
    return undefined;
  }

  /** All values joined with "," (getAllOfHeaderAsString): what request.headers.<name> returns. */
  joined(name: string): string | undefined {
    let out: string | undefined;
    const names = this.names;
    for (let i = 0; i < names.length; i++) {
      if (names[i] === name) out = out === undefined ? this.values[i] : `${out},${this.values[i]}`;
    }
    return out;
  }

  has(name: string): boolean {
    return this.names.includes(name);
  }

  /** addCopy: pseudo-headers go before the first regular header. */
  add(name: string, value: string): void {
    const key = asciiLower(name);
    if (key.charCodeAt(0) === 58 /* ':' */) {
      let i = 0;
      while (i < this.names.length && this.names[i].charCodeAt(0) === 58) i++;
      this.names.splice(i, 0, key);
      this.values.splice(i, 0, value);
    } else {
      this.names.push(key);
      this.values.push(value);
    }
  }

  remove(name: string): void {
    const key = asciiLower(name);
    for (let i = this.names.length - 1; i >= 0; i--) {
      if (this.names[i] === key) {
        this.names.splice(i, 1);
        this.values.splice(i, 1);
      }
    }
  }

  /** setCopy (replace all values of the name). */
  set(name: string, value: string): void {
    this.remove(name);
    this.add(name, value);
  }

  clear(): void {
    this.names.length = 0;
    this.values.length = 0;
  }

  byteSize(): number {
    let n = 0;
    for (let i = 0; i < this.names.length; i++) n += utf8Length(this.names[i]) + utf8Length(this.values[i]);
    return n;
  }

  entries(): Array<[string, string]> {
    return this.names.map((n, i) => [n, this.values[i]]);
  }

  /** Distinct names in first-appearance order. */
  distinctNames(): string[] {
    return [...new Set(this.names)];
  }

  /** The pairs serialization of every entry (pseudo-headers first). */
  serialize(): Uint8Array {
    const pairs: BytePair[] = new Array(this.names.length);
    for (let i = 0; i < this.names.length; i++) pairs[i] = [encoder.encode(this.names[i]), encoder.encode(this.values[i])];
    return serializePairs(pairs);
  }

  clone(): HeaderMap {
    const m = new HeaderMap();
    m.names = this.names.slice();
    m.values = this.values.slice();
    return m;
  }
}
