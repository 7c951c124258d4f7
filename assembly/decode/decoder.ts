// Blob -> Tables: the part of docs/blob-format.md every sidecar needs, checked eagerly: header,
// CRC-32 over the whole blob, section framing, the STRINGS header, META, the POLICIES table
// (applicability reads it) and each rule's policy index. Everything a workload's rules reach
// (rule ids, nodes, leaves, patterns, the strings they use) is checked by decode/reach.ts when the
// plugin is built, before it is read; the rest is covered by the CRC and never read. Every read is
// bounds-checked here, by hand, before it happens: an out-of-bounds access would trap, and a trap
// in Envoy fails every request of the worker.
import { crc32 } from "./crc32";
import { DecodeError, Where, decodeErrorText } from "./errors";
import {
  Action, HEADER_BYTES, LABEL_BYTES, LEAF_BYTES, MAGIC, MAJOR, MINOR, NODE_BYTES, NONE, PATTERN_BYTES, PIECE_BYTES,
  POLICY_BYTES, POLICY_DRY_RUN, RULE_BYTES, SECTION_COUNT_1_0, SECTION_COUNT_1_1, SECTION_COUNT_1_3, Section,
  HeaderMatch, ITEM_BYTES, PROVIDER_BYTES, PROVIDER_FAIL_OPEN, ProviderKind,
} from "./format";
import { Tables } from "./tables";
import { Reach } from "./reach";

export class Decoded {
  error: DecodeError = DecodeError.None;
  /** Where the error is (errors.ts Where) and the record index. */
  where: u32 = Where.Blob;
  at: u32 = 0;
  tables: Tables | null = null;

  get message(): string {
    return this.error == DecodeError.None ? "" : decodeErrorText(this.error, this.where, this.at);
  }
}

class Decoder {
  r: Decoded = new Decoded();
  t: Tables = new Tables();
  secPtr: StaticArray<usize> = new StaticArray<usize>(9);
  secLen: StaticArray<usize> = new StaticArray<usize>(9);
  /** 7 for a 1.0 blob, 8 for 1.1 and 1.2 (TCP_RULES), 9 for 1.3 (PROVIDERS). */
  sectionCount: u32 = 0;
  /** The counts table() read. */
  count: u32 = 0;
  count2: u32 = 0;

  constructor(public base: usize, public len: usize) {}

  fail(e: DecodeError, where: u32 = Where.Blob, at: u32 = 0): bool {
    this.r.error = e;
    this.r.where = where;
    this.r.at = at;
    return false;
  }

  header(): bool {
    const b = this.base;
    if (this.len < <usize>HEADER_BYTES) return this.fail(DecodeError.Truncated);
    if (load<u32>(b) != MAGIC) return this.fail(DecodeError.BadMagic);
    if (load<u16>(b, 4) != MAJOR) return this.fail(DecodeError.BadMajor);
    const minor = load<u16>(b, 6);
    if (minor > MINOR) return this.fail(DecodeError.BadMinor);
    this.sectionCount = minor == 0 ? SECTION_COUNT_1_0 : minor < 3 ? SECTION_COUNT_1_1 : SECTION_COUNT_1_3;
    if (<usize>load<u32>(b, 8) != this.len) return this.fail(DecodeError.BadLength);
    if (load<u32>(b, 12) != crc32(b + 16, this.len - 16)) return this.fail(DecodeError.BadChecksum);
    if (load<u32>(b, 16) != 0) return this.fail(DecodeError.BadFlags);
    if (load<u32>(b, 20) != this.sectionCount) return this.fail(DecodeError.BadSectionCount);
    return true;
  }

  sections(): bool {
    const end = this.base + this.len;
    let pos = this.base + <usize>HEADER_BYTES;
    for (let tag: u32 = 1; tag <= this.sectionCount; tag++) {
      if (end - pos < 8) return this.fail(DecodeError.Truncated, Where.Section, tag);
      if (load<u32>(pos) != tag) return this.fail(DecodeError.BadSectionTag, Where.Section, tag);
      const l = <usize>load<u32>(pos, 4);
      const payload = pos + 8;
      if (l > end - payload) return this.fail(DecodeError.Truncated, Where.Section, tag);
      const padded = (l + 3) & ~(<usize>3);
      if (padded > end - payload) return this.fail(DecodeError.Truncated, Where.Section, tag);
      for (let k = l; k < padded; k++) {
        if (load<u8>(payload + k) != 0) return this.fail(DecodeError.BadPadding, Where.Section, tag);
      }
      unchecked((this.secPtr[tag] = payload));
      unchecked((this.secLen[tag] = l));
      pos = payload + padded;
    }
    if (pos != end) return this.fail(DecodeError.TrailingBytes);
    return true;
  }

  /** A section of `u32 count; count x rec` followed, when tail != 0, by `u32 count2; count2 x tail`.
   *  Checks the payload is consumed exactly; returns false on a size mismatch. */
  table(tag: u32, rec: u32, tail: u32): bool {
    const p = unchecked(this.secPtr[tag]);
    const l = <u64>unchecked(this.secLen[tag]);
    this.count = 0;
    this.count2 = 0;
    if (l < 4) return this.fail(DecodeError.BadSectionSize, Where.Section, tag);
    const count = load<u32>(p);
    const recBytes = <u64>count * rec;
    this.count = count;
    if (tail == 0) return 4 + recBytes == l || this.fail(DecodeError.BadSectionSize, Where.Section, tag);
    if (4 + recBytes + 4 > l) return this.fail(DecodeError.BadSectionSize, Where.Section, tag);
    const count2 = load<u32>(p + 4 + <usize>recBytes);
    this.count2 = count2;
    return 8 + recBytes + <u64>count2 * tail == l || this.fail(DecodeError.BadSectionSize, Where.Section, tag);
  }

  strings(): bool {
    // count, offsets[count + 1], pool: offsets[0] = 0 and offsets[count] = pool length here; each
    // string's own range when it is used (Tables.strError).
    const p = unchecked(this.secPtr[Section.Strings]);
    const l = <u64>unchecked(this.secLen[Section.Strings]);
    if (l < 4) return this.fail(DecodeError.BadSectionSize, Where.Section, Section.Strings);
    const count = load<u32>(p);
    const offsetBytes = (<u64>count + 1) << 2;
    if (4 + offsetBytes > l) return this.fail(DecodeError.BadSectionSize, Where.Section, Section.Strings);
    const offs = p + 4;
    const poolLen = l - 4 - offsetBytes;
    if (load<u32>(offs) != 0 || <u64>load<u32>(offs + (<usize>count << 2)) != poolLen) {
      return this.fail(DecodeError.BadStringOffsets, Where.Section, Section.Strings);
    }
    const t = this.t;
    t.strCount = count;
    t.strOffsets = offs;
    t.strPool = offs + <usize>offsetBytes;
    t.strPoolLen = <u32>poolLen;
    return true;
  }

  meta(): bool {
    const p = unchecked(this.secPtr[Section.Meta]);
    if (unchecked(this.secLen[Section.Meta]) != 8) return this.fail(DecodeError.BadSectionSize, Where.Section, Section.Meta);
    const root = load<u32>(p);
    const gen = load<u32>(p, 4);
    const e = max(this.t.strError(root), this.t.strError(gen));
    if (e != DecodeError.None) return this.fail(e, Where.Section, Section.Meta);
    this.t.rootNamespace = root;
    this.t.generator = gen;
    return true;
  }

  policies(): bool {
    if (!this.table(Section.Policies, POLICY_BYTES, LABEL_BYTES)) return false;
    const p = unchecked(this.secPtr[Section.Policies]);
    const t = this.t;
    const count = this.count;
    const labelCount = this.count2;
    t.policyCount = count;
    t.policies = p + 4;
    t.labelCount = labelCount;
    t.labels = p + 8 + <usize>count * POLICY_BYTES;
    for (let i: u32 = 0; i < count; i++) {
      let e = max(t.strError(t.policyNamespace(i)), t.strError(t.policyName(i)));
      if (e != DecodeError.None) return this.fail(e, Where.Policy, i);
      const action = t.policyAction(i);
      if (action > Action.Custom || (t.policyFlags(i) & ~(<u32>POLICY_DRY_RUN)) != 0 || load<u16>(t.policies + <usize>i * POLICY_BYTES, 10) != 0) {
        return this.fail(DecodeError.BadPolicy, Where.Policy, i);
      }
      const provider = t.policyProvider(i);
      e = action == Action.Custom ? t.strError(provider) : provider != NONE ? DecodeError.BadStringIndex : DecodeError.None;
      if (e != DecodeError.None) return this.fail(e, Where.Policy, i);
      if (<u64>t.policyLabelFirst(i) + <u64>t.policyLabelCount(i) > <u64>labelCount) return this.fail(DecodeError.BadLabelRange, Where.Policy, i);
    }
    for (let i: u32 = 0; i < labelCount; i++) {
      const e = max(t.strError(t.labelKey(i)), t.strError(t.labelValue(i)));
      if (e != DecodeError.None) return this.fail(e, Where.Label, i);
    }
    return true;
  }

  rules(): bool {
    if (!this.table(Section.Rules, RULE_BYTES, 0)) return false;
    const t = this.t;
    t.ruleCount = this.count;
    t.rules = unchecked(this.secPtr[Section.Rules]) + 4;
    const n = t.policyCount;
    for (let i: u32 = 0; i < t.ruleCount; i++) {
      if (t.rulePolicy(i) >= n) return this.fail(DecodeError.BadRulePolicy, Where.Rule, i);
    }
    return true;
  }

  /** NODES, LEAVES and PATTERNS: sizes only; their records are checked when reached. */
  graph(): bool {
    const t = this.t;
    if (!this.table(Section.Nodes, NODE_BYTES, 4)) return false;
    t.nodeCount = this.count;
    t.nodes = unchecked(this.secPtr[Section.Nodes]) + 4;
    t.childCount = this.count2;
    t.children = t.nodes + <usize>t.nodeCount * NODE_BYTES + 4;
    if (!this.table(Section.Leaves, LEAF_BYTES, 0)) return false;
    t.leafCount = this.count;
    t.leaves = unchecked(this.secPtr[Section.Leaves]) + 4;
    if (!this.table(Section.Patterns, PATTERN_BYTES, PIECE_BYTES)) return false;
    t.patternCount = this.count;
    t.patterns = unchecked(this.secPtr[Section.Patterns]) + 4;
    t.pieceCount = this.count2;
    t.pieces = t.patterns + <usize>t.patternCount * PATTERN_BYTES + 4;
    return true;
  }

  /** PROVIDERS (1.3): every record, its strings and item range, eagerly (a handful per mesh). */
  providers(): bool {
    if (this.sectionCount < SECTION_COUNT_1_3) return true;
    if (!this.table(Section.Providers, PROVIDER_BYTES, ITEM_BYTES)) return false;
    const t = this.t;
    t.providerCount = this.count;
    t.providers = unchecked(this.secPtr[Section.Providers]) + 4;
    t.itemCount = this.count2;
    t.items = t.providers + <usize>t.providerCount * PROVIDER_BYTES + 4;
    for (let i: u32 = 0; i < t.providerCount; i++) {
      const kind = t.providerKind(i);
      if (kind < ProviderKind.Http || kind > ProviderKind.Grpc || (t.providerFlags(i) & ~PROVIDER_FAIL_OPEN) != 0) {
        return this.fail(DecodeError.BadProvider, Where.Provider, i);
      }
      let e = max(max(t.strError(t.providerName(i)), t.strError(t.providerCluster(i))), t.strError(t.providerAuthority(i)));
      const prefix = t.providerPathPrefix(i);
      if (prefix != NONE) e = max(e, t.strError(prefix));
      if (e != DecodeError.None) return this.fail(e, Where.Provider, i);
      let end = <u64>t.providerItemFirst(i);
      for (let k: u32 = 0; k < 4; k++) end += <u64>t.providerItems(i, k);
      if (end > <u64>t.itemCount) return this.fail(DecodeError.BadProvider, Where.Provider, i);
      const first = t.providerItemFirst(i);
      const matchers = t.providerItems(i, 0) + t.providerItems(i, 1) + t.providerItems(i, 2);
      for (let k: u32 = 0; k < matchers + t.providerItems(i, 3); k++) {
        const it = first + k;
        if (k < matchers) {
          const a = t.itemA(it);
          if (a < HeaderMatch.Exact || a > HeaderMatch.Suffix) return this.fail(DecodeError.BadProvider, Where.Provider, i);
          e = t.strError(t.itemB(it));
        } else {
          e = max(t.strError(t.itemA(it)), t.strError(t.itemB(it)));
        }
        if (e != DecodeError.None) return this.fail(e, Where.Provider, i);
      }
    }
    return true;
  }

  /** 1.1 TCP_RULES: one u32 root per rule (NONE: dropped on TCP); roots are checked when reached. */
  tcp(): bool {
    if (this.sectionCount < SECTION_COUNT_1_1) return true;
    if (!this.table(Section.TcpRules, 4, 0)) return false;
    if (this.count != this.t.ruleCount) return this.fail(DecodeError.BadSectionSize, Where.Section, Section.TcpRules);
    this.t.tcpRoots = unchecked(this.secPtr[Section.TcpRules]) + 4;
    this.t.hasTcp = true;
    return true;
  }
}

/** Decodes the blob at [base, base+len) (the eager checks above). On success the returned tables
 *  own `base` (free it with dispose()); on failure the caller still owns it. */
export function decodeBlob(base: usize, len: usize): Decoded {
  const d = new Decoder(base, len);
  // Dependency order: every index is checked against a section already read.
  const ok = d.header() && d.sections() && d.strings() && d.meta() && d.policies() && d.rules() && d.graph() && d.tcp() && d.providers();
  if (ok) {
    d.t.base = base;
    d.t.length = len;
    d.r.tables = d.t;
  } else {
    heap.free(changetype<usize>(d.t)); // the tables only, not the blob
  }
  return d.r;
}

/** decodeBlob, then every rule checked as if every policy applied (the full format check:
 *  tests and vectors; the filter checks only the rules of its workload). */
export function decodeAll(base: usize, len: usize): Decoded {
  const d = decodeBlob(base, len);
  const t = d.tables;
  if (t === null) return d;
  const reach = new Reach(t);
  for (let r: u32 = 0; r < t.ruleCount && reach.error == DecodeError.None; r++) reach.rule(r);
  // The TCP projection's roots, in their own pass (ids are checked in order once per projection).
  const tcp = new Reach(t);
  tcp.tcp = true;
  if (reach.error == DecodeError.None && t.hasTcp) {
    for (let r: u32 = 0; r < t.ruleCount && tcp.error == DecodeError.None; r++) tcp.rule(r);
  }
  const failed = reach.error != DecodeError.None ? reach : tcp;
  if (failed.error != DecodeError.None) {
    d.error = failed.error;
    d.where = failed.where;
    d.at = failed.at;
    d.tables = null;
    heap.free(changetype<usize>(t)); // the tables only, not the blob
  }
  reach.free();
  tcp.free();
  return d;
}
