// The decoded blob: typed accessors over the retained blob bytes. Nothing is copied: records are
// read in place with unaligned loads, and strings are (ptr,len) ranges of the pool. The decoder
// checks the header, the framing, the POLICIES table and every rule's policy index; everything
// else is checked by decode/reach.ts for the rules a workload uses, before anything reads it.
// Every index the accessors receive was range-checked, hence no checks here.
import { DecodeError } from "./errors";
import { ITEM_BYTES, LABEL_BYTES, LEAF_BYTES, NODE_BYTES, PATTERN_BYTES, PIECE_BYTES, POLICY_BYTES, PROVIDER_BYTES, RULE_BYTES } from "./format";

// Unmanaged (no GC header, no shadow-stack spills on the hot path): freed by dispose().
@unmanaged
export class Tables {
  /** The blob (heap.alloc'd); owned by the Tables, freed by dispose(). */
  base: usize = 0;
  length: usize = 0;

  strCount: u32 = 0;
  strOffsets: usize = 0;
  strPool: usize = 0;
  strPoolLen: u32 = 0;

  rootNamespace: u32 = 0;
  generator: u32 = 0;

  policyCount: u32 = 0;
  policies: usize = 0;
  labelCount: u32 = 0;
  labels: usize = 0;

  ruleCount: u32 = 0;
  rules: usize = 0;
  /** 1.1 TCP_RULES: a u32 root per rule; a 1.0 blob has none (hasTcp false). */
  hasTcp: bool = false;
  tcpRoots: usize = 0;

  nodeCount: u32 = 0;
  nodes: usize = 0;
  childCount: u32 = 0;
  children: usize = 0;

  leafCount: u32 = 0;
  leaves: usize = 0;

  patternCount: u32 = 0;
  patterns: usize = 0;
  pieceCount: u32 = 0;
  pieces: usize = 0;

  providerCount: u32 = 0;
  providers: usize = 0;
  itemCount: u32 = 0;
  items: usize = 0;

  /** Frees the blob and this object. */
  dispose(): void {
    if (this.base != 0) heap.free(this.base);
    heap.free(changetype<usize>(this));
  }

  // Strings
  /** String i exists (else BadStringIndex) and its range lies in the pool (else
   *  BadStringOffsets): offsets are checked per string, when the string is used. */
  strError(i: u32): DecodeError {
    if (i >= this.strCount) return DecodeError.BadStringIndex;
    const o = this.strOffsets + (<usize>i << 2);
    const a = load<u32>(o);
    const b = load<u32>(o, 4);
    return a <= b && b <= this.strPoolLen ? DecodeError.None : DecodeError.BadStringOffsets;
  }
  @inline strPtr(i: u32): usize {
    return this.strPool + <usize>load<u32>(this.strOffsets + (<usize>i << 2));
  }
  @inline strLen(i: u32): usize {
    const o = this.strOffsets + (<usize>i << 2);
    return <usize>(load<u32>(o + 4) - load<u32>(o));
  }

  // Policies
  @inline policyNamespace(i: u32): u32 { return load<u32>(this.policies + <usize>i * POLICY_BYTES); }
  @inline policyName(i: u32): u32 { return load<u32>(this.policies + <usize>i * POLICY_BYTES, 4); }
  @inline policyAction(i: u32): u32 { return load<u8>(this.policies + <usize>i * POLICY_BYTES, 8); }
  @inline policyFlags(i: u32): u32 { return load<u8>(this.policies + <usize>i * POLICY_BYTES, 9); }
  @inline policyProvider(i: u32): u32 { return load<u32>(this.policies + <usize>i * POLICY_BYTES, 12); }
  @inline policyLabelFirst(i: u32): u32 { return load<u32>(this.policies + <usize>i * POLICY_BYTES, 16); }
  @inline policyLabelCount(i: u32): u32 { return load<u32>(this.policies + <usize>i * POLICY_BYTES, 20); }
  @inline labelKey(i: u32): u32 { return load<u32>(this.labels + <usize>i * LABEL_BYTES); }
  @inline labelValue(i: u32): u32 { return load<u32>(this.labels + <usize>i * LABEL_BYTES, 4); }

  // Providers (1.1)
  @inline providerName(i: u32): u32 { return load<u32>(this.providers + <usize>i * PROVIDER_BYTES); }
  @inline providerKind(i: u32): u32 { return load<u8>(this.providers + <usize>i * PROVIDER_BYTES, 4); }
  @inline providerFlags(i: u32): u32 { return load<u8>(this.providers + <usize>i * PROVIDER_BYTES, 5); }
  @inline providerStatusOnError(i: u32): u32 { return load<u16>(this.providers + <usize>i * PROVIDER_BYTES, 6); }
  @inline providerCluster(i: u32): u32 { return load<u32>(this.providers + <usize>i * PROVIDER_BYTES, 8); }
  @inline providerAuthority(i: u32): u32 { return load<u32>(this.providers + <usize>i * PROVIDER_BYTES, 12); }
  @inline providerTimeoutMs(i: u32): u32 { return load<u32>(this.providers + <usize>i * PROVIDER_BYTES, 16); }
  @inline providerPathPrefix(i: u32): u32 { return load<u32>(this.providers + <usize>i * PROVIDER_BYTES, 20); }
  @inline providerItemFirst(i: u32): u32 { return load<u32>(this.providers + <usize>i * PROVIDER_BYTES, 24); }
  /** k: 0 include, 1 upstream, 2 downstream, 3 add. */
  @inline providerItems(i: u32, k: u32): u32 { return load<u16>(this.providers + <usize>i * PROVIDER_BYTES + 28 + (<usize>k << 1)); }
  @inline itemA(i: u32): u32 { return load<u32>(this.items + <usize>i * ITEM_BYTES); }
  @inline itemB(i: u32): u32 { return load<u32>(this.items + <usize>i * ITEM_BYTES, 4); }

  // Rules
  @inline rulePolicy(i: u32): u32 { return load<u32>(this.rules + <usize>i * RULE_BYTES); }
  @inline ruleIndex(i: u32): u32 { return load<u32>(this.rules + <usize>i * RULE_BYTES, 4); }
  @inline ruleId(i: u32): u32 { return load<u32>(this.rules + <usize>i * RULE_BYTES, 8); }
  @inline ruleRoot(i: u32): u32 { return load<u32>(this.rules + <usize>i * RULE_BYTES, 12); }
  /** Rule i's root on a TCP filter chain, or NONE when the rule is dropped there (1.1). */
  @inline ruleTcpRoot(i: u32): u32 { return load<u32>(this.tcpRoots + (<usize>i << 2)); }

  // Nodes
  @inline nodeOp(i: u32): u32 { return load<u8>(this.nodes + <usize>i * NODE_BYTES); }
  @inline nodeCountOf(i: u32): u32 { return load<u16>(this.nodes + <usize>i * NODE_BYTES, 2); }
  @inline nodeArg(i: u32): u32 { return load<u32>(this.nodes + <usize>i * NODE_BYTES, 4); }
  @inline child(j: u32): u32 { return load<u32>(this.children + (<usize>j << 2)); }

  // Leaves
  @inline leafAttr(i: u32): u32 { return load<u8>(this.leaves + <usize>i * LEAF_BYTES); }
  @inline leafKind(i: u32): u32 { return load<u8>(this.leaves + <usize>i * LEAF_BYTES, 1); }
  @inline leafFlags(i: u32): u32 { return load<u8>(this.leaves + <usize>i * LEAF_BYTES, 2); }
  @inline leafKey(i: u32): u32 { return load<u32>(this.leaves + <usize>i * LEAF_BYTES, 4); }
  @inline leafValue(i: u32): u32 { return load<u32>(this.leaves + <usize>i * LEAF_BYTES, 8); }
  @inline leafAux(i: u32): u32 { return load<u32>(this.leaves + <usize>i * LEAF_BYTES, 12); }

  // Patterns
  @inline patternFirst(i: u32): u32 { return load<u32>(this.patterns + <usize>i * PATTERN_BYTES); }
  @inline patternPieces(i: u32): u32 { return load<u32>(this.patterns + <usize>i * PATTERN_BYTES, 4); }
  @inline pieceKind(j: u32): u32 { return load<u8>(this.pieces + <usize>j * PIECE_BYTES); }
  @inline pieceClass(j: u32): u32 { return load<u8>(this.pieces + <usize>j * PIECE_BYTES, 1); }
  @inline pieceMin(j: u32): u32 { return load<u8>(this.pieces + <usize>j * PIECE_BYTES, 2); }
  @inline pieceStr(j: u32): u32 { return load<u32>(this.pieces + <usize>j * PIECE_BYTES, 4); }
}
