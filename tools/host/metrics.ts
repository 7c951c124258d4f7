// Custom metrics as Envoy keeps them: the stats (by name) live in the process-wide store, so the
// worker VMs' counters add up in one stat; each VM has its own metric ids, which encode the type
// in the low 2 bits and step by 4 (first counter 4, gauge 5, histogram 6; cpp-host wasm.h).

import { MetricType, METRIC_TYPE_MAX, WasmResult } from "./envoy-abi.ts";

interface Stat {
  type: MetricType;
  name: string;
  value: bigint;
  samples: bigint[];
}

const U64 = (v: bigint) => BigInt.asUintN(64, v);

/** The stat store: one per Envoy process (shared by the worker VMs). */
export class StatStore {
  private readonly stats = new Map<string, Stat>();

  stat(type: MetricType, name: string): Stat {
    const key = `${type}:${name}`;
    let s = this.stats.get(key);
    if (!s) {
      s = { type, name, value: 0n, samples: [] };
      this.stats.set(key, s);
    }
    return s;
  }

  /** Counters and gauges by the name the module defined (Envoy shows them without "wasmcustom."). */
  values(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.stats.values()) if (s.type !== MetricType.Histogram) out[s.name] = Number(s.value);
    return out;
  }

  histograms(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const s of this.stats.values()) if (s.type === MetricType.Histogram) out[s.name] = s.samples.map(Number);
    return out;
  }
}

/** One VM's metric ids (Envoy's Wasm::counters_/gauges_/histograms_). */
export class VmMetrics {
  private readonly byId = new Map<number, Stat>();
  private readonly next = [MetricType.Counter, MetricType.Gauge, MetricType.Histogram];

  constructor(private readonly store: StatStore) {}

  define(type: number, name: string): { status: WasmResult; id: number } {
    if (type > METRIC_TYPE_MAX) return { status: WasmResult.BadArgument, id: 0 };
    const id = (this.next[type] += 4);
    this.byId.set(id, this.store.stat(type as MetricType, name));
    return { status: WasmResult.Ok, id };
  }

  increment(id: number, delta: bigint): WasmResult {
    const type = id & 3;
    if (type !== MetricType.Counter && type !== MetricType.Gauge) return WasmResult.BadArgument;
    const s = this.byId.get(id);
    if (!s) return WasmResult.NotFound;
    if (type === MetricType.Counter) {
      if (delta <= 0n) return WasmResult.BadArgument;
      s.value = U64(s.value + delta);
    } else {
      s.value = U64(s.value + delta); // negative delta subtracts (uint64 gauge)
    }
    return WasmResult.Ok;
  }

  record(id: number, value: bigint): WasmResult {
    const s = this.byId.get(id);
    if (!s || s.type !== (id & 3)) return WasmResult.NotFound;
    const v = U64(value);
    if (s.type === MetricType.Counter) s.value = U64(s.value + v);
    else if (s.type === MetricType.Gauge) s.value = v;
    else if (s.samples.length < 1_000_000) s.samples.push(v);
    return WasmResult.Ok;
  }

  get(id: number): { status: WasmResult; value: bigint } {
    const type = id & 3;
    if (type !== MetricType.Counter && type !== MetricType.Gauge) return { status: WasmResult.BadArgument, value: 0n };
    const s = this.byId.get(id);
    if (!s) return { status: WasmResult.NotFound, value: 0n };
    return { status: WasmResult.Ok, value: s.value };
  }
}
