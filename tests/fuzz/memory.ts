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
