// The case-file format of ../shared/conformance/istio-cases.yaml, which users also write to test
// their own policies (`meshauthz test`).
import type { AuthorizationPolicy } from "./policy.ts";

export interface CaseMeta {
  root_namespace?: string;
  trust_domain?: string;
  trust_domain_aliases?: string[];
  path_normalization?: string;
}

export interface Workload {
  namespace: string;
  labels?: Record<string, string>;
}

/** Bytes Envoy holds as they came off the wire: a string (its UTF-8) or raw bytes (YAML `!!binary`). */
export type WireBytes = string | Uint8Array;

/** The downstream peer certificate as Envoy's Ssl::ConnectionInfo exposes it (every SAN, in order). */
export interface PeerCertificateSpec {
  uri_sans?: WireBytes[];
  dns_sans?: WireBytes[];
  subject?: WireBytes;
}

/** A request as the inbound proxy sees it. Absent or null fields are absent attributes. */
export interface CaseRequest {
  protocol?: "HTTP" | "GRPC" | "TCP";
  method?: string;
  host?: string;
  path?: string;
  path_normalized?: string;
  headers?: Record<string, WireBytes | WireBytes[]>;
  /** the peer certificate's (first) URI SAN; null = plaintext */
  source_principal?: string | null;
  /** the whole peer certificate, when it carries more than one URI SAN (overrides source_principal) */
  peer_certificate?: PeerCertificateSpec | null;
  source_ip?: string | null;
  remote_ip?: string | null;
  destination_ip?: string | null;
  destination_port?: number | null;
  sni?: WireBytes | null;
  jwt?: Record<string, unknown> | null;
  ext_authz_decision?: string;
}

export interface CaseExpected {
  decision: "ALLOW" | "DENY";
  decided_by?: string;
  response?: string;
}

export interface DecisionCase {
  id: string;
  source?: string;
  confidence?: string;
  mesh?: CaseMeta;
  policies?: AuthorizationPolicy[];
  /** meshauthz extension: policy manifests (files or folders, relative to the case file). */
  policy_files?: string[];
  workload: Workload;
  request: CaseRequest;
  expected: CaseExpected;
  note?: string;
}

export interface ValidationCase {
  id: string;
  source?: string;
  confidence?: string;
  policy: AuthorizationPolicy;
  expected: { valid: boolean; warning?: boolean; message_contains?: string };
}

export interface CaseFile {
  meta?: CaseMeta;
  cases?: DecisionCase[];
  validation_cases?: ValidationCase[];
}
