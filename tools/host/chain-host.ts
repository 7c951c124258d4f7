// EnvoyChainHost: one Istio sidecar whose inbound HTTP filter chain holds several Wasm filters,
// one per WasmPlugin that reaches the workload, as istiod and Envoy build it:
//
// - Which WasmPlugins reach a sidecar: those of the proxy's namespace and of the root namespace
//   whose selector matches the workload's labels (istio pilot/pkg/model/push_context.go
//   TrafficExtensionsByListenerInfo: lookupInNamespaces = [proxy.ConfigNamespace, RootNamespace];
//   WasmPlugins are translated to TrafficExtensions, earlier releases had the same code for
//   WasmPluginWrapper).
// - Their order: by phase (AUTHN, AUTHZ, STATS, then unspecified just before the router), and
//   inside a phase by `priority`, highest first, a missing priority counting as MinInt32; ties keep
//   the lookup order (proxy namespace before root namespace, each by creation time):
//   push_context.go sortByPriority (sort.SliceStable, iPriority > jPriority).
// - Two WasmPlugins shipping the same module share each worker's VM (the VM key is sha256 of
//   vm_id, VM configuration and code; Istio sets no vm_id: proxy-wasm-cpp-host src/wasm.cc
//   makeVmKey); each gets its own root context in it (plugin key = root_id + plugin configuration,
//   include/proxy-wasm/context.h), and each filter gets its own stream context.
// - The filters of a stream share its StreamInfo, so filter state one writes with
//   proxy_set_property another reads with proxy_get_property (envoy
//   source/extensions/common/wasm/context.cc setProperty / findValue, key "wasm." + name).
// - A local reply stops the decoder chain; later filters never see the request.
// - A pluginConfig-only change is a new plugin on the same VM: a new root context, on_configure
//   again (cpp-host getOrCreateThreadLocalPlugin -> WasmBase::start/configure). The old plugin
//   handle lives as long as something holds it: every stream created under it keeps its root and
//   finishes on it; when the last one is destroyed the old root gets on_done/on_delete
//   (cpp-host PluginHandleBase::~PluginHandleBase -> WasmBase::startShutdown(plugin_key)).

import { createHash } from "node:crypto";
import { parseSocketAddress } from "./address.ts";
import type { PluginSettings, RootContext } from "./context.ts";
import { checkModuleForEnvoy, detectAbi } from "./module-check.ts";
import { StatStore } from "./metrics.ts";
import { SharedData } from "./shared-data.ts";
import { HttpStream, StreamCore } from "./stream.ts";
import { HostLoadError, type LogRecord, type NodeInfo, type StreamResult, type StreamSpec } from "./types.ts";
import { Vm, type HostEnvironment } from "./vm.ts";
import { parseModule, type ParsedModule } from "./wasm-binary.ts";
import type { AbiVersion } from "./envoy-abi.ts";

const encoder = new TextEncoder();

export type Phase = "AUTHN" | "AUTHZ" | "STATS" | "UNSPECIFIED_PHASE";
/** Chain position of each phase (istio networking/core/extension: AUTHN before Istio authn, AUTHZ
 *  after it and before Istio's RBAC, STATS after authz, unspecified at the end of the chain). */
const PHASE_ORDER: Record<Phase, number> = { AUTHN: 0, AUTHZ: 1, STATS: 2, UNSPECIFIED_PHASE: 3 };

/** One WasmPlugin as far as the data path sees it. */
export interface ChainPlugin {
  namespace: string;
  name: string;
  /** JSON text of pluginConfig (or raw bytes). */
  configuration: Uint8Array | string;
  /** spec.pluginName = Envoy root_id. */
  rootId?: string;
  phase?: Phase;
  priority?: number;
  /** spec.selector.matchLabels; none = every workload of the namespace (of the mesh from the root namespace). */
  selector?: Record<string, string>;
  failStrategy?: "FAIL_CLOSE" | "FAIL_OPEN";
  /** A different module than the host's (its own VMs). */
  wasm?: Uint8Array;
}

export interface ChainHostOptions {
  wasm: Uint8Array;
  node: NodeInfo;
  plugins: ChainPlugin[];
  rootNamespace?: string;
  workers?: number;
  logLevel?: number;
  envoyVersion?: "1.33+" | "1.32";
}

export interface ChainFilterInfo {
  plugin: string;
  rootContextId: number;
  contextId: number;
}

export interface ChainStreamResult extends StreamResult {
  /** The Wasm filters of the stream's chain, in decoder order. */
  filters: ChainFilterInfo[];
}

/** A plugin as installed: its settings, and per worker the root context new streams get. */
interface Installed {
  spec: ChainPlugin;
  key: string;
  settings: PluginSettings;
  module: LoadedModule;
  /** Worker index -> current root context. */
  roots: RootContext[];
  createdAt: number;
  /** Wall time of worker 0's root start (context create, vm start, configure) for the current config, ms. */
  configureMs: number;
}

interface LoadedModule {
  module: WebAssembly.Module;
  parsed: ParsedModule;
  abi: AbiVersion;
  sha: string;
}

/** A stream whose request went through the chain and whose response has not come back yet. */
export interface InFlightStream {
  /** The request was forwarded upstream (false: a filter answered it already). */
  readonly forwarded: boolean;
  /** Lets the upstream answer, runs the response, access log and destroy; returns the result. */
  finish(): ChainStreamResult;
}

function keyOf(ns: string, name: string): string {
  return `${ns}/${name}`;
}

export class EnvoyChainHost {
  readonly logs: LogRecord[];
  private readonly env: HostEnvironment;
  private readonly stats = new StatStore();
  private readonly installed = new Map<string, Installed>();
  /** Worker -> module sha -> VM (one VM per module per worker thread). */
  private readonly vms: Array<Map<string, Vm>> = [];
  /** Root contexts still referenced by streams after their plugin was replaced or removed. */
  private readonly retired = new Set<RootContext>();
  private readonly streamsOfRoot = new Map<RootContext, number>();
  private readonly vmOfRoot = new Map<RootContext, Vm>();
  private readonly modules = new Map<string, LoadedModule>();
  private readonly rootNamespace: string;
  private nextWorker = 0;
  private nextConnectionId = 1;
  private creation = 0;

  private constructor(private readonly opts: ChainHostOptions) {
    this.env = { logs: [], streamLogs: null, streamReads: null, sharedData: new SharedData() };
    this.logs = this.env.logs;
    this.rootNamespace = opts.rootNamespace ?? "istio-system";
    for (let w = 0; w < (opts.workers ?? 2); w++) this.vms.push(new Map());
  }

  static async create(opts: ChainHostOptions): Promise<EnvoyChainHost> {
    const host = new EnvoyChainHost(opts);
    for (const p of opts.plugins) {
      const error = await host.addPlugin(p);
      if (error !== null) throw new HostLoadError(`WasmPlugin ${p.namespace}/${p.name} rejected: ${error}`, [error]);
    }
    return host;
  }

  get workerCount(): number {
    return this.vms.length;
  }

  /** The WasmPlugins that reach this sidecar, in filter-chain order (Istio's selection and sort). */
  chainOrder(): string[] {
    return this.chain().map((p) => `${p.spec.namespace}/${p.spec.name}`);
  }

  private workloadNamespace(): string {
    return String(this.opts.node.metadata.NAMESPACE ?? "");
  }

  /** The WasmPlugin reaches this sidecar: its namespace or the root namespace, selector matching. */
  private reaches(p: ChainPlugin): boolean {
    if (p.namespace !== this.workloadNamespace() && p.namespace !== this.rootNamespace) return false;
    const labels = (this.opts.node.metadata.LABELS ?? {}) as Record<string, string>;
    return Object.entries(p.selector ?? {}).every(([k, v]) => labels[k] === v);
  }

  private chain(): Installed[] {
    const ns = this.workloadNamespace();
    const lookup = ns === this.rootNamespace ? [ns] : [ns, this.rootNamespace];
    const matched: Installed[] = [];
    for (const n of lookup) {
      const inNs = [...this.installed.values()].filter((p) => p.spec.namespace === n && this.reaches(p.spec)).sort((a, b) => a.createdAt - b.createdAt);
      matched.push(...inNs);
    }
    const prio = (p: Installed) => p.spec.priority ?? -2147483648;
    // Array.prototype.sort is stable (ES2019), like sort.SliceStable.
    return matched.sort((a, b) => {
      const pa = PHASE_ORDER[a.spec.phase ?? "UNSPECIFIED_PHASE"];
      const pb = PHASE_ORDER[b.spec.phase ?? "UNSPECIFIED_PHASE"];
      if (pa !== pb) return pa - pb;
      return prio(b) - prio(a);
    });
  }

  private async load(wasm: Uint8Array): Promise<LoadedModule> {
    const sha = createHash("sha256").update(wasm).digest("hex");
    const have = this.modules.get(sha);
    if (have) return have;
    const reasons = checkModuleForEnvoy(wasm);
    if (reasons.length > 0) throw new HostLoadError(`Envoy would refuse this Wasm module: ${reasons.join("; ")}`, reasons);
    const parsed = parseModule(wasm);
    const abi = detectAbi(parsed).abi!;
    const module = await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>);
    const loaded = { module, parsed, abi, sha };
    this.modules.set(sha, loaded);
    return loaded;
  }

  private settingsFor(p: ChainPlugin): PluginSettings {
    const rootId = p.rootId ?? "meshauthz";
    return {
      name: `${p.namespace}.${p.name}`,
      rootId,
      vmId: "",
      configuration: typeof p.configuration === "string" ? encoder.encode(p.configuration) : p.configuration,
      vmConfiguration: new Uint8Array(0),
      node: { id: this.opts.node.id ?? "", metadata: this.opts.node.metadata ?? {} },
      nodeCluster: "",
      legacyNodeName: this.opts.envoyVersion === "1.32",
      failOpen: p.failStrategy === "FAIL_OPEN",
      logLevel: this.opts.logLevel ?? 3,
      env: [],
    };
  }

  /** The worker VM for a module, created (instantiated and started) on first use. */
  private vm(worker: number, m: LoadedModule, settings: PluginSettings): Vm {
    const byModule = this.vms[worker];
    let vm = byModule.get(m.sha);
    if (!vm) {
      vm = new Vm(`worker${worker}`, m.abi, settings, this.env, this.stats);
      vm.instantiate(m.module, m.parsed);
      const error = vm.start();
      if (error !== null) vm.fail(error);
      byModule.set(m.sha, vm);
    }
    return vm;
  }

  /** Envoy's canary: a throwaway VM must accept the configuration, or the config is rejected. */
  private canary(m: LoadedModule, settings: PluginSettings): string | null {
    const vm = new Vm("canary", m.abi, settings, this.env, new StatStore());
    vm.instantiate(m.module, m.parsed);
    const startError = vm.start();
    if (startError !== null) return `Failed to initialize Wasm code: ${startError}`;
    return vm.startRoot(settings).error;
  }

  /** A new WasmPlugin (an LDS change): new streams get it; streams in flight keep their chain.
   *  Returns why the configuration was rejected, or null. */
  async addPlugin(p: ChainPlugin): Promise<string | null> {
    const key = keyOf(p.namespace, p.name);
    if (this.installed.has(key)) throw new Error(`WasmPlugin ${key} exists; use updatePlugin`);
    const module = await this.load(p.wasm ?? this.opts.wasm);
    const settings = this.settingsFor(p);
    if (!this.reaches(p)) {
      // istiod never sends it to this proxy: no canary, no root context.
      this.installed.set(key, { spec: p, key, settings, module, roots: [], createdAt: this.creation++, configureMs: 0 });
      return null;
    }
    const rejected = this.canary(module, settings);
    if (rejected !== null) return rejected;
    const t0 = performance.now();
    const roots = this.vms.map((_, w) => this.startRootOn(w, module, settings));
    const configureMs = (performance.now() - t0) / Math.max(1, this.vms.length);
    this.installed.set(key, { spec: p, key, settings, module, roots, createdAt: this.creation++, configureMs });
    return null;
  }

  private startRootOn(worker: number, module: LoadedModule, settings: PluginSettings): RootContext {
    const vm = this.vm(worker, module, settings);
    const { root, error } = vm.startRoot(settings);
    if (error !== null) vm.fail(error);
    this.vmOfRoot.set(root, vm);
    this.streamsOfRoot.set(root, 0);
    return root;
  }

  /**
   * A pluginConfig-only change (ECDS): a canary checks it; then on every worker the same VM gets
   * a new root context and on_configure; the old root serves the streams created before the change
   * and is shut down (on_done, on_delete) when the last of them is destroyed. Returns why the new
   * configuration was rejected (the old one stays), or null.
   */
  updatePlugin(namespace: string, name: string, configuration: Uint8Array | string): string | null {
    const p = this.installed.get(keyOf(namespace, name));
    if (!p) throw new Error(`no WasmPlugin ${namespace}/${name}`);
    const spec = { ...p.spec, configuration };
    const settings = this.settingsFor(spec);
    if (!this.reaches(spec)) {
      p.spec = spec;
      p.settings = settings;
      return null;
    }
    const rejected = this.canary(p.module, settings);
    if (rejected !== null) return rejected;
    const old = p.roots;
    p.spec = spec;
    p.settings = settings;
    const t0 = performance.now();
    p.roots = this.vms.map((_, w) => this.startRootOn(w, p.module, settings));
    p.configureMs = (performance.now() - t0) / Math.max(1, this.vms.length);
    for (const r of old) this.retire(r);
    return null;
  }

  /** Deletes a WasmPlugin (an LDS change): new streams no longer pass it. */
  removePlugin(namespace: string, name: string): void {
    const p = this.installed.get(keyOf(namespace, name));
    if (!p) throw new Error(`no WasmPlugin ${namespace}/${name}`);
    this.installed.delete(keyOf(namespace, name));
    for (const r of p.roots) this.retire(r);
  }

  private retire(root: RootContext): void {
    this.retired.add(root);
    if ((this.streamsOfRoot.get(root) ?? 0) === 0) this.shutdown(root);
  }

  private shutdown(root: RootContext): void {
    this.retired.delete(root);
    this.streamsOfRoot.delete(root);
    const vm = this.vmOfRoot.get(root);
    this.vmOfRoot.delete(root);
    vm?.shutdownRoot(root);
  }

  /** Per worker VM, the time to configure this sidecar's chain (its plugins' root starts), ms. */
  chainConfigureMs(): number {
    return this.chain().reduce((t, p) => t + p.configureMs, 0);
  }

  /** Bytes of pluginConfig this sidecar receives (each worker VM gets its own copy of each). */
  chainConfigBytes(): number {
    return this.chain().reduce((t, p) => t + p.settings.configuration.length, 0);
  }

  /** Root contexts alive on a worker (current and draining), with their plugin and stream count. */
  liveRoots(worker = 0): Array<{ plugin: string; rootContextId: number; streams: number; retired: boolean }> {
    const out: Array<{ plugin: string; rootContextId: number; streams: number; retired: boolean }> = [];
    for (const [root, vm] of this.vmOfRoot) {
      if (!this.vms[worker] || ![...this.vms[worker].values()].includes(vm)) continue;
      out.push({ plugin: root.plugin.name, rootContextId: root.id, streams: this.streamsOfRoot.get(root) ?? 0, retired: this.retired.has(root) });
    }
    return out;
  }

  /** Linear memory of the worker's VM for the host's module, in bytes. */
  memoryBytes(worker = 0): number {
    const sha = createHash("sha256").update(this.opts.wasm).digest("hex");
    const vm = this.vms[worker]?.get(sha);
    return vm && vm.memory ? vm.memory.byteLength : 0;
  }

  /** Counters and gauges by name, summed over the worker VMs. */
  metrics(): Record<string, number> {
    return this.stats.values();
  }

  /** Calls proxy_on_tick for every live root context of every healthy worker VM. */
  tick(): void {
    for (const [root, vm] of this.vmOfRoot) {
      const fn = vm.cb.proxy_on_tick;
      if (vm.failed || !fn || vm.tickPeriodMs === 0) continue;
      vm.call(root, "proxy_on_tick", fn, root.id);
      if (vm.failed) vm.dropAfterCallActions();
      else vm.afterCall();
    }
  }

  /** One request through the chain, start to end. */
  request(spec: StreamSpec): ChainStreamResult {
    return this.open(spec).finish();
  }

  /** A request through the chain's decoder side; the response comes back on finish(). */
  open(spec: StreamSpec): InFlightStream {
    parseSocketAddress(spec.downstreamRemote);
    parseSocketAddress(spec.downstreamLocal);
    const w = spec.worker ?? this.nextWorker++ % this.vms.length;
    const connectionId = spec.connectionId ?? this.nextConnectionId++;
    const core = new StreamCore(spec, connectionId);
    const filters: ChainFilterInfo[] = [];
    for (const p of this.chain()) {
      const root = p.roots[w];
      const vm = this.vmOfRoot.get(root)!;
      const f = new HttpStream(vm, vm.allocContextId(), p.settings, spec, connectionId, core, root);
      vm.contexts.set(f.id, f);
      this.streamsOfRoot.set(root, (this.streamsOfRoot.get(root) ?? 0) + 1);
      f.onDestroyed = () => {
        const n = (this.streamsOfRoot.get(root) ?? 1) - 1;
        this.streamsOfRoot.set(root, n);
        if (n === 0 && this.retired.has(root)) this.shutdown(root);
      };
      filters.push({ plugin: p.settings.name, rootContextId: root.id, contextId: f.id });
    }
    const logs: LogRecord[] = [];
    const reads: string[] = [];
    const run = <T>(fn: () => T): T => {
      this.env.streamLogs = logs;
      this.env.streamReads = reads;
      try {
        return fn();
      } finally {
        this.env.streamLogs = null;
        this.env.streamReads = null;
      }
    };
    const forwarded = run(() => core.decode(true));
    let done = false;
    return {
      forwarded,
      finish: () => {
        if (done) throw new Error("stream already finished");
        done = true;
        run(() => {
          if (core.forwarded && core.reply === null && !core.reset) core.respond();
          core.finish();
        });
        const o = core.outcome();
        return {
          ...o,
          filterState: core.filterStateStrings(),
          hostCalls: {},
          reads,
          logs,
          contextId: filters[0]?.contextId ?? null,
          worker: w,
          filters,
        };
      },
    };
  }
}

