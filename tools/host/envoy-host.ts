// EnvoyHost: the plugin as one Envoy (Istio sidecar) runs it. Loads the module only if Envoy
// would, starts a canary VM that must accept the configuration, then `workers` worker VMs (each
// its own instantiation and memory), and serves streams synchronously on the workers.

import { HeaderMap } from "./header-map.ts";
import { parseSocketAddress } from "./address.ts";
import { Vm, type HostEnvironment } from "./vm.ts";
import type { PluginSettings } from "./context.ts";
import { checkModuleForEnvoy, detectAbi } from "./module-check.ts";
import { HOST_CALL_NAMES } from "./host-functions.ts";
import { StatStore } from "./metrics.ts";
import { SharedData } from "./shared-data.ts";
import { HttpStream, type StreamOutcome } from "./stream.ts";
import { NetworkConnection } from "./connection.ts";
import { HostLoadError, type ConnectionResult, type ConnectionSpec, type LogRecord, type PluginOptions, type StreamResult, type StreamSpec } from "./types.ts";
import { parseModule, type ParsedModule } from "./wasm-binary.ts";

const encoder = new TextEncoder();

function toBytes(v: Uint8Array | string | undefined): Uint8Array {
  if (v === undefined) return new Uint8Array(0);
  return typeof v === "string" ? encoder.encode(v) : v;
}

export class EnvoyHost {
  /** false when the canary's on_vm_start/on_configure returned 0 or trapped: Envoy rejects the config. */
  readonly configAccepted: boolean;
  readonly configError: string | null;
  /** Wall time of the canary's root start (context create, vm start, configure), in ms. */
  readonly configureMs: number;
  /** Everything every VM logged (proxy_log and WASI fd_write), in order. */
  readonly logs: LogRecord[];
  private readonly canary: Vm;
  private readonly workers: Vm[];
  private readonly plugin: PluginSettings;
  private readonly env: HostEnvironment;
  private readonly stats: StatStore;
  private nextWorker = 0;
  private nextConnectionId = 1;

  private constructor(parts: {
    canary: Vm;
    workers: Vm[];
    plugin: PluginSettings;
    env: HostEnvironment;
    stats: StatStore;
    configError: string | null;
    configureMs: number;
  }) {
    this.canary = parts.canary;
    this.workers = parts.workers;
    this.plugin = parts.plugin;
    this.env = parts.env;
    this.stats = parts.stats;
    this.configError = parts.configError;
    this.configAccepted = parts.configError === null;
    this.configureMs = parts.configureMs;
    this.logs = parts.env.logs;
  }

  /** Loads the plugin. Throws HostLoadError when Envoy would refuse the module itself. */
  static async create(opts: PluginOptions): Promise<EnvoyHost> {
    const bytes = opts.wasm;
    const reasons = checkModuleForEnvoy(bytes);
    if (reasons.length > 0) throw new HostLoadError(`Envoy would refuse this Wasm module: ${reasons.join("; ")}`, reasons);
    const parsed = parseModule(bytes);
    const abi = detectAbi(parsed).abi!;
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    } catch (e) {
      const msg = `Wasm compilation failed: ${(e as Error).message}`;
      throw new HostLoadError(msg, [msg]);
    }

    const rootId = opts.rootId ?? "meshauthz";
    const plugin: PluginSettings = {
      name: opts.pluginName ?? `default.${rootId}`,
      rootId,
      vmId: "", // Istio sets no vm_id
      configuration: toBytes(opts.configuration),
      vmConfiguration: toBytes(opts.vmConfiguration),
      node: { id: opts.node.id ?? "", metadata: opts.node.metadata ?? {} },
      nodeCluster: opts.nodeCluster ?? "",
      legacyNodeName: opts.envoyVersion === "1.32",
      failOpen: opts.failStrategy === "FAIL_OPEN",
      logLevel: opts.logLevel ?? 3,
      env: Object.entries(opts.env ?? {}),
      clusters: opts.clusters ?? {},
    };
    const env: HostEnvironment = { logs: [], streamLogs: null, streamReads: null, sharedData: new SharedData() };
    const stats = new StatStore();

    // Canary: start failure = the module cannot be initialized (Envoy refuses it); a plugin
    // start/configure failure = the configuration is rejected. The canary is then discarded
    // (no on_done/on_delete), as Envoy kill()s it.
    const canary = new Vm("canary", abi, plugin, env, new StatStore());
    instantiateOrRefuse(canary, module, parsed);
    const startError = canary.start();
    if (startError !== null) {
      throw new HostLoadError(`Failed to initialize Wasm code: ${startError}`, [startError]);
    }
    const t0 = performance.now();
    const configError = canary.startPlugin();
    const configureMs = performance.now() - t0;

    const workers: Vm[] = [];
    if (configError === null) {
      const n = opts.workers ?? 2;
      for (let i = 0; i < n; i++) {
        const vm = new Vm(`worker${i}`, abi, plugin, env, stats);
        instantiateOrRefuse(vm, module, parsed);
        // A worker that fails here serves every stream as a failed VM would.
        const error = vm.start() ?? vm.startPlugin();
        if (error !== null) vm.fail(error);
        workers.push(vm);
      }
    }
    return new EnvoyHost({ canary, workers, plugin, env, stats, configError, configureMs });
  }

  get workerCount(): number {
    return this.workers.length;
  }

  /** Why a worker VM is failed (null = healthy). */
  workerFailure(worker: number): string | null {
    return this.workers[worker]?.failed ?? null;
  }

  /** Serves one HTTP stream on a worker (round robin unless spec.worker is set). */
  request(spec: StreamSpec): StreamResult {
    return this.serve(spec, (s) => s.run()) as StreamResult;
  }

  /** request(), for filters that call out (proxy_http_call / proxy_grpc_call): the stream stays
   *  paused while the real calls are answered and delivered. */
  async requestAsync(spec: StreamSpec): Promise<StreamResult> {
    return await this.serve(spec, (s) => s.runAsync());
  }

  private serve(spec: StreamSpec, run: (s: HttpStream) => StreamOutcome | Promise<StreamOutcome>): StreamResult | Promise<StreamResult> {
    const logs: LogRecord[] = [];
    if (!this.configAccepted || this.workers.length === 0) {
      // The listener never got a valid filter config: Envoy's missing-config filter answers.
      return {
        status: 500, forwarded: false, localReply: null, details: "filter_config_not_found", filterState: {},
        trap: null, hostCalls: {}, logs, contextId: null, worker: -1, responseHeaders: [[":status", "500"]], upstreamRequestHeaders: null,
      };
    }
    const w = spec.worker ?? this.nextWorker++ % this.workers.length;
    const vm = this.workers[w];
    if (!vm) throw new Error(`no worker ${w} (there are ${this.workers.length})`);
    const connectionId = spec.connectionId ?? this.nextConnectionId++;

    if (vm.failed !== null) return this.failedVmResult(spec, w);
    // Caller errors (bad addresses) surface before a context id is used up.
    parseSocketAddress(spec.downstreamRemote);
    parseSocketAddress(spec.downstreamLocal);

    const before = vm.counts.slice();
    const reads: string[] = [];
    const stream = new HttpStream(vm, vm.allocContextId(), this.plugin, spec, connectionId);
    vm.contexts.set(stream.id, stream);
    const result = (o: StreamOutcome): StreamResult => ({
      status: o.status,
      forwarded: o.forwarded,
      localReply: o.localReply,
      details: o.details,
      filterState: stream.filterStateStrings(),
      trap: o.trap,
      hostCalls: diffCounts(before, vm.counts),
      reads,
      logs,
      contextId: stream.id,
      worker: w,
      responseHeaders: o.responseHeaders,
      upstreamRequestHeaders: o.upstreamRequestHeaders,
    });
    this.env.streamLogs = logs;
    this.env.streamReads = reads;
    let o: StreamOutcome | Promise<StreamOutcome>;
    try {
      o = run(stream);
    } finally {
      this.env.streamLogs = null;
      this.env.streamReads = null;
    }
    if (!(o instanceof Promise)) return result(o);
    // Logs and reads of a paused stream are not collected per stream (others may run meanwhile).
    return o.then(result);
  }

  /** Serves one downstream connection with the plugin as a network filter (a NETWORK WasmPlugin). */
  connect(spec: ConnectionSpec): ConnectionResult {
    const logs: LogRecord[] = [];
    const base = { bytesToDownstream: 0, callbacks: [], filterState: {}, trap: null, hostCalls: {}, logs, contextId: null };
    if (!this.configAccepted || this.workers.length === 0) {
      // No filter config: Envoy's listener has no usable chain for it; the connection is refused.
      return { ...base, allowed: false, closedBy: "plugin", closeDetails: "filter_config_not_found", bytesToUpstream: 0, worker: -1 };
    }
    const w = spec.worker ?? this.nextWorker++ % this.workers.length;
    const vm = this.workers[w];
    if (!vm) throw new Error(`no worker ${w} (there are ${this.workers.length})`);
    const connectionId = spec.connectionId ?? this.nextConnectionId++;
    const reads: string[] = [];
    this.env.streamLogs = logs;
    this.env.streamReads = reads;
    try {
      const before = vm.counts.slice();
      const conn = new NetworkConnection(vm, vm.allocContextId(), this.plugin, spec, connectionId);
      vm.contexts.set(conn.id, conn);
      const o = conn.run();
      return {
        allowed: o.closedBy === "client" && o.bytesToUpstream > 0,
        closedBy: o.closedBy,
        closeDetails: o.closeDetails,
        bytesToUpstream: o.bytesToUpstream,
        bytesToDownstream: o.bytesToDownstream,
        callbacks: o.callbacks,
        filterState: conn.filterStateStrings(),
        trap: o.trap,
        hostCalls: diffCounts(before, vm.counts),
        reads,
        logs,
        contextId: conn.id,
        worker: w,
      };
    } finally {
      this.env.streamLogs = null;
      this.env.streamReads = null;
    }
  }

  /**
   * A VM that already failed: fail-closed Envoy uses an empty context (503 wasm_fail_stream,
   * no call into the module); fail-open Envoy leaves the filter out of the chain.
   */
  private failedVmResult(spec: StreamSpec, w: number): StreamResult {
    const base = { filterState: {}, trap: null, hostCalls: {}, logs: [], contextId: null, worker: w, localReply: null };
    if (spec.rejectedBeforePlugin) {
      const r = spec.rejectedReply ?? { status: 403, details: "rejected_before_plugin" };
      return { ...base, status: r.status, forwarded: false, details: r.details, responseHeaders: [[":status", String(r.status)]], upstreamRequestHeaders: null };
    }
    if (this.plugin.failOpen) {
      const status = spec.upstreamResponse?.status ?? 200;
      return {
        ...base, status, forwarded: true, details: "via_upstream",
        responseHeaders: [[":status", String(status)], ...(spec.upstreamResponse?.headers ?? [["content-length", "0"]])] as Array<[string, string]>,
        upstreamRequestHeaders: HeaderMap.from(spec.headers, { request: true, http2: spec.protocol === "HTTP/2" }).entries(),
      };
    }
    return { ...base, status: 503, forwarded: false, details: "wasm_fail_stream", responseHeaders: [[":status", "503"]], upstreamRequestHeaders: null };
  }

  /** Calls proxy_on_tick on every healthy worker whose root set a tick period. */
  tick(): void {
    for (const vm of this.workers) {
      const fn = vm.cb.proxy_on_tick;
      if (vm.failed || !fn || vm.tickPeriodMs === 0 || !vm.root) continue;
      vm.call(vm.root, "proxy_on_tick", fn, vm.root.id);
      if (vm.failed) vm.dropAfterCallActions();
      else vm.afterCall();
    }
  }

  /** Counters and gauges by the name the module defined, summed over the worker VMs. */
  metrics(): Record<string, number> {
    return this.stats.values();
  }

  /** Histogram samples by name (worker VMs). */
  histograms(): Record<string, number[]> {
    return this.stats.histograms();
  }

  /** Linear memory size of a worker VM in bytes. */
  memoryBytes(worker = 0): number {
    const vm = this.workers[worker];
    return vm && vm.memory ? vm.memory.byteLength : 0;
  }

  /** Host calls by function name since load, over every VM (canary included). */
  hostCallCounts(): Record<string, number> {
    const total = new Float64Array(HOST_CALL_NAMES.length);
    for (const vm of [this.canary, ...this.workers]) for (let i = 0; i < total.length; i++) total[i] += vm.counts[i];
    return diffCounts(new Float64Array(total.length), total);
  }
}

/** A link error the load checks did not foresee is still Envoy refusing the module. */
function instantiateOrRefuse(vm: Vm, module: WebAssembly.Module, parsed: ParsedModule): void {
  try {
    vm.instantiate(module, parsed);
  } catch (e) {
    if (e instanceof HostLoadError) throw e;
    const msg = `Wasm instantiation failed: ${(e as Error).message}`;
    throw new HostLoadError(msg, [msg]);
  }
}

function diffCounts(before: Float64Array, after: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < after.length; i++) {
    const d = after[i] - before[i];
    if (d !== 0) out[HOST_CALL_NAMES[i]] = d;
  }
  return out;
}
