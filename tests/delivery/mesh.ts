// Test helpers for per-sidecar delivery: a policy set -> the WasmPlugins `meshauthz package` plans
// -> sidecars (EnvoyChainHost, one per workload) that Istio would give those plugins, in chain
// order, each running the real build/meshauthz.wasm.
import { readFilterWasm, decisionFromStream, type Decision } from "../../tools/cases/filter-decision.ts";
import { nodeForWorkload, streamForRequest } from "../../tools/cases/request-stream.ts";
import { EnvoyChainHost, type ChainPlugin } from "../../tools/host/chain-host.ts";
import type { CaseRequest, Workload } from "../../tools/model/case-file.ts";
import type { AuthorizationPolicy, MeshSettings } from "../../tools/model/policy.ts";
import { DEFAULT_MESH } from "../../tools/model/policy.ts";
import { planDelivery, type DeliveryPlan } from "../../tools/package/plan.ts";
import { compilePolicyObjects } from "../../tools/pipeline/policy-set.ts";

export const WASM = readFilterWasm();
export const MESH: MeshSettings = DEFAULT_MESH;

export function policy(namespace: string, name: string, spec: AuthorizationPolicy["spec"]): AuthorizationPolicy {
  return { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name, namespace }, spec };
}

export function plan(policies: AuthorizationPolicy[], mesh: MeshSettings = MESH): DeliveryPlan {
  const compiled = compilePolicyObjects(policies, mesh);
  if (!compiled.mesh) throw new Error(compiled.diagnostics.map((d) => d.message).join("\n"));
  return planDelivery(compiled.mesh, { name: "meshauthz", url: "oci://registry.example.com/meshauthz:test" });
}

/** The WasmPlugins of a plan as the data path sees them (Istio's selection is done by the host). */
export function chainPlugins(p: DeliveryPlan): ChainPlugin[] {
  return p.plugins.map((o) => ({
    namespace: o.namespace,
    name: o.name,
    configuration: JSON.stringify(o.object.spec.pluginConfig),
    phase: o.object.spec.phase as "AUTHZ",
    priority: o.object.spec.priority as number,
    failStrategy: o.object.spec.failStrategy as "FAIL_CLOSE",
  }));
}

export async function sidecar(workload: Workload, plugins: ChainPlugin[], workers = 1): Promise<EnvoyChainHost> {
  return EnvoyChainHost.create({ wasm: WASM, node: nodeForWorkload(workload), plugins, workers, rootNamespace: MESH.rootNamespace });
}

export function decide(host: EnvoyChainHost, request: CaseRequest): Decision & { marker: string | null } {
  const r = host.request(streamForRequest(request));
  if (r.trap) throw new Error(`trap: ${r.trap}`);
  const d = decisionFromStream(r, r.details === "meshauthz_invalid_config" ? "invalid configuration" : null);
  return { ...d, marker: r.filterState["meshauthz.enforced"] ?? null };
}

export const WORKLOADS: Workload[] = [
  { namespace: "ns-a", labels: { app: "backend" } },
  { namespace: "ns-a", labels: { app: "payments" } },
  { namespace: "ns-a", labels: { app: "other" } },
  { namespace: "ns-b", labels: { app: "backend" } },
  { namespace: "ns-b", labels: { app: "payments" } },
  { namespace: "istio-system", labels: { app: "gateway" } },
  // A namespace that did not exist when the policies were packaged.
  { namespace: "ns-new", labels: { app: "payments" } },
  { namespace: "ns-new", labels: { app: "x" } },
];

const PRINCIPALS = [null, "spiffe://cluster.local/ns/ns-a/sa/frontend", "spiffe://cluster.local/ns/ops/sa/ops", "spiffe://cluster.local/ns/ns-b/sa/frontend"];
const OPS = [
  ["GET", "/api/v1/data"],
  ["POST", "/api/v1/data"],
  ["GET", "/debug/vars"],
  ["POST", "/admin/reset"],
  ["GET", "/health"],
] as const;

export const REQUESTS: CaseRequest[] = PRINCIPALS.flatMap((p) =>
  OPS.map(([method, path]) => ({ method, path, host: "svc.example", source_principal: p, source_ip: "10.0.0.9", destination_port: 8080 })),
);

/** A mesh with root-namespace policies (a DENY for everyone, an ALLOW for app=payments anywhere)
 *  and one namespace (ns-a) with its own ALLOW and DENY; ns-b and ns-new have none. */
export const MESH_POLICIES: AuthorizationPolicy[] = [
  policy("istio-system", "deny-debug", { action: "DENY", rules: [{ to: [{ operation: { paths: ["/debug/*"] } }] }] }),
  policy("istio-system", "payments-from-ops", {
    selector: { matchLabels: { app: "payments" } },
    action: "ALLOW",
    rules: [{ from: [{ source: { principals: ["cluster.local/ns/ops/sa/ops"] } }] }],
  }),
  policy("ns-a", "backend-from-frontend", {
    selector: { matchLabels: { app: "backend" } },
    action: "ALLOW",
    rules: [{ from: [{ source: { principals: ["cluster.local/ns/ns-a/sa/frontend"] } }], to: [{ operation: { methods: ["GET"], paths: ["/api/*", "/health"] } }] }],
  }),
  policy("ns-a", "no-admin-writes", { action: "DENY", rules: [{ to: [{ operation: { methods: ["POST"], paths: ["/admin/*"] } }] }] }),
];

export function key(d: Decision): string {
  return `${d.decision} ${d.status} ${d.policy}`;
}
