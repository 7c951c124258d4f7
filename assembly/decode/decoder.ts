// Blob -> Tables in one bounded pass (docs/blob-format.md). Every read is bounds-checked here, by
// hand, before it happens: an out-of-bounds access would trap, and a trap in Envoy fails every
// request of the worker. After success, every index in the tables is known to be in range, so the
// hot path reads records without checks.
import { crc32 } from "./crc32";
import { DecodeError } from "./errors";
import {
  Action, Attr, GapClass, HEADER_BYTES, Kind, LABEL_BYTES, LEAF_BYTES, LEAF_IGNORE_CASE, LEAF_LIST_ELEMENTS,
  MAGIC, MAJOR, MAX_DEPTH, MINOR, NODE_BYTES, NONE, Op, PATTERN_BYTES, PIECE_BYTES, POLICY_BYTES,
  POLICY_DRY_RUN, PieceKind, RULE_BYTES, SECTION_COUNT, Section, isIpAttr, isStringAttr,
} from "./format";
import { Tables } from "./tables";
import { bytesCompare, lower } from "../bytes/range";
import { fnv } from "../bytes/hash";

export class Decoded {
  error: DecodeError = DecodeError.None;
  message: string = "";
  tables: Tables | null = null;
}

class Decoder {
  r: Decoded = new Decoded();
  t: Tables = new Tables();
  secPtr: StaticArray<usize> = new StaticArray<usize>(8);
  secLen: StaticArray<usize> = new StaticArray<usize>(8);

  constructor(public base: usize, public len: usize) {}

  fail(e: DecodeError, message: string): bool {
    this.r.error = e;
    this.r.message = message;
    return false;
  }

  @inline str(i: u32): bool {
    return i < this.t.strCount;
  }

  header(): bool {
    const b = this.base;
    if (this.len < <usize>HEADER_BYTES) return this.fail(DecodeError.Truncated, "blob of " + this.len.toString() + " bytes is shorter than the 24-byte header");
    if (load<u32>(b) != MAGIC) return this.fail(DecodeError.BadMagic, "bad magic (expected \"MAZB\")");
    const major = load<u16>(b, 4);
    const minor = load<u16>(b, 6);
    if (major != MAJOR) return this.fail(DecodeError.BadMajor, "unsupported format major " + major.toString() + " (this filter reads 1.x)");
    if (minor > MINOR) return this.fail(DecodeError.BadMinor, "format 1." + minor.toString() + " is newer than this filter (1." + MINOR.toString() + ")");
    const total = load<u32>(b, 8);
    if (<usize>total != this.len) return this.fail(DecodeError.BadLength, "total_length " + total.toString() + " but the blob has " + this.len.toString() + " bytes");
    const sum = load<u32>(b, 12);
    const actual = crc32(b + 16, this.len - 16);
    if (sum != actual) return this.fail(DecodeError.BadChecksum, "checksum mismatch: header 0x" + sum.toString(16) + ", computed 0x" + actual.toString(16));
    if (load<u32>(b, 16) != 0) return this.fail(DecodeError.BadFlags, "header flags must be 0 in 1.0");
    const sections = load<u32>(b, 20);
    if (sections != SECTION_COUNT) return this.fail(DecodeError.BadSectionCount, "section_count " + sections.toString() + " (1.0 has 7)");
    return true;
  }

  sections(): bool {
    const end = this.base + this.len;
    let pos = this.base + <usize>HEADER_BYTES;
    for (let tag: u32 = 1; tag <= SECTION_COUNT; tag++) {
      if (end - pos < 8) return this.fail(DecodeError.Truncated, "section " + tag.toString() + ": header past the end of the blob");
      const t = load<u32>(pos);
      if (t != tag) return this.fail(DecodeError.BadSectionTag, "expected section tag " + tag.toString() + ", found " + t.toString());
      const l = <usize>load<u32>(pos, 4);
      const payload = pos + 8;
      if (l > end - payload) return this.fail(DecodeError.Truncated, "section " + tag.toString() + ": payload of " + l.toString() + " bytes past the end of the blob");
      const padded = (l + 3) & ~(<usize>3);
      if (padded > end - payload) return this.fail(DecodeError.Truncated, "section " + tag.toString() + ": padding past the end of the blob");
      for (let k = l; k < padded; k++) {
        if (load<u8>(payload + k) != 0) return this.fail(DecodeError.BadPadding, "section " + tag.toString() + ": non-zero padding");
      }
      unchecked((this.secPtr[tag] = payload));
      unchecked((this.secLen[tag] = l));
      pos = payload + padded;
    }
    if (pos != end) return this.fail(DecodeError.TrailingBytes, (end - pos).toString() + " bytes after the last section");
    return true;
  }

  sizeError(name: string): bool {
    return this.fail(DecodeError.BadSectionSize, name + ": payload size does not match its counts");
  }

  strings(): bool {
    const p = unchecked(this.secPtr[Section.Strings]);
    const l = <u64>unchecked(this.secLen[Section.Strings]);
    if (l < 4) return this.sizeError("strings");
    const count = load<u32>(p);
    const offsetBytes = (<u64>count + 1) * 4;
    if (4 + offsetBytes > l) return this.sizeError("strings");
    const offs = p + 4;
    const poolLen = l - 4 - offsetBytes;
    if (load<u32>(offs) != 0) return this.fail(DecodeError.BadStringOffsets, "strings: offsets[0] must be 0");
    let prev: u32 = 0;
    for (let i: u32 = 1; i <= count; i++) {
      const o = load<u32>(offs + (<usize>i << 2));
      if (o < prev) return this.fail(DecodeError.BadStringOffsets, "strings: offsets decrease at " + i.toString());
      prev = o;
    }
    if (<u64>prev != poolLen) return this.fail(DecodeError.BadStringOffsets, "strings: offsets[count] " + prev.toString() + " != pool length " + poolLen.toString());
    this.t.strCount = count;
    this.t.strOffsets = offs;
    this.t.strPool = offs + <usize>offsetBytes;
    return this.uniqueStrings();
  }

  /** "Each distinct byte string appears once": an open-addressing set over the pool. */
  uniqueStrings(): bool {
    const n = this.t.strCount;
    if (n < 2) return true;
    let cap: usize = 4;
    while (cap < <usize>n * 2) cap <<= 1;
    const slots = heap.alloc(cap << 2);
    memory.fill(slots, 0, cap << 2);
    const mask = cap - 1;
    let ok = true;
    for (let i: u32 = 0; i < n && ok; i++) {
      const ip = this.t.strPtr(i);
      const il = this.t.strLen(i);
      let s = <usize>fnv(ip, il) & mask;
      for (;;) {
        const e = load<u32>(slots + (s << 2));
        if (e == 0) {
          store<u32>(slots + (s << 2), i + 1);
          break;
        }
        const j = e - 1;
        if (this.t.strLen(j) == il && memory.compare(this.t.strPtr(j), ip, il) == 0) {
          ok = this.fail(DecodeError.DuplicateString, "strings: " + j.toString() + " and " + i.toString() + " are the same bytes");
          break;
        }
        s = (s + 1) & mask;
      }
    }
    heap.free(slots);
    return ok;
  }

  meta(): bool {
    const p = unchecked(this.secPtr[Section.Meta]);
    if (unchecked(this.secLen[Section.Meta]) != 8) return this.sizeError("meta");
    const root = load<u32>(p);
    const gen = load<u32>(p, 4);
    if (!this.str(root)) return this.fail(DecodeError.BadStringIndex, "meta: root_namespace_str out of range");
    if (!this.str(gen)) return this.fail(DecodeError.BadStringIndex, "meta: generator_str out of range");
    this.t.rootNamespace = root;
    this.t.generator = gen;
    return true;
  }

  policies(): bool {
    const p = unchecked(this.secPtr[Section.Policies]);
    const l = <u64>unchecked(this.secLen[Section.Policies]);
    if (l < 4) return this.sizeError("policies");
    const count = load<u32>(p);
    const recBytes = <u64>count * POLICY_BYTES;
    if (4 + recBytes + 4 > l) return this.sizeError("policies");
    const lp = p + 4 + <usize>recBytes;
    const labelCount = load<u32>(lp);
    if (4 + recBytes + 4 + <u64>labelCount * LABEL_BYTES != l) return this.sizeError("policies");
    const t = this.t;
    t.policyCount = count;
    t.policies = p + 4;
    t.labelCount = labelCount;
    t.labels = lp + 4;
    for (let i: u32 = 0; i < count; i++) {
      const at = "policy " + i.toString() + ": ";
      if (!this.str(t.policyNamespace(i))) return this.fail(DecodeError.BadStringIndex, at + "namespace_str out of range");
      if (!this.str(t.policyName(i))) return this.fail(DecodeError.BadStringIndex, at + "name_str out of range");
      const action = t.policyAction(i);
      if (action > Action.Custom) return this.fail(DecodeError.BadPolicy, at + "unknown action " + action.toString());
      if ((t.policyFlags(i) & ~(<u32>POLICY_DRY_RUN)) != 0) return this.fail(DecodeError.BadPolicy, at + "unknown flags");
      if (load<u16>(t.policies + <usize>i * POLICY_BYTES, 10) != 0) return this.fail(DecodeError.BadPolicy, at + "reserved must be 0");
      const provider = t.policyProvider(i);
      if (action == Action.Custom) {
        if (!this.str(provider)) return this.fail(DecodeError.BadStringIndex, at + "CUSTOM policy without a valid provider_str");
      } else if (provider != NONE) {
        return this.fail(DecodeError.BadStringIndex, at + "provider_str must be NONE unless CUSTOM");
      }
      if (<u64>t.policyLabelFirst(i) + <u64>t.policyLabelCount(i) > <u64>labelCount) {
        return this.fail(DecodeError.BadLabelRange, at + "labels out of range");
      }
    }
    for (let i: u32 = 0; i < labelCount; i++) {
      if (!this.str(t.labelKey(i)) || !this.str(t.labelValue(i))) {
        return this.fail(DecodeError.BadStringIndex, "label " + i.toString() + ": string out of range");
      }
    }
    return true;
  }

  patterns(): bool {
    const p = unchecked(this.secPtr[Section.Patterns]);
    const l = <u64>unchecked(this.secLen[Section.Patterns]);
    if (l < 4) return this.sizeError("patterns");
    const count = load<u32>(p);
    const recBytes = <u64>count * PATTERN_BYTES;
    if (4 + recBytes + 4 > l) return this.sizeError("patterns");
    const pp = p + 4 + <usize>recBytes;
    const pieceCount = load<u32>(pp);
    if (4 + recBytes + 4 + <u64>pieceCount * PIECE_BYTES != l) return this.sizeError("patterns");
    const t = this.t;
    t.patternCount = count;
    t.patterns = p + 4;
    t.pieceCount = pieceCount;
    t.pieces = pp + 4;
    for (let i: u32 = 0; i < count; i++) {
      const n = t.patternPieces(i);
      if (n == 0 || <u64>t.patternFirst(i) + <u64>n > <u64>pieceCount) {
        return this.fail(DecodeError.BadPattern, "pattern " + i.toString() + ": pieces out of range or empty");
      }
    }
    for (let j: u32 = 0; j < pieceCount; j++) {
      const at = "piece " + j.toString() + ": ";
      const kind = t.pieceKind(j);
      const cls = t.pieceClass(j);
      const min = t.pieceMin(j);
      const s = t.pieceStr(j);
      if (load<u8>(t.pieces + <usize>j * PIECE_BYTES, 3) != 0) return this.fail(DecodeError.BadPiece, at + "reserved must be 0");
      if (kind == PieceKind.Literal) {
        if (cls != 0 || min != 0) return this.fail(DecodeError.BadPiece, at + "literal with class or min");
        if (!this.str(s)) return this.fail(DecodeError.BadStringIndex, at + "literal str out of range");
      } else if (kind == PieceKind.Gap) {
        if (cls > GapClass.PcharOrSlash) return this.fail(DecodeError.BadPiece, at + "unknown gap class " + cls.toString());
        if (min > 1) return this.fail(DecodeError.BadPiece, at + "gap min must be 0 or 1");
        if (s != NONE) return this.fail(DecodeError.BadPiece, at + "gap str must be NONE");
      } else {
        return this.fail(DecodeError.BadPiece, at + "unknown kind " + kind.toString());
      }
    }
    return true;
  }

  leaves(): bool {
    const p = unchecked(this.secPtr[Section.Leaves]);
    const l = <u64>unchecked(this.secLen[Section.Leaves]);
    if (l < 4) return this.sizeError("leaves");
    const count = load<u32>(p);
    if (4 + <u64>count * LEAF_BYTES != l) return this.sizeError("leaves");
    const t = this.t;
    t.leafCount = count;
    t.leaves = p + 4;
    for (let i: u32 = 0; i < count; i++) {
      if (!this.leaf(i)) return false;
    }
    return true;
  }

  leaf(i: u32): bool {
    const t = this.t;
    const at = "leaf " + i.toString() + ": ";
    const a = t.leafAttr(i);
    const k = t.leafKind(i);
    const flags = t.leafFlags(i);
    if (a < Attr.PeerPrincipal || a > Attr.Metadata) return this.fail(DecodeError.BadLeaf, at + "unknown attribute " + a.toString());
    if (k < Kind.Exact || k > Kind.Port) return this.fail(DecodeError.BadLeaf, at + "unknown kind " + k.toString());
    const fits = isStringAttr(a) ? k <= Kind.Pattern : isIpAttr(a) ? k == Kind.Cidr : k == Kind.Port;
    if (!fits) return this.fail(DecodeError.BadLeaf, at + "kind " + k.toString() + " does not apply to attribute " + a.toString());
    if ((flags & ~(<u32>(LEAF_IGNORE_CASE | LEAF_LIST_ELEMENTS))) != 0) return this.fail(DecodeError.BadLeaf, at + "unknown flags");
    if ((flags & LEAF_LIST_ELEMENTS) != 0 && a != Attr.JwtClaim && a != Attr.Metadata) {
      return this.fail(DecodeError.BadLeaf, at + "LIST_ELEMENTS on an attribute that is never a list");
    }
    if (load<u8>(t.leaves + <usize>i * LEAF_BYTES, 3) != 0) return this.fail(DecodeError.BadLeaf, at + "reserved must be 0");

    const key = t.leafKey(i);
    if (a == Attr.Header || a == Attr.JwtClaim || a == Attr.Metadata) {
      if (!this.str(key)) return this.fail(DecodeError.BadStringIndex, at + "key_str out of range");
      if (!this.keyShape(a, t.strPtr(key), t.strLen(key))) return this.fail(DecodeError.BadLeafOperand, at + "malformed key");
    } else if (key != NONE) {
      return this.fail(DecodeError.BadStringIndex, at + "key_str must be NONE for attribute " + a.toString());
    }

    const value = t.leafValue(i);
    const aux = t.leafAux(i);
    if (k == Kind.Exact || k == Kind.Prefix || k == Kind.Suffix || k == Kind.Cidr) {
      if (!this.str(value)) return this.fail(DecodeError.BadStringIndex, at + "value_str out of range");
    } else if (value != NONE) {
      return this.fail(DecodeError.BadStringIndex, at + "value_str must be NONE for kind " + k.toString());
    }
    if (k == Kind.Pattern) {
      if (aux >= t.patternCount) return this.fail(DecodeError.BadPatternIndex, at + "pattern " + aux.toString() + " out of range");
    } else if (k == Kind.Cidr) {
      const n = t.strLen(value);
      const bits: u32 = n == 4 ? 32 : n == 16 ? 128 : 0;
      if (bits == 0) return this.fail(DecodeError.BadLeafOperand, at + "CIDR address of " + n.toString() + " bytes");
      if (aux > bits) return this.fail(DecodeError.BadLeafOperand, at + "CIDR prefix " + aux.toString() + " too long");
      if (!hostBitsZero(t.strPtr(value), n, aux)) return this.fail(DecodeError.BadLeafOperand, at + "CIDR address has host bits set");
    } else if (k == Kind.Port) {
      if (aux > 65535) return this.fail(DecodeError.BadLeafOperand, at + "port " + aux.toString() + " out of range");
    } else if (aux != 0) {
      return this.fail(DecodeError.BadLeafOperand, at + "aux must be 0 for kind " + k.toString());
    }
    return true;
  }

  /** Header names are lower-case and non-empty; claim and metadata paths are NUL-separated
   *  non-empty segments (metadata: a filter name and at least one key). */
  keyShape(a: u32, p: usize, n: usize): bool {
    if (n == 0) return false;
    if (a == Attr.Header) {
      for (let i: usize = 0; i < n; i++) {
        const c = <u32>load<u8>(p + i);
        if (c == 0 || lower(c) != c) return false;
      }
      return true;
    }
    let segments = 1;
    let segLen: usize = 0;
    for (let i: usize = 0; i < n; i++) {
      if (load<u8>(p + i) == 0) {
        if (segLen == 0) return false;
        segments++;
        segLen = 0;
      } else {
        segLen++;
      }
    }
    if (segLen == 0) return false;
    return a == Attr.Metadata ? segments >= 2 : true;
  }

  nodes(): bool {
    const p = unchecked(this.secPtr[Section.Nodes]);
    const l = <u64>unchecked(this.secLen[Section.Nodes]);
    if (l < 4) return this.sizeError("nodes");
    const count = load<u32>(p);
    const recBytes = <u64>count * NODE_BYTES;
    if (4 + recBytes + 4 > l) return this.sizeError("nodes");
    const cp = p + 4 + <usize>recBytes;
    const childCount = load<u32>(cp);
    if (4 + recBytes + 4 + (<u64>childCount << 2) != l) return this.sizeError("nodes");
    const t = this.t;
    t.nodeCount = count;
    t.nodes = p + 4;
    t.childCount = childCount;
    t.children = cp + 4;
    if (count == 0) return true;
    const depth = heap.alloc(<usize>count);
    let ok = true;
    for (let i: u32 = 0; i < count && ok; i++) {
      ok = this.node(i, depth);
    }
    heap.free(depth);
    return ok;
  }

  node(i: u32, depth: usize): bool {
    const t = this.t;
    const at = "node " + i.toString() + ": ";
    const op = t.nodeOp(i);
    const n = t.nodeCountOf(i);
    const arg = t.nodeArg(i);
    if (load<u8>(t.nodes + <usize>i * NODE_BYTES, 1) != 0) return this.fail(DecodeError.BadNode, at + "reserved must be 0");
    switch (op) {
      case Op.Any:
        if (n != 0 || arg != 0) return this.fail(DecodeError.BadNode, at + "ANY with count or arg");
        store<u8>(depth + i, 1);
        return true;
      case Op.Leaf:
        if (n != 0) return this.fail(DecodeError.BadNode, at + "LEAF with count");
        if (arg >= t.leafCount) return this.fail(DecodeError.BadLeafIndex, at + "leaf " + arg.toString() + " out of range");
        store<u8>(depth + i, 1);
        return true;
      case Op.Not:
        if (n != 1) return this.fail(DecodeError.BadNode, at + "NOT needs exactly one child");
        break;
      case Op.And:
      case Op.Or:
        if (n == 0) return this.fail(DecodeError.BadNode, at + "AND/OR without children");
        break;
      default:
        return this.fail(DecodeError.BadNode, at + "unknown op " + op.toString());
    }
    if (<u64>arg + <u64>n > <u64>t.childCount) return this.fail(DecodeError.BadChild, at + "children out of range");
    let d: u32 = 0;
    for (let j = arg; j < arg + n; j++) {
      const c = t.child(j);
      if (c >= i) return this.fail(DecodeError.BadChild, at + "child " + c.toString() + " is not listed before its parent");
      const cd = <u32>load<u8>(depth + c);
      if (cd > d) d = cd;
    }
    if (d + 1 > MAX_DEPTH) return this.fail(DecodeError.TooDeep, at + "tree deeper than 32");
    store<u8>(depth + i, <u8>(d + 1));
    return true;
  }

  rules(): bool {
    const p = unchecked(this.secPtr[Section.Rules]);
    const l = <u64>unchecked(this.secLen[Section.Rules]);
    if (l < 4) return this.sizeError("rules");
    const count = load<u32>(p);
    if (4 + <u64>count * RULE_BYTES != l) return this.sizeError("rules");
    const t = this.t;
    t.ruleCount = count;
    t.rules = p + 4;
    for (let i: u32 = 0; i < count; i++) {
      const at = "rule " + i.toString() + ": ";
      const pol = t.rulePolicy(i);
      if (pol >= t.policyCount) return this.fail(DecodeError.BadRulePolicy, at + "policy " + pol.toString() + " out of range");
      const id = t.ruleId(i);
      if (!this.str(id)) return this.fail(DecodeError.BadStringIndex, at + "id_str out of range");
      if (t.ruleRoot(i) >= t.nodeCount) return this.fail(DecodeError.BadNodeIndex, at + "root_node out of range");
      const ns = t.policyNamespace(pol);
      const name = t.policyName(pol);
      if (!ruleIdIs(t.strPtr(id), t.strLen(id), t.strPtr(ns), t.strLen(ns), t.strPtr(name), t.strLen(name), t.ruleIndex(i))) {
        return this.fail(DecodeError.BadRuleId, at + "id_str is not ns[<ns>]-policy[<name>]-rule[<rule_index>] of its policy");
      }
      if (i > 0) {
        const prev = t.ruleId(i - 1);
        if (bytesCompare(t.strPtr(prev), t.strLen(prev), t.strPtr(id), t.strLen(id)) >= 0) {
          return this.fail(DecodeError.RuleOrder, at + "id not strictly after the previous rule's");
        }
      }
    }
    return true;
  }
}

function hostBitsZero(p: usize, n: usize, prefix: u32): bool {
  for (let i: usize = 0; i < n; i++) {
    const bitStart = <u32>(i << 3);
    let mask: u32;
    if (bitStart + 8 <= prefix) continue;
    if (bitStart >= prefix) mask = 0xff;
    else mask = 0xff >> (prefix - bitStart);
    if ((<u32>load<u8>(p + i) & mask) != 0) return false;
  }
  return true;
}

/** Compares id against "ns[" ns "]-policy[" name "]-rule[" index "]" without building it. */
function ruleIdIs(id: usize, idLen: usize, ns: usize, nsLen: usize, name: usize, nameLen: usize, index: u32): bool {
  let pos: usize = 0;
  pos = litAt(id, idLen, pos, "ns[");
  pos = bytesAt(id, idLen, pos, ns, nsLen);
  pos = litAt(id, idLen, pos, "]-policy[");
  pos = bytesAt(id, idLen, pos, name, nameLen);
  pos = litAt(id, idLen, pos, "]-rule[");
  const digits = index.toString();
  pos = litAt(id, idLen, pos, digits);
  pos = litAt(id, idLen, pos, "]");
  return pos == idLen;
}

const MISMATCH: usize = <usize>-1;

function litAt(p: usize, len: usize, pos: usize, s: string): usize {
  if (pos == MISMATCH) return MISMATCH;
  const n = <usize>s.length;
  if (len - pos < n) return MISMATCH;
  for (let i: usize = 0; i < n; i++) {
    if (<u32>load<u8>(p + pos + i) != <u32>s.charCodeAt(<i32>i)) return MISMATCH;
  }
  return pos + n;
}

function bytesAt(p: usize, len: usize, pos: usize, q: usize, n: usize): usize {
  if (pos == MISMATCH) return MISMATCH;
  if (len - pos < n) return MISMATCH;
  return memory.compare(p + pos, q, n) == 0 ? pos + n : MISMATCH;
}

/** Decodes and validates the blob at [base, base+len). On success the returned tables own `base`
 *  (free it with dispose()); on failure the caller still owns it. */
export function decodeBlob(base: usize, len: usize): Decoded {
  const d = new Decoder(base, len);
  // Dependency order: every section is validated after the sections its indices point into.
  const ok = d.header() && d.sections() && d.strings() && d.meta() && d.policies() && d.patterns() && d.leaves() && d.nodes() && d.rules();
  if (ok) {
    d.t.base = base;
    d.t.length = len;
    d.r.tables = d.t;
  }
  return d.r;
}
