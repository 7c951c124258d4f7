// The decoder's checks. decodeAll checks every rule as if every policy applied (the full format);
// the filter checks eagerly what every sidecar reads and the rest only for its workload's rules
// (decision tests in filter-config.spec.ts).
import { Decoded, decodeAll, decodeBlob } from "../../assembly/decode/decoder";
import { DecodeError, decodeErrorName } from "../../assembly/decode/errors";
import { NONE as NO_STR } from "../../assembly/decode/format";
import { Tables } from "../../assembly/decode/tables";
import { A, ALLOW, AUDIT, BlobBuilder, CUSTOM, DENY, K, bytesOf, heapCopy, peek32, poke32, poke8, seal } from "./helpers/blob";

function decode(b: ArrayBuffer): Decoded {
  const p = heapCopy(b);
  const d = decodeAll(p, <usize>b.byteLength);
  if (d.error != DecodeError.None) heap.free(p);
  return d;
}

/** Only the eager checks (what the filter checks before knowing its workload). */
function decodeEager(b: ArrayBuffer): DecodeError {
  const p = heapCopy(b);
  const d = decodeBlob(p, <usize>b.byteLength);
  if (d.error != DecodeError.None) heap.free(p);
  else d.tables!.dispose();
  return d.error;
}

/** The id the filter derives for rule r. */
function derivedId(t: Tables, r: u32): string {
  const pol = t.rulePolicy(r);
  return "ns[" + str(t, t.policyNamespace(pol)) + "]-policy[" + str(t, t.policyName(pol)) + "]-rule[" + t.ruleIndex(r).toString() + "]";
}

/** One DENY rule of policy ns/p on node n (so that decodeAll reaches it). */
function ruleOn(b: BlobBuilder, n: u32): BlobBuilder {
  b.rule(b.policy("ns", "p", DENY), 0, n);
  return b;
}

function errorOf(b: ArrayBuffer): DecodeError {
  return decode(b).error;
}

function str(t: Tables, i: u32): string {
  return String.UTF8.decodeUnsafe(t.strPtr(i), t.strLen(i));
}

// Indices of the rich blob, filled by rich().
let nGet: u32 = 0;
let nPath: u32 = 0;
let nAnd: u32 = 0;
let nPat: u32 = 0;
let nCidr: u32 = 0;

/** A blob using every section: 4 policies (one with labels), 12 rules, patterns, CIDR, port. */
function rich(storeIds: bool = false): BlobBuilder {
  const b = new BlobBuilder();
  b.storeIds = storeIds;
  const allow = b.policy("shop", "allow-web", ALLOW, false, "", ["app", "web", "tier", "front"]);
  const deny = b.policy("shop", "deny-admin", DENY);
  const audit = b.policy("istio-system", "mesh-audit", AUDIT);
  const ext = b.policy("shop", "ext", CUSTOM, false, "opa");
  nGet = b.leaf(A.Method, K.Exact, "GET");
  nPath = b.leaf(A.UrlPath, K.Prefix, "/api/");
  nAnd = b.and([nGet, nPath]);
  nPat = b.patternLeaf(A.UrlPath, ["/a/", "\x0021", "/b"]);
  nCidr = b.cidr(A.SourceIp, [10, 1, 0, 0], 16);
  const port = b.port(8080);
  const hdr = b.leaf(A.Header, K.Suffix, "acme", "x-tenant", 1);
  const jwt = b.leaf(A.JwtClaim, K.Exact, "admins", "groups", 2);
  const md = b.leaf(A.Metadata, K.NonEmpty, "", "envoy.filters.http.ext_authz\0tenant");
  for (let i: u32 = 0; i < 11; i++) b.rule(allow, i, i % 2 == 0 ? nAnd : b.or([nPat, port]));
  b.rule(deny, 0, b.not(hdr));
  b.rule(audit, 0, b.any());
  b.rule(ext, 0, b.and([jwt, md, nCidr]));
  return b;
}

describe("decoder: valid blobs", () => {
  it("decodes every section of a hand-built blob", () => {
    const b = rich();
    const d = decode(b.build());
    expect<string>(decodeErrorName(d.error)).toBe("none");
    const t = d.tables!;
    expect<u32>(t.policyCount).toBe(4);
    expect<u32>(t.ruleCount).toBe(14);
    expect<u32>(t.labelCount).toBe(2);
    expect<u32>(t.patternCount).toBe(1);
    expect<u32>(t.pieceCount).toBe(3);
    expect<string>(str(t, t.rootNamespace)).toBe("istio-system");
    expect<string>(str(t, t.policyName(0))).toBe("allow-web");
    expect<u32>(t.policyAction(3)).toBe(3);
    expect<string>(str(t, t.policyProvider(3))).toBe("opa");
    expect<string>(str(t, t.labelKey(t.policyLabelFirst(0) + 1))).toBe("tier");
    t.dispose();
  });
  it("keeps rules in id byte order: rule[10] sorts before rule[1] and rule[2]", () => {
    const t = decode(rich().build()).tables!;
    expect<string>(derivedId(t, 0)).toBe("ns[istio-system]-policy[mesh-audit]-rule[0]");
    expect<string>(derivedId(t, 1)).toBe("ns[shop]-policy[allow-web]-rule[0]");
    expect<string>(derivedId(t, 2)).toBe("ns[shop]-policy[allow-web]-rule[10]");
    expect<string>(derivedId(t, 3)).toBe("ns[shop]-policy[allow-web]-rule[1]");
    expect<string>(derivedId(t, 4)).toBe("ns[shop]-policy[allow-web]-rule[2]");
    expect<u32>(t.ruleIndex(2)).toBe(10);
    expect<u32>(t.ruleId(2)).toBe(NO_STR);
    t.dispose();
  });
  it("accepts a stored id_str that equals the derived id", () => {
    const t = decode(rich(true).build()).tables!;
    expect<string>(str(t, t.ruleId(2))).toBe("ns[shop]-policy[allow-web]-rule[10]");
    t.dispose();
  });
  it("accepts an empty mesh", () => {
    const d = decode(new BlobBuilder().build());
    expect<DecodeError>(d.error).toBe(DecodeError.None);
    expect<u32>(d.tables!.ruleCount).toBe(0);
    d.tables!.dispose();
  });
  it("accepts a tree of depth exactly 32", () => {
    const b = new BlobBuilder();
    const p = b.policy("ns", "deep", DENY);
    let n = b.leaf(A.Method, K.Exact, "GET");
    for (let i = 1; i < 32; i++) n = b.not(n);
    b.rule(p, 0, n);
    expect<DecodeError>(errorOf(b.build())).toBe(DecodeError.None);
  });
});

describe("decoder: header errors", () => {
  it("Truncated: shorter than the header", () => {
    const b = new ArrayBuffer(10);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.Truncated);
    expect<DecodeError>(errorOf(new ArrayBuffer(0))).toBe(DecodeError.Truncated);
  });
  it("Truncated: a section past the end", () => {
    const full = rich().build();
    const cut = full.slice(0, 40);
    seal(cut);
    expect<DecodeError>(errorOf(cut)).toBe(DecodeError.Truncated);
    const headerOnly = full.slice(0, 24);
    seal(headerOnly);
    expect<DecodeError>(errorOf(headerOnly)).toBe(DecodeError.Truncated);
  });
  it("BadMagic", () => {
    const b = rich().build();
    poke8(b, 0, 0x58);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadMagic);
  });
  it("BadMajor", () => {
    const b = rich().build();
    store<u16>(changetype<usize>(b), 2, 4);
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadMajor);
  });
  it("BadMinor: a newer minor is refused", () => {
    const b = rich().build();
    store<u16>(changetype<usize>(b), 4, 6);
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadMinor);
  });
  it("BadLength", () => {
    const b = rich().build();
    poke32(b, 8, <u32>b.byteLength + 4);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadLength);
  });
  it("BadChecksum", () => {
    const b = rich().build();
    poke8(b, b.byteLength - 1, load<u8>(changetype<usize>(b) + <usize>b.byteLength - 1) ^ 0x40);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadChecksum);
  });
  it("BadFlags", () => {
    const b = rich().build();
    poke32(b, 16, 1);
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadFlags);
  });
  it("BadSectionCount", () => {
    const b = rich().build();
    poke32(b, 20, 8);
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadSectionCount);
  });
});

describe("decoder: section framing errors", () => {
  it("BadSectionTag", () => {
    const b = rich().build();
    poke32(b, 24, 2);
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadSectionTag);
  });
  it("BadPadding", () => {
    const bb = rich();
    let b = bb.build();
    if (peek32(b, 28) % 4 == 0) {
      bb.str("x");
      b = bb.build();
    }
    const len = peek32(b, 28);
    expect<u32>(len % 4).not.toBe(0);
    poke8(b, bb.sectionAt[1] + <i32>len, 1);
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadPadding);
  });
  it("BadSectionSize: counts that do not fit the payload", () => {
    const bb = rich();
    const b = bb.build();
    poke32(b, bb.sectionAt[1], 0xffffffff); // string count
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadSectionSize);
    const c = bb.build();
    poke32(c, bb.sectionAt[6], peek32(c, bb.sectionAt[6]) + 1); // leaf count
    seal(c);
    expect<DecodeError>(errorOf(c)).toBe(DecodeError.BadSectionSize);
    const m = bb.build();
    poke32(m, bb.sectionAt[2] - 4, 4); // META length 4 (padding keeps the framing valid)
    seal(m);
    expect<DecodeError>(errorOf(m)).not.toBe(DecodeError.None);
  });
  it("TrailingBytes", () => {
    const b = rich().build();
    const longer = new ArrayBuffer(b.byteLength + 4);
    memory.copy(changetype<usize>(longer), changetype<usize>(b), <usize>b.byteLength);
    seal(longer);
    expect<DecodeError>(errorOf(longer)).toBe(DecodeError.TrailingBytes);
  });
});

describe("decoder: table errors", () => {
  it("BadStringOffsets", () => {
    const bb = rich();
    const b = bb.build();
    poke32(b, bb.sectionAt[1] + 4, 1); // offsets[0]
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadStringOffsets);
    const c = bb.build();
    poke32(c, bb.sectionAt[1] + 8, 0xfffffff0); // offsets[1] > offsets[2]
    seal(c);
    expect<DecodeError>(errorOf(c)).toBe(DecodeError.BadStringOffsets);
  });
  it("accepts a repeated string (storing each once is the encoder's business)", () => {
    const bb = rich();
    bb.strs.push(String.UTF8.encode("GET"));
    expect<DecodeError>(errorOf(bb.build())).toBe(DecodeError.None);
  });
  it("BadStringIndex", () => {
    const bb = rich();
    const b = bb.build();
    poke32(b, bb.sectionAt[2], 9999); // root_namespace_str
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadStringIndex);
    const c = bb.build();
    poke32(c, bb.sectionAt[3] + 4 + 12, 0); // provider_str on an ALLOW policy
    seal(c);
    expect<DecodeError>(errorOf(c)).toBe(DecodeError.BadStringIndex);
  });
  it("BadPolicy", () => {
    const bb = rich();
    const b = bb.build();
    poke8(b, bb.sectionAt[3] + 4 + 8, 7); // action
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadPolicy);
    const c = bb.build();
    poke8(c, bb.sectionAt[3] + 4 + 9, 2); // flags
    seal(c);
    expect<DecodeError>(errorOf(c)).toBe(DecodeError.BadPolicy);
  });
  it("BadLabelRange", () => {
    const bb = rich();
    const b = bb.build();
    poke32(b, bb.sectionAt[3] + 4 + 20, 3); // label_count of policy 0 (2 labels exist)
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadLabelRange);
    const c = bb.build();
    poke32(c, bb.sectionAt[3] + 4 + 16, 0xffffffff); // label_first overflow
    seal(c);
    expect<DecodeError>(errorOf(c)).toBe(DecodeError.BadLabelRange);
  });
  it("BadRulePolicy", () => {
    const bb = rich();
    const b = bb.build();
    poke32(b, bb.sectionAt[4] + 4, 99);
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadRulePolicy);
  });
  it("RuleOrder", () => {
    const bb = rich();
    const b = bb.build();
    const r0 = changetype<usize>(b) + <usize>bb.sectionAt[4] + 4;
    const tmp = heap.alloc(16);
    memory.copy(tmp, r0 + 16, 16);
    memory.copy(r0 + 16, r0 + 32, 16);
    memory.copy(r0 + 32, tmp, 16);
    heap.free(tmp);
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.RuleOrder);
  });
  it("BadRuleId: a stored id_str that is not the derived id", () => {
    const bb = rich(true);
    const b = bb.build();
    poke32(b, bb.sectionAt[4] + 4 + 4, 7); // rule_index no longer matches the id
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadRuleId);
  });
  it("BadNodeIndex", () => {
    const bb = rich();
    const b = bb.build();
    poke32(b, bb.sectionAt[4] + 4 + 12, 9999); // root_node
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadNodeIndex);
  });
  it("BadNode", () => {
    const bb = rich();
    const b = bb.build();
    poke8(b, bb.sectionAt[5] + 4 + 8 * <i32>nGet, 9); // op
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadNode);
    const c = bb.build();
    store<u16>(changetype<usize>(c) + <usize>(bb.sectionAt[5] + 4 + 8 * <i32>nAnd), 0, 2); // AND without children
    seal(c);
    expect<DecodeError>(errorOf(c)).toBe(DecodeError.BadNode);
  });
  it("BadChild: a child not listed before its parent, or out of range", () => {
    const bb = rich();
    const b = bb.build();
    const nodes = bb.sectionAt[5];
    const count = <i32>peek32(b, nodes);
    const children = nodes + 8 + 8 * count;
    const first = <i32>peek32(b, nodes + 4 + 8 * <i32>nAnd + 4);
    poke32(b, children + 4 * first, nAnd); // AND's first child = itself
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadChild);
    const c = bb.build();
    poke32(c, nodes + 4 + 8 * <i32>nAnd + 4, 0xfffffff0); // children range out of bounds
    seal(c);
    expect<DecodeError>(errorOf(c)).toBe(DecodeError.BadChild);
  });
  it("TooDeep: depth 33", () => {
    const b = new BlobBuilder();
    const p = b.policy("ns", "deep", DENY);
    let n = b.leaf(A.Method, K.Exact, "GET");
    for (let i = 1; i < 33; i++) n = b.not(n);
    b.rule(p, 0, n);
    expect<DecodeError>(errorOf(b.build())).toBe(DecodeError.TooDeep);
  });
  it("BadLeafIndex", () => {
    const bb = rich();
    const b = bb.build();
    poke32(b, bb.sectionAt[5] + 4 + 8 * <i32>nGet + 4, 9999);
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadLeafIndex);
  });
  it("BadLeaf: attribute, kind, combination, flags, reserved", () => {
    const bb = rich();
    bb.build(); // fills sectionAt
    const leaf0 = bb.sectionAt[6] + 4; // leaf 0: METHOD EXACT GET
    const cases: Array<i32> = [0, 14, 1, 9, 1, 7, 2, 4, 3, 1, 2, 2];
    for (let i = 0; i < cases.length; i += 2) {
      const b = bb.build();
      poke8(b, leaf0 + cases[i], <u8>cases[i + 1]);
      seal(b);
      expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadLeaf);
    }
  });
  it("BadLeafOperand: CIDR host bits, prefix, address size; port; header case; claim path", () => {
    const hostBits = new BlobBuilder();
    ruleOn(hostBits, hostBits.cidr(A.SourceIp, [10, 1, 2, 3], 16));
    expect<DecodeError>(errorOf(hostBits.build())).toBe(DecodeError.BadLeafOperand);
    const longPrefix = new BlobBuilder();
    ruleOn(longPrefix, longPrefix.cidr(A.SourceIp, [10, 1, 2, 3], 33));
    expect<DecodeError>(errorOf(longPrefix.build())).toBe(DecodeError.BadLeafOperand);
    const size = new BlobBuilder();
    ruleOn(size, size.cidr(A.SourceIp, [10, 1, 2], 8));
    expect<DecodeError>(errorOf(size.build())).toBe(DecodeError.BadLeafOperand);
    const port = new BlobBuilder();
    ruleOn(port, port.port(65536));
    expect<DecodeError>(errorOf(port.build())).toBe(DecodeError.BadLeafOperand);
    const header = new BlobBuilder();
    ruleOn(header, header.leaf(A.Header, K.Exact, "v", "X-Tenant"));
    expect<DecodeError>(errorOf(header.build())).toBe(DecodeError.BadLeafOperand);
    const claim = new BlobBuilder();
    ruleOn(claim, claim.leaf(A.JwtClaim, K.Exact, "v", "realm\0\0role"));
    expect<DecodeError>(errorOf(claim.build())).toBe(DecodeError.BadLeafOperand);
    const md = new BlobBuilder();
    ruleOn(md, md.leaf(A.Metadata, K.Exact, "v", "only-a-filter-name"));
    expect<DecodeError>(errorOf(md.build())).toBe(DecodeError.BadLeafOperand);
    const typed = new BlobBuilder();
    ruleOn(typed, typed.mdLeaf(K.Exact, "v", ["only-a-filter-name"]));
    expect<DecodeError>(errorOf(typed.build())).toBe(DecodeError.BadLeafOperand);
    const noFilter = new BlobBuilder();
    ruleOn(noFilter, noFilter.mdLeaf(K.Exact, "v", ["", "key"]));
    expect<DecodeError>(errorOf(noFilter.build())).toBe(DecodeError.BadLeafOperand);
    const overrun = new BlobBuilder();
    ruleOn(overrun, overrun.rawLeaf(A.DynamicMetadata, K.Exact, 0, overrun.strBytes(bytesOf([1, 0, 0, 0, 0x66, 9, 0, 0, 0, 0x6b])), overrun.str("v"), 0));
    expect<DecodeError>(errorOf(overrun.build())).toBe(DecodeError.BadLeafOperand);
    const emptyKey = new BlobBuilder();
    ruleOn(emptyKey, emptyKey.mdLeaf(K.Exact, "v", ["f", ""]));
    expect<DecodeError>(errorOf(emptyKey.build())).toBe(DecodeError.None);
    const bothLists = new BlobBuilder();
    ruleOn(bothLists, bothLists.mdLeaf(K.Exact, "v", ["f", "k"], 2 | 4));
    expect<DecodeError>(errorOf(bothLists.build())).toBe(DecodeError.BadLeaf);
    const listOnHeader = new BlobBuilder();
    ruleOn(listOnHeader, listOnHeader.leaf(A.Header, K.Exact, "v", "x-a", 4));
    expect<DecodeError>(errorOf(listOnHeader.build())).toBe(DecodeError.BadLeaf);
    const aux = new BlobBuilder();
    ruleOn(aux, aux.leaf(A.Method, K.Exact, "GET", "", 0, 5));
    expect<DecodeError>(errorOf(aux.build())).toBe(DecodeError.BadLeafOperand);
  });
  it("checks only what rules reach: an unused bad leaf is covered by the CRC alone", () => {
    const b = new BlobBuilder();
    b.cidr(A.SourceIp, [10, 1, 2, 3], 16); // host bits set, but no rule uses it
    expect<DecodeError>(errorOf(b.build())).toBe(DecodeError.None);
    const used = new BlobBuilder();
    ruleOn(used, used.cidr(A.SourceIp, [10, 1, 2, 3], 16));
    expect<DecodeError>(decodeEager(used.build())).toBe(DecodeError.None); // eager part: fine
    expect<DecodeError>(errorOf(used.build())).toBe(DecodeError.BadLeafOperand); // reached: rejected
  });
  it("accepts IGNORE_CASE on any kind (the compiler sets it on hosts' `*`)", () => {
    const b = new BlobBuilder();
    ruleOn(b, b.leaf(A.Host, K.Present, "", "", 1));
    expect<DecodeError>(errorOf(b.build())).toBe(DecodeError.None);
  });
  it("BadPatternIndex", () => {
    const bb = rich();
    const b = bb.build();
    const leafOfPat = peek32(b, bb.sectionAt[5] + 4 + 8 * <i32>nPat + 4);
    poke32(b, bb.sectionAt[6] + 4 + 16 * <i32>leafOfPat + 12, 5);
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadPatternIndex);
  });
  it("BadPattern", () => {
    const bb = rich();
    const b = bb.build();
    poke32(b, bb.sectionAt[7] + 4 + 4, 0); // piece_count 0
    seal(b);
    expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadPattern);
    const c = bb.build();
    poke32(c, bb.sectionAt[7] + 4 + 4, 4); // past piece_count_total
    seal(c);
    expect<DecodeError>(errorOf(c)).toBe(DecodeError.BadPattern);
  });
  it("BadPiece", () => {
    const bb = rich();
    bb.build(); // fills sectionAt
    const pieces = bb.sectionAt[7] + 4 + 8 + 4; // one pattern, then piece_count_total
    const gap = pieces + 8; // piece 1 is the gap
    const cases: Array<i32> = [gap + 2, 2, gap + 1, 4, gap + 3, 1, pieces, 2, pieces + 1, 1];
    for (let i = 0; i < cases.length; i += 2) {
      const b = bb.build();
      poke8(b, cases[i], <u8>cases[i + 1]);
      seal(b);
      expect<DecodeError>(errorOf(b)).toBe(DecodeError.BadPiece);
    }
    const c = bb.build();
    poke32(c, gap + 4, 0); // gap with a str
    seal(c);
    expect<DecodeError>(errorOf(c)).toBe(DecodeError.BadPiece);
  });
  it("never traps on random corruption of a valid blob", () => {
    const base = rich().build();
    let seed: u32 = 12345;
    let rejected = 0;
    for (let k = 0; k < 3000; k++) {
      const b = base.slice(0);
      const flips = 1 + (k % 4);
      for (let f = 0; f < flips; f++) {
        seed = seed * 1103515245 + 12345;
        const at = 24 + <i32>((seed >>> 8) % <u32>(b.byteLength - 24));
        seed = seed * 1103515245 + 12345;
        poke8(b, at, <u8>(seed >>> 16));
      }
      seal(b);
      const d = decode(b);
      if (d.error != DecodeError.None) rejected++;
      else d.tables!.dispose();
    }
    expect<i32>(rejected).toBeGreaterThan(2000);
  });
});
