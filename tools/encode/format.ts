// Constants of blob format 1.3 (docs/blob-format.md).
export const MAGIC = Uint8Array.from([0x4d, 0x41, 0x5a, 0x42]); // "MAZB"
export const FORMAT_MAJOR = 1;
export const FORMAT_MINOR = 3;
export const HEADER_BYTES = 24;
export const NONE = 0xffffffff;

export enum SectionTag {
  Strings = 1,
  Meta = 2,
  Policies = 3,
  Rules = 4,
  Nodes = 5,
  Leaves = 6,
  Patterns = 7,
  /** 1.1: each rule's root on a TCP filter chain. */
  TcpRules = 8,
  /** 1.3: ext_authz providers of the mesh config. */
  Providers = 9,
}

export const PROVIDER_KIND = { http: 1, grpc: 2 } as const;
export const PROVIDER_FLAG_FAIL_OPEN = 1;
export const HEADER_MATCH_KIND = { exact: 1, prefix: 2, suffix: 3 } as const;

export enum NodeOp {
  Any = 1,
  And = 2,
  Or = 3,
  Not = 4,
  Leaf = 5,
}

export const ACTION_CODES = { ALLOW: 0, DENY: 1, AUDIT: 2, CUSTOM: 3 } as const;
export const POLICY_FLAG_DRY_RUN = 1;
export const LEAF_FLAG_IGNORE_CASE = 1;
export const LEAF_FLAG_LIST_ELEMENTS = 2;
export const LEAF_FLAG_LIST_ONLY = 4;
export const MAX_TREE_DEPTH = 32;
