// npm run bench [-- --json] [-- --quick]
// The real filter in the Envoy-like host on generated policy sets. Every ratio is measured in this
// one run: our decision cost over the floor (a module making the same reads and deciding nothing),
// and a linear scan of the same rules (the filter's `engine: linear`) over ours.
import { readFileSync } from "node:fs";
import type { EnvoyHost } from "../host/index.ts";
import { measure, startFilterHost, type Timed } from "./measure.ts";
import { BENCH_WORKLOAD, benchRequests, meshPolicies, oneWorkloadPolicies } from "./mesh-policies.ts";
import { compilePolicyObjects } from "../pipeline/policy-set.ts";
import { pluginConfigJson } from "../pipeline/plugin-config.ts";
import { streamForRequest } from "../cases/request-stream.ts";
import { DEFAULT_MESH } from "../model/policy.ts";
import type { AuthorizationPolicy } from "../model/policy.ts";
import { benchDelivery, type DeliveryResult } from "./delivery.ts";

const args = new Set(process.argv.slice(2));
const json = args.has("--json");
const quick = args.has("--quick");

const wasm = readFileSync(new URL("../../build/meshauthz.wasm", import.meta.url));
const floorWasm = readFileSync(new URL("../../build/bench-floor.wasm", import.meta.url));


interface SizeResult {
  policies: number;
  rules_applying: number;
  scope: "mesh" | "one-workload";
  decision_ns: number;
  floor_ns: number;
  linear_ns: number;
  decision_over_floor: number;
  linear_over_decision: number;
  load_ms: number;
  compile_ms: number;
  blob_bytes: number;
  memory_bytes: number;
  /** Host reads per request (header and property), the same for the filter and its floor. */
  reads_per_request: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function timeCompile(policies: AuthorizationPolicy[], runs: number): { ms: number; blob: Uint8Array; rules: number } {
  const times: number[] = [];
  let blob: Uint8Array | undefined;
  let rules = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = compilePolicyObjects(policies, DEFAULT_MESH);
    times.push(performance.now() - t0);
    if (!r.blob) throw new Error(`bench policies do not compile: ${r.diagnostics.map((d) => d.message).join("; ")}`);
    blob = r.blob;
    rules = r.mesh!.policies.reduce((n, p) => n + p.rules.length, 0);
  }
  return { ms: median(times), blob: blob!, rules };
}

async function benchSize(scope: "mesh" | "one-workload", policies: AuthorizationPolicy[], applying: number): Promise<SizeResult> {
  const compiled = timeCompile(policies, quick ? 1 : 3);
  const requests = benchRequests(applying).map((r) => streamForRequest(r));
  const ours = await startFilterHost(wasm, pluginConfigJson(compiled.blob, "indexed"), BENCH_WORKLOAD);
  const linear = await startFilterHost(wasm, pluginConfigJson(compiled.blob, "linear"), BENCH_WORKLOAD);
  const loads: number[] = [ours.configureMs];
  for (let i = 0; i < (quick ? 1 : 4); i++) {
    loads.push((await startFilterHost(wasm, pluginConfigJson(compiled.blob, "indexed"), BENCH_WORKLOAD)).configureMs);
  }

  // Both engines must decide alike. Each request's floor makes exactly the reads the filter made.
  const floors: EnvoyHost[] = [];
  const reads: number[] = [];
  for (const s of requests) {
    const a = ours.request(s);
    const b = linear.request(s);
    if (a.status !== b.status || a.details !== b.details || a.filterState["meshauthz.policy"] !== b.filterState["meshauthz.policy"]) {
      throw new Error(`indexed and linear engines disagree: ${a.status} ${a.details} vs ${b.status} ${b.details}`);
    }
    floors.push(await startFilterHost(floorWasm, (a.reads ?? []).join("\n"), BENCH_WORKLOAD));
    const f = floors[floors.length - 1].request(s);
    if ((f.reads ?? []).join() !== (a.reads ?? []).join()) throw new Error(`floor reads ${f.reads} differ from ${a.reads}`);
    reads.push(a.reads?.length ?? 0);
  }
  const timed: Timed[] = measure([() => ours, () => linear, (i) => floors[i]], requests, {
    rounds: quick ? 15 : 41,
    perRound: quick ? 300 : 1500,
  });
  const [decision, lin, fl] = timed.map((t) => t.nsPerRequest);
  return {
    policies: policies.length,
    rules_applying: applying,
    scope,
    decision_ns: Math.round(decision),
    floor_ns: Math.round(fl),
    linear_ns: Math.round(lin),
    decision_over_floor: +(decision / fl).toFixed(3),
    linear_over_decision: +(lin / decision).toFixed(2),
    load_ms: +median(loads).toFixed(3),
    compile_ms: +compiled.ms.toFixed(1),
    blob_bytes: compiled.blob.length,
    memory_bytes: ours.memoryBytes(0),
    reads_per_request: reads,
  };
}

async function main(): Promise<void> {
  const sizes: SizeResult[] = [];
  for (const n of quick ? [10, 1000] : [10, 100, 1000, 10000]) {
    const policies = meshPolicies(n);
    // Policies that apply to the benchmarked sidecar: its own plus the mesh-wide ones.
    const applying = policies.filter((p) => p.metadata.namespace === "istio-system" || (p.metadata.namespace === "ns-0" && p.spec?.selector?.matchLabels?.app === "svc-0"))
      .reduce((k, p) => k + (p.spec?.rules?.length ?? 0), 0);
    sizes.push(await benchSize("mesh", policies, applying));
    if (!json) printRow(sizes[sizes.length - 1]);
  }
  sizes.push(await benchSize("one-workload", oneWorkloadPolicies(1000), 1000));
  if (!json) printRow(sizes[sizes.length - 1]);
  // Delivery (docs/delivery.md): bytes and configure time per sidecar, 10 vs 10,000 policies.
  const delivery: DeliveryResult[] = [];
  for (const n of [10, 10000]) delivery.push(await benchDelivery(n, quick ? 21 : 101, wasm));
  const [d10, d10k] = delivery as [DeliveryResult, DeliveryResult];
  const deliveryRatios = {
    bytes_per_sidecar_10000_over_10: +(d10k.bytes_per_sidecar / d10.bytes_per_sidecar).toFixed(3),
    configure_10000_over_10: +(d10k.configure_ms / d10.configure_ms).toFixed(3),
  };
  if (!json) printDelivery(delivery, deliveryRatios);
  const mesh10 = sizes.find((s) => s.scope === "mesh" && s.policies === 10)!;
  const meshMax = sizes.filter((s) => s.scope === "mesh").at(-1)!;
  const summary = {
    wasm_bytes: wasm.length,
    floor_wasm_bytes: floorWasm.length,
    node: process.version,
    [`decision_${meshMax.policies}_over_${mesh10.policies}`]: +(meshMax.decision_ns / mesh10.decision_ns).toFixed(3),
    sizes,
    delivery,
    delivery_ratios: deliveryRatios,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(
      `\n.wasm ${wasm.length} bytes; decision at ${meshMax.policies} mesh policies over decision at ${mesh10.policies}: ${summary[`decision_${meshMax.policies}_over_${mesh10.policies}`]}\n`,
    );
  }
}

function printDelivery(rows: DeliveryResult[], ratios: Record<string, number>): void {
  process.stdout.write("\ndelivery (one sidecar: its namespace plugin + the root plugin)\n");
  process.stdout.write("policies  namespaces  objects  largest_object  bytes/sidecar  whole_mesh_bytes  configure_ms  memory_bytes\n");
  for (const r of rows) {
    process.stdout.write(
      `${String(r.policies).padStart(8)}  ${String(r.namespaces).padStart(10)}  ${String(r.objects).padStart(7)}  ${String(r.largest_object_bytes).padStart(14)}  ${String(r.bytes_per_sidecar).padStart(13)}  ${String(r.whole_mesh_bytes).padStart(16)}  ${r.configure_ms.toFixed(4).padStart(12)}  ${String(r.memory_bytes).padStart(12)}\n`,
    );
  }
  process.stdout.write(`bytes per sidecar 10000/10: ${ratios.bytes_per_sidecar_10000_over_10}; configure time 10000/10: ${ratios.configure_10000_over_10}\n`);
}

let header = false;
function printRow(s: SizeResult): void {
  if (!header) {
    header = true;
    process.stdout.write(
      "scope         policies  rules@wl  decision_ns  floor_ns  dec/floor  linear_ns  lin/dec  load_ms  compile_ms  blob_bytes  memory_bytes  reads\n",
    );
  }
  process.stdout.write(
    `${s.scope.padEnd(13)} ${String(s.policies).padStart(8)}  ${String(s.rules_applying).padStart(8)}  ${String(s.decision_ns).padStart(11)}  ${String(s.floor_ns).padStart(8)}  ${s.decision_over_floor.toFixed(3).padStart(9)}  ${String(s.linear_ns).padStart(9)}  ${s.linear_over_decision.toFixed(2).padStart(7)}  ${s.load_ms.toFixed(3).padStart(7)}  ${s.compile_ms.toFixed(1).padStart(10)}  ${String(s.blob_bytes).padStart(10)}  ${String(s.memory_bytes).padStart(12)}  ${s.reads_per_request.join("/")}\n`,
  );
}

await main();
