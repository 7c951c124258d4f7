// The delivery plan of `meshauthz package` (docs/delivery.md): which WasmPlugins carry which
// policies, in which order to apply them, and a size check per object.
//
// - One WasmPlugin per namespace that has policies (other than the root namespace), in that
//   namespace: Istio delivers it to that namespace's sidecars only. It carries the namespace's and
//   the root namespace's policies, role "namespace", and the higher priority, so it runs first in
//   the AUTHZ phase.
// - One WasmPlugin in the root namespace, which reaches every sidecar (namespaces without a plugin
//   of their own, namespaces created later, the root namespace itself). It carries only the root
//   namespace's policies, role "root", and skips requests a namespace instance already enforced
//   with the same root policy set (rootDigest); see assembly/delivery/role.ts.
// So a sidecar receives its namespace's and the root namespace's policies, never the mesh, and no
// object grows with the number of namespaces.
//
// Apply order: namespace plugins, then the root plugin, then (with --prune) the deletion of
// namespace plugins whose namespace has no policy any more. At every step each request is decided
// by one complete configuration, old or new, or by both (over-deny): docs/delivery.md walks
// through each step.
import { createHash } from "node:crypto";
import type { CompiledMesh } from "../compile/ir.ts";
import { encodeBlob } from "../encode/encode.ts";
import { type Observability, pluginConfigFor, type PluginConfig } from "../pipeline/plugin-config.ts";
import { wasmPluginObject, type WasmPluginObject } from "./wasmplugin.ts";

/** kubectl apply (client side) keeps the whole object in the last-applied-configuration
 *  annotation, and all annotations together may hold 262,144 bytes (apimachinery
 *  TotalAnnotationSizeLimitB). */
export const CLIENT_SIDE_APPLY_LIMIT = 262_144;
/** etcd's default request limit (--max-request-bytes 1.5 MiB): the ceiling even for server-side apply. */
export const ETCD_REQUEST_LIMIT = 1_572_864;

/** WasmPlugin.spec.priority: within the AUTHZ phase higher runs first (istio push_context.go
 *  sortByPriority), so namespace instances precede the root instance in every chain. */
export const NAMESPACE_PRIORITY = 20;
export const ROOT_PRIORITY = 10;

/** Label on every generated WasmPlugin, for `kubectl apply --prune -l` and `kubectl get -l`. */
export const MANAGED_BY = { "app.kubernetes.io/managed-by": "meshauthz" };
export const PLAN_LABEL = "meshauthz.io/plan";
export const ROLE_LABEL = "meshauthz.io/role";

export type DeliveryRole = "namespace" | "root";

export interface PlannedPlugin {
  role: DeliveryRole;
  namespace: string;
  name: string;
  priority: number;
  /** Policies it carries (own namespace's + root namespace's for role namespace). */
  policyCount: number;
  blobBytes: number;
  /** Bytes of the object as JSON (what client-side apply stores and the size limit measures). */
  jsonBytes: number;
  object: WasmPluginObject;
}

export interface DeliveryPlan {
  rootNamespace: string;
  /** sha256 of the root namespace's policy blob, first 32 hex digits. */
  rootDigest: string;
  /** In apply order: namespace plugins (by namespace), then the root plugin. */
  plugins: PlannedPlugin[];
  /** Largest plugin (bytes per sidecar = largest pluginConfig a sidecar receives, per instance). */
  largestJsonBytes: number;
  /** Identifies this plan (label meshauthz.io/plan on every object): step 3 deletes the
   *  managed WasmPlugins that carry another plan's label. */
  planId: string;
}

export interface PlanOptions {
  name: string;
  url: string;
  sha256?: string;
  maxObjectBytes?: number;
  failStrategy?: "FAIL_CLOSE" | "FAIL_OPEN";
  /** The filter's opt-in observability options, the same in every plugin. */
  observability?: Observability;
}

/** An object that cannot fit: names the namespace and says what to do. */
export class PlanError extends Error {}

export function rootDigestOf(rootBlob: Uint8Array): string {
  return createHash("sha256").update(rootBlob).digest("hex").slice(0, 32);
}

export function planDelivery(mesh: CompiledMesh, o: PlanOptions): DeliveryPlan {
  const root = mesh.rootNamespace;
  const maxBytes = o.maxObjectBytes ?? CLIENT_SIDE_APPLY_LIMIT;
  const rootPolicies = mesh.policies.filter((p) => p.namespace === root);
  const rootBlob = encodeBlob({ ...mesh, policies: rootPolicies });
  const rootDigest = rootDigestOf(rootBlob);
  const byNamespace = new Map<string, typeof mesh.policies>();
  for (const p of mesh.policies) {
    if (p.namespace === root) continue;
    const list = byNamespace.get(p.namespace);
    if (list) list.push(p);
    else byNamespace.set(p.namespace, [p]);
  }

  const plugins: PlannedPlugin[] = [];
  const add = (role: DeliveryRole, namespace: string, blob: Uint8Array, policyCount: number, config: PluginConfig) => {
    const priority = role === "namespace" ? NAMESPACE_PRIORITY : ROOT_PRIORITY;
    const object = wasmPluginObject(config, {
      name: o.name,
      namespace,
      url: o.url,
      sha256: o.sha256,
      priority,
      failStrategy: o.failStrategy,
      // The real plan id is set once all objects exist (same length). The role is a label so that
      // each step can be applied on its own: kubectl apply -f FILE -l meshauthz.io/role=namespace.
      labels: { ...MANAGED_BY, [ROLE_LABEL]: role, [PLAN_LABEL]: "0".repeat(16) },
      annotations: {
        "meshauthz.io/policies": String(policyCount),
        "meshauthz.io/root-digest": rootDigest,
      },
    });
    const jsonBytes = Buffer.byteLength(JSON.stringify(object));
    if (jsonBytes > maxBytes) throw new PlanError(tooLarge(role, namespace, policyCount, jsonBytes, maxBytes, root));
    plugins.push({ role, namespace, name: o.name, priority, policyCount, blobBytes: blob.length, jsonBytes, object });
  };

  for (const namespace of [...byNamespace.keys()].sort()) {
    const own = byNamespace.get(namespace)!;
    // Namespace policies first, then the root's: blob order is evaluation-neutral (engines are per
    // action), and the ids keep their namespaces.
    const blob = encodeBlob({ ...mesh, policies: [...own, ...rootPolicies] });
    add("namespace", namespace, blob, own.length + rootPolicies.length, {
      ...pluginConfigFor(blob, undefined, o.observability),
      role: "namespace",
      namespace,
      rootDigest,
    });
  }
  add("root", root, rootBlob, rootPolicies.length, { ...pluginConfigFor(rootBlob, undefined, o.observability), role: "root", rootDigest });
  const h = createHash("sha256");
  for (const p of plugins) h.update(`${p.namespace}\0${JSON.stringify(p.object.spec)}\0`);
  const planId = h.digest("hex").slice(0, 16);
  for (const p of plugins) p.object.metadata.labels = { ...p.object.metadata.labels, [PLAN_LABEL]: planId };
  return { rootNamespace: root, rootDigest, plugins, largestJsonBytes: Math.max(...plugins.map((p) => p.jsonBytes)), planId };
}

function tooLarge(role: DeliveryRole, namespace: string, policies: number, bytes: number, max: number, root: string): string {
  const what =
    role === "root"
      ? `the root namespace ${root}'s WasmPlugin (${policies} policies, sent to every sidecar)`
      : `namespace ${namespace}'s WasmPlugin (${policies} policies: its own and the root namespace ${root}'s)`;
  const raise =
    max < ETCD_REQUEST_LIMIT
      ? ` or raise the limit with --max-object-bytes ${Math.min(ETCD_REQUEST_LIMIT, Math.ceil((bytes * 1.1) / 1024) * 1024)} and apply with \`kubectl apply --server-side\` (client-side apply stores the object in an annotation limited to ${CLIENT_SIDE_APPLY_LIMIT} bytes; etcd refuses requests over ${ETCD_REQUEST_LIMIT} bytes)`
      : "";
  return (
    `${what} is ${bytes} bytes as JSON, over the ${max}-byte limit. Nothing was written. ` +
    `Reduce the policies that reach it (merge rules, move policies out of ${role === "root" ? "the root namespace" : `${namespace} or the root namespace`})${raise}.`
  );
}

/** Warnings for a raised --max-object-bytes. */
export function limitWarnings(maxObjectBytes: number | undefined): string[] {
  if (maxObjectBytes === undefined || maxObjectBytes <= CLIENT_SIDE_APPLY_LIMIT) return [];
  const out = [
    `--max-object-bytes ${maxObjectBytes} is above ${CLIENT_SIDE_APPLY_LIMIT} bytes: objects that large need \`kubectl apply --server-side\` (client-side apply fails with "metadata.annotations: Too long")`,
  ];
  if (maxObjectBytes > ETCD_REQUEST_LIMIT) out.push(`--max-object-bytes ${maxObjectBytes} is above etcd's default request limit (${ETCD_REQUEST_LIMIT} bytes): the API server will refuse such objects unless etcd runs with a larger --max-request-bytes`);
  return out;
}
