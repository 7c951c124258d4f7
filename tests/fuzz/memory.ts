// Memory: many requests through one VM pair must leave linear memory where it was after warm-up (no leak of
// host-allocated values, no unbounded caches). The request mix is a fixed-seed sample of ordinary fuzz
// requests plus hostile ones (60 KiB of headers, long SANs, big JWTs), replayed in a cycle; the warm-up
// replays the whole mix once, so every size class the run will see has been allocated before measuring.

import fc from "fast-check";
import type { CaseRequest, Workload } from "../../tools/model/case-file.ts";
import type { AuthorizationPolicy, MeshSettings } from "../../tools/model/policy.ts";
import { compilePolicyObjects } from "../../tools/pipeline/policy-set.ts";
import { pluginConfigJson } from "../../tools/pipeline/plugin-config.ts";
import { startFilter } from "../../tools/cases/filter-decision.ts";
import { streamForRequest } from "../../tools/cases/request-stream.ts";
import { type Scenario, scenarioArb } from "./arbitraries.ts";
import { hostileScenarioArb } from "./hostile-requests.ts";

export interface MemoryReport {
  requests: number;
  memory_before: number;
  memory_after: number;
  /** per worker VM: [before, after] */
  workers: Array<[number, number]>;
  warmup: number;
  traps: number;
  policies: number;
}

/** A policy set with many applicable policies, and a request mix (ordinary + hostile) against it. */
export function memoryWorkload(seed: number): { mesh: MeshSettings; policies: AuthorizationPolicy[]; workload: Workload; requests: CaseRequest[] } {
  const scenarios = fc.sample(scenarioArb({ requests: 200, maxPolicies: 10 }), { seed, numRuns: 40 });
  // the scenario whose first workload has the most applicable policies and that compiles
  let best: Scenario = scenarios[0]!;
  let bestScore = -1;
  for (const s of scenarios) {
    if (!compilePolicyObjects(s.policies, s.mesh).blob) continue;
    const wl = s.workloads[0]!;
    const score = s.policies.filter((p) => (p.metadata.namespace ?? "default") === wl.namespace || p.metadata.namespace === s.mesh.rootNamespace).length;
    if (score > bestScore) {
      best = s;
      bestScore = score;
    }
  }
  // ~500 ordinary requests against this policy set, and ~50 hostile ones (60 KiB of headers, long SANs, ...)
  const ordinary = [best, ...scenarios.filter((s) => s !== best)].flatMap((s) => s.requests.map((r) => r.request)).slice(0, 500);
  const hostile = fc.sample(hostileScenarioArb(20), { seed: seed + 1, numRuns: 5 }).flatMap((s) => s.requests.map((r) => r.request)).slice(0, 50);
  return { mesh: best.mesh, policies: best.policies, workload: best.workloads[0]!, requests: [...ordinary, ...hostile] };
}

export async function memoryCampaign(wasm: Uint8Array, n: number, seed: number, onProgress?: (done: number) => void): Promise<MemoryReport> {
  const w = memoryWorkload(seed);
  const compiled = compilePolicyObjects(w.policies, w.mesh);
  if (!compiled.blob) throw new Error("memory workload policies do not compile");
  const filter = await startFilter(wasm, pluginConfigJson(compiled.blob), w.workload);
  const host = filter.host;
  const specs = w.requests.map((r) => streamForRequest(r));
  let traps = 0;
  // warm-up: the whole mix twice, on every worker
  const warmup = specs.length * 2 * Math.max(1, host.workerCount);
  for (let i = 0; i < warmup; i++) if (host.request(specs[i % specs.length]!).trap) traps++;
  const before = Array.from({ length: host.workerCount }, (_, i) => host.memoryBytes(i));
  for (let i = 0; i < n; i++) {
    if (host.request(specs[i % specs.length]!).trap) traps++;
    if (onProgress && i % 100000 === 99999) onProgress(i + 1);
  }
  const after = Array.from({ length: host.workerCount }, (_, i) => host.memoryBytes(i));
  return {
    requests: n,
    memory_before: before.reduce((a, b) => a + b, 0),
    memory_after: after.reduce((a, b) => a + b, 0),
    workers: before.map((b, i) => [b, after[i]!]),
    warmup,
    traps,
    policies: w.policies.length,
  };
}

export interface ReconfigureReport {
  policies: number;
  blob_bytes: number;
  plugin_config_bytes: number;
  /** Linear memory after the first configuration and a request (what the VM keeps). */
  steady_bytes: number;
  /** Linear memory while a stream still holds the old configuration and the new one is configured. */
  peak_bytes: number;
  peak_over_steady: number;
  /** After the old root was shut down and 30 more updates (memory must be reused, not grow). */
  settled_bytes: number;
}

/**
 * Peak linear memory while two configurations coexist (issue 8): a pluginConfig-only update gives
 * the same VM a new root context while a stream in flight keeps the old one alive (see
 * tools/host/chain-host.ts). Linear memory never shrinks, so the peak is the size after the second
 * configure. The policy set is the whole generated mesh in one configuration, the largest a
 * sidecar would ever hold.
 */
export async function reconfigureMemory(wasm: Uint8Array, policies: number): Promise<ReconfigureReport> {
  const { EnvoyChainHost } = await import("../../tools/host/chain-host.ts");
  const { BENCH_WORKLOAD, meshPolicies } = await import("../../tools/bench/mesh-policies.ts");
  const { nodeForWorkload } = await import("../../tools/cases/request-stream.ts");
  const { DEFAULT_MESH } = await import("../../tools/model/policy.ts");
  const configs = [1, 2].map((seed) => {
    const blob = compilePolicyObjects(meshPolicies(policies, seed), DEFAULT_MESH).blob;
    if (!blob) throw new Error("reconfigure policies do not compile");
    return { blob, json: pluginConfigJson(blob) };
  });
  const [a, b] = configs as [(typeof configs)[0], (typeof configs)[0]];
  const host = await EnvoyChainHost.create({
    wasm,
    node: nodeForWorkload(BENCH_WORKLOAD),
    workers: 1,
    plugins: [{ namespace: "istio-system", name: "meshauthz", configuration: a.json, phase: "AUTHZ" }],
  });
  const spec = streamForRequest({ method: "GET", path: "/api/v1/svc-0/res-0/x", host: "svc-0", source_principal: null });
  host.request(spec);
  const steady = host.memoryBytes(0);
  const inFlight = host.open(spec);
  host.updatePlugin("istio-system", "meshauthz", b.json);
  const peak = host.memoryBytes(0);
  inFlight.finish();
  for (let i = 0; i < 30; i++) host.updatePlugin("istio-system", "meshauthz", i % 2 ? b.json : a.json);
  host.request(spec);
  return {
    policies,
    blob_bytes: a.blob.length,
    plugin_config_bytes: a.json.length,
    steady_bytes: steady,
    peak_bytes: peak,
    peak_over_steady: +(peak / steady).toFixed(3),
    settled_bytes: host.memoryBytes(0),
  };
}
