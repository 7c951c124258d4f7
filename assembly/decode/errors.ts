// Typed decode failures. Every check of docs/blob-format.md maps to one code; the decoder also
// records where (record kind and index), and the message is built from both only when logged, so
// the critical log line is enough to find the bad input.

export enum DecodeError {
  None = 0,
  /** Shorter than a header, a section header, a payload or its padding. */
  Truncated,
  BadMagic,
  BadMajor,
  BadMinor,
  /** total_length differs from the blob's length. */
  BadLength,
  BadChecksum,
  BadFlags,
  BadSectionCount,
  /** A section tag out of order / not 1..7. */
  BadSectionTag,
  /** Non-zero padding after a section payload. */
  BadPadding,
  /** A section payload not consumed exactly, or counts that do not fit in it. */
  BadSectionSize,
  /** Bytes after the last section. */
  TrailingBytes,
  /** offsets[0] != 0, offsets[count] != pool length, or a string used whose range is inverted. */
  BadStringOffsets,
  /** A *_str index out of range, or NONE where a string is required (or vice versa). */
  BadStringIndex,
  /** Policy action, flags, reserved or provider invalid. */
  BadPolicy,
  BadLabelRange,
  BadRulePolicy,
  /** Rule ids not strictly ascending bytewise. */
  RuleOrder,
  /** id_str is not ns[<ns>]-policy[<name>]-rule[<i>] of its policy and rule_index. */
  BadRuleId,
  /** A node index (rule root) out of range. */
  BadNodeIndex,
  /** Node op, reserved or count/arg shape invalid. */
  BadNode,
  /** A children[] range out of bounds, or a child not listed before its parent. */
  BadChild,
  TooDeep,
  BadLeafIndex,
  /** Leaf attribute, kind, flags, reserved or attribute/kind combination invalid. */
  BadLeaf,
  /** Leaf key/value/aux invalid for its kind (CIDR bytes, prefix, host bits, port, header name). */
  BadLeafOperand,
  BadPatternIndex,
  /** Pattern piece range invalid. */
  BadPattern,
  /** Piece kind, class, min, reserved or str invalid. */
  BadPiece,
  /** Provider kind, flags, order or item range invalid (1.1 PROVIDERS). */
  BadProvider,
}

export function decodeErrorName(e: DecodeError): string {
  switch (e) {
    case DecodeError.None: return "none";
    case DecodeError.Truncated: return "truncated";
    case DecodeError.BadMagic: return "bad_magic";
    case DecodeError.BadMajor: return "bad_major";
    case DecodeError.BadMinor: return "bad_minor";
    case DecodeError.BadLength: return "bad_length";
    case DecodeError.BadChecksum: return "bad_checksum";
    case DecodeError.BadFlags: return "bad_flags";
    case DecodeError.BadSectionCount: return "bad_section_count";
    case DecodeError.BadSectionTag: return "bad_section_tag";
    case DecodeError.BadPadding: return "bad_padding";
    case DecodeError.BadSectionSize: return "bad_section_size";
    case DecodeError.TrailingBytes: return "trailing_bytes";
    case DecodeError.BadStringOffsets: return "bad_string_offsets";
    case DecodeError.BadStringIndex: return "bad_string_index";
    case DecodeError.BadPolicy: return "bad_policy";
    case DecodeError.BadLabelRange: return "bad_label_range";
    case DecodeError.BadRulePolicy: return "bad_rule_policy";
    case DecodeError.RuleOrder: return "rule_order";
    case DecodeError.BadRuleId: return "bad_rule_id";
    case DecodeError.BadNodeIndex: return "bad_node_index";
    case DecodeError.BadNode: return "bad_node";
    case DecodeError.BadChild: return "bad_child";
    case DecodeError.TooDeep: return "too_deep";
    case DecodeError.BadLeafIndex: return "bad_leaf_index";
    case DecodeError.BadLeaf: return "bad_leaf";
    case DecodeError.BadLeafOperand: return "bad_leaf_operand";
    case DecodeError.BadPatternIndex: return "bad_pattern_index";
    case DecodeError.BadPattern: return "bad_pattern";
    case DecodeError.BadPiece: return "bad_piece";
    case DecodeError.BadProvider: return "bad_provider";
  }
  return "unknown";
}

/** The coarse failure class shared with the TypeScript encoder's test vectors
 *  (tests/vectors/*.json "error"): truncated, magic, version, length, checksum, flags, section,
 *  index, order, structure. */
export function decodeErrorCategory(e: DecodeError): string {
  switch (e) {
    case DecodeError.None: return "none";
    case DecodeError.Truncated: return "truncated";
    case DecodeError.BadMagic: return "magic";
    case DecodeError.BadMajor:
    case DecodeError.BadMinor: return "version";
    case DecodeError.BadLength: return "length";
    case DecodeError.BadChecksum: return "checksum";
    case DecodeError.BadFlags: return "flags";
    case DecodeError.BadSectionCount:
    case DecodeError.BadSectionTag:
    case DecodeError.BadPadding:
    case DecodeError.BadSectionSize:
    case DecodeError.TrailingBytes: return "section";
    case DecodeError.BadStringIndex:
    case DecodeError.BadLabelRange:
    case DecodeError.BadRulePolicy:
    case DecodeError.BadNodeIndex:
    case DecodeError.BadLeafIndex:
    case DecodeError.BadPatternIndex:
    case DecodeError.BadProvider: return "index";
    case DecodeError.RuleOrder: return "order";
  }
  // Offsets, ids, node/leaf/pattern shapes, child order, depth.
  return "structure";
}

/** What a decode error points at (the record index is logged after it). */
export namespace Where {
  export const Blob: u32 = 0;
  export const Section: u32 = 1;
  export const Str: u32 = 2;
  export const Policy: u32 = 3;
  export const Label: u32 = 4;
  export const Rule: u32 = 5;
  export const Node: u32 = 6;
  export const Leaf: u32 = 7;
  export const Pattern: u32 = 8;
  export const Piece: u32 = 9;
  export const Provider: u32 = 10;
}

const WHERE = ["blob", "section", "string", "policy", "label", "rule", "node", "leaf", "pattern", "piece", "provider"];

/** "bad_leaf at leaf 12" */
export function decodeErrorText(e: DecodeError, where: u32, at: u32): string {
  let s = decodeErrorName(e);
  if (where != Where.Blob && where < <u32>WHERE.length) s += " at " + WHERE[where] + " " + at.toString();
  return s;
}
