// The AuthorizationPolicy object as operators write it (security.istio.io/v1 and v1beta1).
// Field names follow istio/api authorization_policy.proto in JSON form.

export type Action = "ALLOW" | "DENY" | "AUDIT" | "CUSTOM";

export interface ObjectMeta {
  name: string;
  namespace?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface WorkloadSelector {
  matchLabels?: Record<string, string>;
}

export interface PolicyTargetReference {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

export interface Source {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  trustDomains?: string[];
  notTrustDomains?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

export interface Operation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface Condition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface Rule {
  from?: Array<{ source?: Source }>;
  to?: Array<{ operation?: Operation }>;
  when?: Condition[];
}

export interface AuthorizationPolicySpec {
  selector?: WorkloadSelector;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  action?: Action;
  provider?: { name?: string };
  rules?: Rule[];
}

export interface AuthorizationPolicy {
  apiVersion: string;
  kind: "AuthorizationPolicy";
  metadata: ObjectMeta;
  spec?: AuthorizationPolicySpec;
}

/** Mesh-wide settings that change how policies compile (meshConfig). */
export interface MeshSettings {
  rootNamespace: string;
  trustDomain: string;
  trustDomainAliases: string[];
  /** meshConfig.extensionProviders, resolved (tools/meshconfig/); undefined = no mesh config given. */
  extensionProviders?: import("../meshconfig/providers.ts").ResolvedProviders;
}

export const DEFAULT_MESH: MeshSettings = {
  rootNamespace: "istio-system",
  trustDomain: "cluster.local",
  trustDomainAliases: [],
};
