// Numbers of blob format 1.3 (docs/blob-format.md).

export const MAGIC: u32 = 0x425a414d; // "MAZB" read as little-endian u32
export const MAJOR: u16 = 1;
/** The highest minor this decoder understands. */
export const MINOR: u16 = 3;
export const HEADER_BYTES: u32 = 24;
/** Sections of a 1.0 blob; 1.1 adds TCP_RULES (1.2 adds none); 1.3 adds PROVIDERS. */
export const SECTION_COUNT_1_0: u32 = 7;
export const SECTION_COUNT_1_1: u32 = 8;
export const SECTION_COUNT_1_3: u32 = 9;
export const NONE: u32 = 0xffffffff;
export const MAX_DEPTH: u32 = 32;

export namespace Section {
  export const Strings: u32 = 1;
  export const Meta: u32 = 2;
  export const Policies: u32 = 3;
  export const Rules: u32 = 4;
  export const Nodes: u32 = 5;
  export const Leaves: u32 = 6;
  export const Patterns: u32 = 7;
  /** 1.1: each rule's root on a TCP filter chain (NONE: dropped there). */
  export const TcpRules: u32 = 8;
  /** 1.3: ext_authz providers of the mesh config. */
  export const Providers: u32 = 9;
}

export namespace ProviderKind {
  export const Http: u32 = 1;
  export const Grpc: u32 = 2;
}
export const PROVIDER_FAIL_OPEN: u32 = 1;
export namespace HeaderMatch {
  export const Exact: u32 = 1;
  export const Prefix: u32 = 2;
  export const Suffix: u32 = 3;
}

export namespace Action {
  export const Allow: u32 = 0;
  export const Deny: u32 = 1;
  export const Audit: u32 = 2;
  export const Custom: u32 = 3;
}
export const POLICY_DRY_RUN: u8 = 1;

export namespace Op {
  export const Any: u32 = 1;
  export const And: u32 = 2;
  export const Or: u32 = 3;
  export const Not: u32 = 4;
  export const Leaf: u32 = 5;
}

export namespace Attr {
  export const PeerPrincipal: u32 = 1;
  export const SourceIp: u32 = 2;
  export const RemoteIp: u32 = 3;
  export const DestinationIp: u32 = 4;
  export const DestinationPort: u32 = 5;
  export const Sni: u32 = 6;
  export const Method: u32 = 7;
  export const Host: u32 = 8;
  export const UrlPath: u32 = 9;
  export const Header: u32 = 10;
  export const JwtClaim: u32 = 11;
  export const Metadata: u32 = 12;
  /** 1.2: dynamic metadata at a path of length-prefixed segments (filter, then struct keys). */
  export const DynamicMetadata: u32 = 13;
}

/** Attributes read from typed dynamic metadata (request/metadata.ts). */
export function isMetadataAttr(a: u32): bool {
  return a == Attr.JwtClaim || a == Attr.Metadata || a == Attr.DynamicMetadata;
}

export namespace Kind {
  export const Exact: u32 = 1;
  export const Prefix: u32 = 2;
  export const Suffix: u32 = 3;
  export const Present: u32 = 4;
  export const NonEmpty: u32 = 5;
  export const Pattern: u32 = 6;
  export const Cidr: u32 = 7;
  export const Port: u32 = 8;
}

export const LEAF_IGNORE_CASE: u8 = 1;
export const LEAF_LIST_ELEMENTS: u8 = 2;
/** 1.2: the value must be a list, and some string element matches (Envoy ListMatcher one_of). */
export const LEAF_LIST_ONLY: u8 = 4;

export namespace PieceKind {
  export const Literal: u32 = 0;
  export const Gap: u32 = 1;
}
export namespace GapClass {
  export const Any: u32 = 0;
  export const NotSlash: u32 = 1;
  export const Pchar: u32 = 2;
  export const PcharOrSlash: u32 = 3;
}

// Record sizes.
export const POLICY_BYTES: u32 = 24;
export const LABEL_BYTES: u32 = 8;
export const RULE_BYTES: u32 = 16;
export const NODE_BYTES: u32 = 8;
export const LEAF_BYTES: u32 = 16;
export const PATTERN_BYTES: u32 = 8;
export const PIECE_BYTES: u32 = 8;
export const PROVIDER_BYTES: u32 = 36;
export const ITEM_BYTES: u32 = 8;

/** Attributes only an HTTP request has; a TCP projection never reaches them (Istio's HTTP-only
 *  fields, generator.go). */
export function isHttpOnlyAttr(a: u32): bool {
  return a >= Attr.Method && a <= Attr.JwtClaim;
}

export function isStringAttr(a: u32): bool {
  return a == Attr.PeerPrincipal || a == Attr.Sni || (a >= Attr.Method && a <= Attr.DynamicMetadata);
}

export function isIpAttr(a: u32): bool {
  return a == Attr.SourceIp || a == Attr.RemoteIp || a == Attr.DestinationIp;
}
