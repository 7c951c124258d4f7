// Builds format-1.0 blobs by hand for the unit tests (the real encoder is tools/encode/, in
// TypeScript). Strings are interned, rules sorted by id bytes, sections padded, CRC computed.
// Offsets of each section payload are kept so tests can corrupt one field and re-seal the blob.
import { crc32 } from "../../../assembly/decode/crc32";

export const NONE: u32 = 0xffffffff;

export namespace A {
  export const PeerPrincipal: u8 = 1;
  export const SourceIp: u8 = 2;
  export const RemoteIp: u8 = 3;
  export const DestinationIp: u8 = 4;
  export const DestinationPort: u8 = 5;
  export const Sni: u8 = 6;
  export const Method: u8 = 7;
  export const Host: u8 = 8;
  export const UrlPath: u8 = 9;
  export const Header: u8 = 10;
  export const JwtClaim: u8 = 11;
  export const Metadata: u8 = 12;
  export const DynamicMetadata: u8 = 13;
}

export namespace K {
  export const Exact: u8 = 1;
  export const Prefix: u8 = 2;
  export const Suffix: u8 = 3;
  export const Present: u8 = 4;
  export const NonEmpty: u8 = 5;
  export const Pattern: u8 = 6;
  export const Cidr: u8 = 7;
  export const Port: u8 = 8;
}

export const ALLOW: u8 = 0;
export const DENY: u8 = 1;
export const AUDIT: u8 = 2;
export const CUSTOM: u8 = 3;
export const IGNORE_CASE: u8 = 1;
export const LIST: u8 = 2;
export const LIST_ONLY: u8 = 4;
export const JWT_FILTER = "envoy.filters.http.jwt_authn";

export class Writer {
  bytes: Array<u8> = new Array<u8>();
  u8(v: u32): Writer {
    this.bytes.push(<u8>v);
    return this;
  }
  u16(v: u32): Writer {
    return this.u8(v & 0xff).u8((v >> 8) & 0xff);
  }
  u32(v: u32): Writer {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }
  raw(b: ArrayBuffer): Writer {
    const p = changetype<usize>(b);
    for (let i = 0; i < b.byteLength; i++) this.bytes.push(load<u8>(p + <usize>i));
    return this;
  }
  pad4(): Writer {
    while (this.bytes.length % 4 != 0) this.bytes.push(0);
    return this;
  }
  get length(): i32 {
    return this.bytes.length;
  }
  finish(): ArrayBuffer {
    const b = new ArrayBuffer(this.bytes.length);
    memory.copy(changetype<usize>(b), this.bytes.dataStart, <usize>this.bytes.length);
    return b;
  }
}

class Pol {
  constructor(public ns: u32, public name: u32, public action: u8, public flags: u8, public provider: u32, public first: u32, public count: u32) {}
}
class Rul {
  /** id: the stored id_str (NONE unless storeIds); text: the derived id, for sorting. */
  constructor(public policy: u32, public index: u32, public id: u32, public root: u32, public text: ArrayBuffer) {}
}
class Nod {
  constructor(public op: u8, public count: u16, public arg: u32) {}
}
class Lf {
  constructor(public attr: u8, public kind: u8, public flags: u8, public key: u32, public value: u32, public aux: u32) {}
}

export class BlobBuilder {
  /** Store each rule's id_str (the encoder writes NONE; a decoder must accept both). */
  storeIds: bool = false;
  strs: Array<ArrayBuffer> = new Array<ArrayBuffer>();
  index: Map<string, u32> = new Map<string, u32>();
  root: u32;
  gen: u32;
  pols: Array<Pol> = new Array<Pol>();
  labels: Array<u32> = new Array<u32>();
  rules: Array<Rul> = new Array<Rul>();
  nodes: Array<Nod> = new Array<Nod>();
  children: Array<u32> = new Array<u32>();
  leaves: Array<Lf> = new Array<Lf>();
  patterns: Array<u32> = new Array<u32>(); // first, count pairs
  pieces: Array<u32> = new Array<u32>(); // kind | class << 8 | min << 16, str pairs
  /** Payload offset of each section (index = tag) in the last build. */
  sectionAt: StaticArray<i32> = new StaticArray<i32>(8);

  constructor(rootNamespace: string = "istio-system") {
    this.root = this.str(rootNamespace);
    this.gen = this.str("as-pect blob builder");
  }

  /** Interns bytes (keyed by a latin1 image of the bytes, so any byte string works). */
  strBytes(b: ArrayBuffer): u32 {
    let key = "";
    const p = changetype<usize>(b);
    for (let i = 0; i < b.byteLength; i++) key += String.fromCharCode(load<u8>(p + <usize>i));
    if (this.index.has(key)) return this.index.get(key);
    this.strs.push(b);
    const i = <u32>(this.strs.length - 1);
    this.index.set(key, i);
    return i;
  }

  str(s: string): u32 {
    return this.strBytes(String.UTF8.encode(s));
  }

  /** labels: key, value, key, value, ... */
  policy(ns: string, name: string, action: u8, dryRun: bool = false, provider: string = "", labels: Array<string> = []): u32 {
    const first = <u32>(this.labels.length / 2);
    for (let i = 0; i + 1 < labels.length; i += 2) {
      this.labels.push(this.str(labels[i]));
      this.labels.push(this.str(labels[i + 1]));
    }
    const prov = action == CUSTOM ? this.str(provider.length > 0 ? provider : "ext") : NONE;
    this.pols.push(new Pol(this.str(ns), this.str(name), action, dryRun ? 1 : 0, prov, first, <u32>(labels.length / 2)));
    return <u32>(this.pols.length - 1);
  }

  /** A rule of policy `policy` at spec.rules position `index` with matcher tree `root`. */
  rule(policy: u32, index: u32, root: u32): void {
    const p = this.pols[policy];
    const id = "ns[" + String.UTF8.decode(this.strs[p.ns]) + "]-policy[" + String.UTF8.decode(this.strs[p.name]) + "]-rule[" + index.toString() + "]";
    this.rules.push(new Rul(policy, index, this.storeIds ? this.str(id) : NONE, root, String.UTF8.encode(id)));
  }

  node(op: u8, kids: Array<u32>, arg: u32 = 0): u32 {
    if (kids.length > 0) {
      arg = <u32>this.children.length;
      for (let i = 0; i < kids.length; i++) this.children.push(kids[i]);
    }
    this.nodes.push(new Nod(op, <u16>kids.length, arg));
    return <u32>(this.nodes.length - 1);
  }

  any(): u32 {
    return this.node(1, []);
  }
  and(kids: Array<u32>): u32 {
    return this.node(2, kids);
  }
  or(kids: Array<u32>): u32 {
    return this.node(3, kids);
  }
  not(kid: u32): u32 {
    return this.node(4, [kid]);
  }

  rawLeaf(attr: u8, kind: u8, flags: u8, key: u32, value: u32, aux: u32): u32 {
    this.leaves.push(new Lf(attr, kind, flags, key, value, aux));
    return this.node(5, [], <u32>(this.leaves.length - 1));
  }

  /** A string leaf: value "" means NONE for PRESENT/NONEMPTY/PATTERN. */
  leaf(attr: u8, kind: u8, value: string = "", key: string = "", flags: u8 = 0, aux: u32 = 0): u32 {
    const k = key.length > 0 ? this.str(key) : NONE;
    const needsValue = kind == K.Exact || kind == K.Prefix || kind == K.Suffix;
    return this.rawLeaf(attr, kind, flags, k, needsValue ? this.str(value) : NONE, aux);
  }

  /** A DYNAMIC_METADATA leaf at path (filter, keys...): segments as u32 length + bytes. */
  mdLeaf(kind: u8, value: string, path: Array<string>, flags: u8 = 0, aux: u32 = 0): u32 {
    const w = new Writer();
    for (let i = 0; i < path.length; i++) w.u32(String.UTF8.byteLength(path[i])).raw(String.UTF8.encode(path[i]));
    const needsValue = kind == K.Exact || kind == K.Prefix || kind == K.Suffix;
    return this.rawLeaf(A.DynamicMetadata, kind, flags, this.strBytes(w.finish()), needsValue ? this.str(value) : NONE, aux);
  }

  /** A leaf on the verified JWT payload: path payload, claims... */
  claimLeaf(kind: u8, value: string, claims: Array<string>, flags: u8 = 0): u32 {
    const path = [JWT_FILTER, "payload"];
    for (let i = 0; i < claims.length; i++) path.push(claims[i]);
    return this.mdLeaf(kind, value, path, flags);
  }

  cidr(attr: u8, addr: Array<u8>, prefix: u32): u32 {
    const b = new ArrayBuffer(addr.length);
    for (let i = 0; i < addr.length; i++) store<u8>(changetype<usize>(b) + <usize>i, addr[i]);
    return this.rawLeaf(attr, K.Cidr, 0, NONE, this.strBytes(b), prefix);
  }

  port(p: u32): u32 {
    return this.rawLeaf(A.DestinationPort, K.Port, 0, NONE, NONE, p);
  }

  /** Pieces: a literal is a string; a gap is "<class><min>" after a NUL, e.g. "\0" + "20". */
  pattern(pieces: Array<string>): u32 {
    const first = <u32>(this.pieces.length / 2);
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i];
      if (p.length == 3 && p.charCodeAt(0) == 0) {
        const cls = <u32>(p.charCodeAt(1) - 48);
        const mn = <u32>(p.charCodeAt(2) - 48);
        this.pieces.push(1 | (cls << 8) | (mn << 16));
        this.pieces.push(NONE);
      } else {
        this.pieces.push(0);
        this.pieces.push(this.str(p));
      }
    }
    this.patterns.push(first);
    this.patterns.push(<u32>pieces.length);
    return <u32>(this.patterns.length / 2 - 1);
  }

  patternLeaf(attr: u8, pieces: Array<string>, key: string = ""): u32 {
    const pat = this.pattern(pieces);
    return this.leaf(attr, K.Pattern, "", key, 0, pat);
  }

  build(): ArrayBuffer {
    // Rules in id byte order (Envoy's std::map order).
    const rules = this.rules.slice(0);
    const strs = this.strs;
    rules.sort((a: Rul, b: Rul): i32 => {
      const x = a.text;
      const y = b.text;
      const n = min(x.byteLength, y.byteLength);
      const c = memory.compare(changetype<usize>(x), changetype<usize>(y), <usize>n);
      if (c != 0) return c;
      return x.byteLength - y.byteLength;
    });

    const s = new Writer().u32(strs.length);
    let off: u32 = 0;
    s.u32(0);
    for (let i = 0; i < strs.length; i++) s.u32((off += <u32>strs[i].byteLength));
    for (let i = 0; i < strs.length; i++) s.raw(strs[i]);

    const meta = new Writer().u32(this.root).u32(this.gen);

    const pol = new Writer().u32(this.pols.length);
    for (let i = 0; i < this.pols.length; i++) {
      const p = this.pols[i];
      pol.u32(p.ns).u32(p.name).u8(p.action).u8(p.flags).u16(0).u32(p.provider).u32(p.first).u32(p.count);
    }
    pol.u32(this.labels.length / 2);
    for (let i = 0; i < this.labels.length; i++) pol.u32(this.labels[i]);

    const rul = new Writer().u32(rules.length);
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i];
      rul.u32(r.policy).u32(r.index).u32(r.id).u32(r.root);
    }

    const nod = new Writer().u32(this.nodes.length);
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[i];
      nod.u8(n.op).u8(0).u16(n.count).u32(n.arg);
    }
    nod.u32(this.children.length);
    for (let i = 0; i < this.children.length; i++) nod.u32(this.children[i]);

    const lf = new Writer().u32(this.leaves.length);
    for (let i = 0; i < this.leaves.length; i++) {
      const l = this.leaves[i];
      lf.u8(l.attr).u8(l.kind).u8(l.flags).u8(0).u32(l.key).u32(l.value).u32(l.aux);
    }

    const pat = new Writer().u32(this.patterns.length / 2);
    for (let i = 0; i < this.patterns.length; i++) pat.u32(this.patterns[i]);
    pat.u32(this.pieces.length / 2);
    for (let i = 0; i < this.pieces.length; i += 2) {
      const d = this.pieces[i];
      pat.u8(d & 0xff).u8((d >> 8) & 0xff).u8((d >> 16) & 0xff).u8(0).u32(this.pieces[i + 1]);
    }

    const sections: Array<Writer> = [s, meta, pol, rul, nod, lf, pat];
    const out = new Writer();
    out.u32(0x425a414d).u16(1).u16(0).u32(0).u32(0).u32(0).u32(7);
    for (let i = 0; i < sections.length; i++) {
      out.u32(i + 1).u32(sections[i].length);
      this.sectionAt[i + 1] = out.length;
      for (let j = 0; j < sections[i].bytes.length; j++) out.bytes.push(sections[i].bytes[j]);
      out.pad4();
    }
    const b = out.finish();
    seal(b);
    return b;
  }
}

/** Rewrites total_length and the checksum after a test changed the bytes. */
export function seal(b: ArrayBuffer): void {
  const p = changetype<usize>(b);
  store<u32>(p, <u32>b.byteLength, 8);
  store<u32>(p, crc32(p + 16, <usize>b.byteLength - 16), 12);
}

export function poke8(b: ArrayBuffer, at: i32, v: u8): void {
  store<u8>(changetype<usize>(b) + <usize>at, v);
}

export function poke32(b: ArrayBuffer, at: i32, v: u32): void {
  store<u32>(changetype<usize>(b) + <usize>at, v);
}

export function peek32(b: ArrayBuffer, at: i32): u32 {
  return load<u32>(changetype<usize>(b) + <usize>at);
}

/** A copy of b that the decoder may own (heap.alloc'd, like a config buffer). */
export function heapCopy(b: ArrayBuffer): usize {
  const p = heap.alloc(<usize>max(b.byteLength, 1));
  memory.copy(p, changetype<usize>(b), <usize>b.byteLength);
  return p;
}

export function bytesOf(a: Array<u8>): ArrayBuffer {
  const b = new ArrayBuffer(a.length);
  for (let i = 0; i < a.length; i++) store<u8>(changetype<usize>(b) + <usize>i, a[i]);
  return b;
}

/** Pairs format (proxy-wasm map / list serialization): k, v, k, v, ... */
export function pairs(kv: Array<string>): ArrayBuffer {
  const w = new Writer().u32(kv.length / 2);
  for (let i = 0; i < kv.length; i += 2) {
    w.u32(String.UTF8.byteLength(kv[i])).u32(String.UTF8.byteLength(kv[i + 1]));
  }
  for (let i = 0; i < kv.length; i++) w.raw(String.UTF8.encode(kv[i])).u8(0);
  return w.finish();
}
