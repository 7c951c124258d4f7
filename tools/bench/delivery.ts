// Delivery per sidecar (docs/delivery.md): what one sidecar receives and how long it takes to
// configure, at mesh sizes that differ 1000x with the same density (10 policies per namespace).
// The sidecar is BENCH_WORKLOAD's (ns-0): its namespace plugin and the root plugin, in one chain
// of the Envoy-like host, as `meshauthz package` plans them. For comparison, the one-plugin
// delivery this replaced sent the whole mesh's blob to every sidecar.
import { readFileSync } from "node:fs";
import { nodeForWorkload, streamForRequest } from "../cases/request-stream.ts";
import { EnvoyChainHost } from "../host/chain-host.ts";
import { DEFAULT_MESH } from "../model/policy.ts";
import { planDelivery } from "../package/plan.ts";
import { pluginConfigJson } from "../pipeline/plugin-config.ts";
import { compilePolicyObjects } from "../pipeline/policy-set.ts";
import { BENCH_WORKLOAD, benchRequests, meshPolicies } from "./mesh-policies.ts";

export interface DeliveryResult {
  policies: number;
  namespaces: number;
  objects: number;
  largest_object_bytes: number;
  /** pluginConfig bytes the benchmarked sidecar receives (all instances in its chain). */
  bytes_per_sidecar: number;
  /** What it received with one root-namespace plugin carrying the whole mesh. */
  whole_mesh_bytes: number;
  /** Median time to configure the sidecar's chain (every instance's on_configure), ms. */
  configure_ms: number;
  /** Linear memory of the sidecar's worker VM after configuring. */
  memory_bytes: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export async function benchDelivery(n: number, runs: number, wasm = readFileSync(new URL("../../build/meshauthz.wasm", import.meta.url))): Promise<DeliveryResult> {
  const policies = meshPolicies(n);
  const compiled = compilePolicyObjects(policies, DEFAULT_MESH);
  if (!compiled.mesh || !compiled.blob) throw new Error("bench policies do not compile");
  const plan = planDelivery(compiled.mesh, { name: "meshauthz", url: "oci://registry.example.com/meshauthz:bench" });
  const plugins = plan.plugins.map((p) => ({
    namespace: p.namespace,
    name: p.name,
    configuration: JSON.stringify(p.object.spec.pluginConfig),
    phase: "AUTHZ" as const,
    priority: p.priority,
  }));
  const host = await EnvoyChainHost.create({ wasm, node: nodeForWorkload(BENCH_WORKLOAD), plugins, workers: 1 });
  const chain = host.chainOrder();
  if (chain.length !== 2) throw new Error(`the benchmarked sidecar should run 2 instances, got ${chain.join(", ")}`);
  // The chain must decide (a smoke check that the configuration is the real one).
  for (const r of benchRequests(4).map((q) => streamForRequest(q))) if (host.request(r).trap) throw new Error("trap");
  // Configure time: re-apply the sidecar's configurations (a pluginConfig update each time).
  const mine = plugins.filter((p) => chain.includes(`${p.namespace}/${p.name}`));
  const times: number[] = [];
  for (let i = 0; i < runs; i++) for (const p of mine) host.updatePlugin(p.namespace, p.name, p.configuration); // warm-up
  for (let i = 0; i < runs; i++) {
    for (const p of mine) host.updatePlugin(p.namespace, p.name, p.configuration);
    times.push(host.chainConfigureMs());
  }
  return {
    policies: n,
    namespaces: new Set(policies.map((p) => p.metadata.namespace)).size,
    objects: plan.plugins.length,
    largest_object_bytes: plan.largestJsonBytes,
    bytes_per_sidecar: host.chainConfigBytes(),
    whole_mesh_bytes: Buffer.byteLength(pluginConfigJson(compiled.blob)),
    configure_ms: +median(times).toFixed(4),
    memory_bytes: host.memoryBytes(0),
  };
}
