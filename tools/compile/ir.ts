// The compiled form of a mesh's policies: Envoy-RBAC-like matcher trees, before binary encoding.
// Numbering follows docs/blob-format.md, which is the contract with the filter.

export enum Attribute {
  PeerPrincipal = 1,
  SourceIp = 2,
  RemoteIp = 3,
  DestinationIp = 4,
  DestinationPort = 5,
  Sni = 6,
  Method = 7,
  Host = 8,
  UrlPath = 9,
  Header = 10,
  JwtClaim = 11,
  Metadata = 12,
  /** Format 1.2: typed dynamic metadata at `path` (filter name, then struct keys). */
  DynamicMetadata = 13,
}

export enum MatchKind {
  Exact = 1,
  Prefix = 2,
  Suffix = 3,
  Present = 4,
  NonEmpty = 5,
  Pattern = 6,
  Cidr = 7,
  Port = 8,
}

export enum GapClass {
  Any = 0,
  NotSlash = 1,
  Pchar = 2,
  PcharOrSlash = 3,
}

export type PatternPiece =
  | { kind: "literal"; text: string }
  | { kind: "gap"; cls: GapClass; min: 0 | 1 };

export interface Leaf {
  attribute: Attribute;
  kind: MatchKind;
  ignoreCase?: boolean;
  /** Metadata: a string value matches, or a list with a matching string element (Istio's
   *  OR(ListMatcher one_of, string matcher) for claims, audiences, presenter). */
  listElements?: boolean;
  /** Metadata: only a list with a matching string element (Envoy ListMatcher alone). */
  listOnly?: boolean;
  /** Attribute argument: header name. */
  key?: string;
  /** DynamicMetadata: the filter name, then one or more Struct keys (any bytes). */
  path?: string[];
  /** Exact/prefix/suffix operand. */
  value?: string;
  /** CIDR: network address bytes (host bits zero) and prefix length. */
  cidr?: { address: Uint8Array; prefixLength: number };
  port?: number;
  pattern?: PatternPiece[];
}

export type MatchNode =
  | { op: "any" }
  | { op: "and"; children: MatchNode[] }
  | { op: "or"; children: MatchNode[] }
  | { op: "not"; child: MatchNode }
  | { op: "leaf"; leaf: Leaf };

export type PolicyAction = "ALLOW" | "DENY" | "AUDIT" | "CUSTOM";

export interface CompiledRule {
  /** Position in spec.rules. */
  index: number;
  /** Envoy RBAC policy name: ns[<ns>]-policy[<name>]-rule[<i>]. */
  id: string;
  root: MatchNode;
  /** The rule on a TCP filter chain (HTTP-only fields left out, docs/tcp.md); null: dropped (an
   *  ALLOW rule with an HTTP-only field never matches a connection). */
  tcpRoot: MatchNode | null;
}

export interface CompiledPolicy {
  namespace: string;
  name: string;
  action: PolicyAction;
  dryRun: boolean;
  provider?: string;
  /** selector.matchLabels; empty = the whole namespace. */
  selector: Array<[string, string]>;
  rules: CompiledRule[];
}

export interface CompiledMesh {
  rootNamespace: string;
  generator: string;
  policies: CompiledPolicy[];
  /** Valid ext_authz providers of the mesh config (blob 1.1 PROVIDERS), sorted by name. */
  providers?: import("../meshconfig/providers.ts").ExtAuthzProvider[];
}

export function policyRuleId(namespace: string, name: string, index: number): string {
  return `ns[${namespace}]-policy[${name}]-rule[${index}]`;
}
