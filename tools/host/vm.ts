// One instance of the module, as Envoy runs it per canary / worker thread: its own
// instantiation and linear memory, its contexts (0 = VM, 1 = root, streams from 2, never reused),
// the restricted phases (start functions, allocator), trap handling (a trap marks the VM failed,
// for good), and Envoy's deferred "after VM call" actions.

import { buildEnvoyImports, HOST_CALL_NAMES } from "./host-functions.ts";
import { envoyCallbackSignatures, MALLOC_ALLOWED_CALLS, START_ALLOWED_CALLS, type AbiVersion } from "./envoy-abi.ts";
import { HostContext, RootContext, VmContext, type PluginSettings } from "./context.ts";
import { ModuleAllocator, ModuleMemory } from "./memory.ts";
import { StatStore, VmMetrics } from "./metrics.ts";
import type { SharedData } from "./shared-data.ts";
import type { LogRecord } from "./types.ts";
import type { ParsedModule } from "./wasm-binary.ts";
import { Outbound, type CallOutcome, type HttpCallResponse } from "./outbound.ts";

/** A trap raised by the host itself (Envoy returns a Wasm trap from the host function). */
export class HostTrap extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HostTrap";
  }
}

const WasmException = (WebAssembly as unknown as { Exception?: new (...a: unknown[]) => unknown }).Exception;

/** What counts as the module trapping (as opposed to a bug in this host, which is rethrown). */
export function isTrap(e: unknown): boolean {
  if (e instanceof WebAssembly.RuntimeError || e instanceof HostTrap) return true;
  if (e instanceof RangeError && /call stack/i.test(e.message)) return true; // wasm stack overflow
  return WasmException !== undefined && e instanceof WasmException;
}

function describeTrap(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** Process-wide state shared by every VM of the host (Envoy process). */
export interface HostEnvironment {
  readonly logs: LogRecord[];
  /** Collects the logs of the stream being processed (null between streams). */
  streamLogs: LogRecord[] | null;
  /** The current stream's reads, `h <header>` / `p <seg>/<seg>`, in order (tests and the benchmark floor). */
  streamReads: string[] | null;
  readonly sharedData: SharedData;
}

export type WasmFn = (...args: number[]) => number | undefined;

const CALLBACK_NAMES = Object.keys(envoyCallbackSignatures("0.2.1")).filter((n) => n.startsWith("proxy_on_") || n === "proxy_validate_configuration");

const INSTANTIATION_PHASE = "the Wasm start section (Envoy has no context set there)";
const NOTHING_ALLOWED: ReadonlySet<string> = new Set();

export class Vm {
  readonly contexts = new Map<number, HostContext>();
  readonly vmContext: VmContext;
  readonly metrics: VmMetrics;
  readonly counts = new Float64Array(HOST_CALL_NAMES.length);
  root: RootContext | null = null;
  /** Set once a call into the module trapped (or the plugin failed to start here). Never cleared. */
  failed: string | null = null;
  /** The context of the Wasm call in progress, and proxy_set_effective_context's override. */
  current: HostContext;
  effectiveContextId = 0;
  /** Allowed host calls in a restricted phase (null = unrestricted), and the phase's name. */
  restricted: ReadonlySet<string> | null = null;
  restrictedPhase = "";
  /** Envoy's addAfterVmCallAction queue: run when the current callback returns. */
  readonly afterCallActions: Array<() => void> = [];
  /** Set by proxy_send_local_response: the header callback's result becomes StopAll. */
  stopNextIteration = false;
  tickPeriodMs = 0;
  memory!: ModuleMemory;
  allocator!: ModuleAllocator;
  instance!: WebAssembly.Instance;
  /** A memory the module imports (the host creates it), if any. */
  importedMemory: WebAssembly.Memory | null = null;
  readonly cb: Partial<Record<string, WasmFn>> = {};
  /** Outbound http/gRPC calls (outbound.ts) and what their callbacks may read while they run. */
  readonly outbound: Outbound;
  httpCallResponse: HttpCallResponse | null = null;
  grpcMessage: Uint8Array | null = null;
  /** proxy_get_status: set while a failure callback runs (Envoy status_code_ / status_message_). */
  callStatus: { code: number; message: string } = { code: 0, message: "" };
  private nextHttpToken = 1;
  private nextGrpcToken = 1;
  private mallocFn: WasmFn | null = null;
  private mallocName = "malloc";
  private nextContextId = 1;

  constructor(
    readonly name: string,
    readonly abi: AbiVersion,
    readonly plugin: PluginSettings,
    readonly env: HostEnvironment,
    stats: StatStore,
  ) {
    this.vmContext = new VmContext(0, plugin);
    this.contexts.set(0, this.vmContext);
    this.current = this.vmContext;
    this.metrics = new VmMetrics(stats);
    this.outbound = new Outbound(plugin.clusters ?? {});
    this.outbound.deliver = (o) => this.deliver(o);
  }

  /** Envoy's nextHttpCallToken (never 0). */
  httpToken(): number {
    return this.nextHttpToken++;
  }

  /** Envoy's nextGrpcCallToken: call tokens are odd (stream tokens even). */
  grpcToken(): number {
    const t = this.nextGrpcToken;
    this.nextGrpcToken += 2;
    return t;
  }

  /** Delivers one outbound call's answer to the root context, then runs the deferred actions
   *  (continue, local reply) it queued on the stream it made effective. */
  deliver(o: CallOutcome): void {
    const root = this.root;
    if (!root || this.failed) return;
    let name: string;
    let args: number[];
    if (o.kind === "http") {
      name = "proxy_on_http_call_response";
      this.httpCallResponse = o.response;
      if (o.response === null) this.callStatus = { code: 11, message: "reset" };
      args = o.response === null ? [0, 0, 0] : [o.response.headers.size, o.response.body.length, o.response.trailers.size];
    } else if (o.kind === "grpc-message") {
      name = "proxy_on_grpc_receive";
      this.grpcMessage = o.message;
      args = [o.message.length];
    } else {
      name = "proxy_on_grpc_close";
      this.callStatus = { code: o.status, message: o.message };
      args = [o.status];
    }
    const fn = this.cb[name];
    try {
      if (fn) this.call(root, name, fn, root.id, o.token, ...args);
    } finally {
      this.httpCallResponse = null;
      this.grpcMessage = null;
      this.callStatus = { code: 0, message: "" };
    }
    if (this.failed) this.dropAfterCallActions();
    else this.afterCall();
  }

  /** Instantiates (running any Wasm start section with every host call refused). */
  instantiate(module: WebAssembly.Module, parsed: ParsedModule): void {
    const imports = buildEnvoyImports(this, parsed);
    this.restricted = NOTHING_ALLOWED;
    this.restrictedPhase = INSTANTIATION_PHASE;
    try {
      this.instance = new WebAssembly.Instance(module, imports);
    } catch (e) {
      if (!isTrap(e)) throw e;
      this.fail(`Wasm start section trapped: ${describeTrap(e)}`);
      return;
    } finally {
      this.restricted = null;
    }
    const ex = this.instance.exports;
    const mem = ex.memory instanceof WebAssembly.Memory ? ex.memory : this.importedMemory;
    if (!mem) throw new Error("module has no memory (checked at load; should not happen)");
    this.memory = new ModuleMemory(mem);
    // cpp-host getFunctions: malloc first, proxy_on_memory_allocate only when malloc is missing.
    if (typeof ex.malloc === "function") {
      this.mallocFn = ex.malloc as WasmFn;
      this.mallocName = "malloc";
    } else if (typeof ex.proxy_on_memory_allocate === "function") {
      this.mallocFn = ex.proxy_on_memory_allocate as WasmFn;
      this.mallocName = "proxy_on_memory_allocate";
    }
    this.allocator = new ModuleAllocator(this.memory, (size) => this.allocate(size));
    for (const n of CALLBACK_NAMES) if (typeof ex[n] === "function") this.cb[n] = ex[n] as WasmFn;
  }

  /** Envoy's startVm: `_initialize` (+ `main` or `__main_void`), else `_start`; restricted calls only. */
  start(): string | null {
    if (this.failed) return this.failed;
    const ex = this.instance.exports;
    const fn = (n: string) => (typeof ex[n] === "function" ? (ex[n] as WasmFn) : null);
    const run = (n: string, f: WasmFn, a = 0, b = 0) => {
      this.restrictedPhase = n;
      this.call(this.vmContext, n, f, a, b);
    };
    this.restricted = START_ALLOWED_CALLS;
    try {
      const init = fn("_initialize");
      if (init) {
        run("_initialize", init);
        const main = fn("main");
        const mainVoid = fn("__main_void");
        if (!this.failed && main) run("main", main, 0, 0);
        else if (!this.failed && mainVoid) run("__main_void", mainVoid);
      } else {
        const start = fn("_start");
        if (start) run("_start", start);
      }
    } finally {
      this.restricted = null;
      this.restrictedPhase = "";
    }
    return this.failed;
  }

  /**
   * Root context for the plugin: on_context_create(root, 0), on_vm_start(root, vm_config_size),
   * on_configure(root, plugin_config_size). Returns why it failed, or null.
   */
  startPlugin(): string | null {
    if (this.failed) return this.failed;
    const started = this.startRoot(this.plugin);
    this.root = started.root;
    return started.error;
  }

  /**
   * A root context for one plugin configuration on this VM (cpp-host WasmBase::start +
   * configure): several plugins (WasmPlugins shipping the same module: same VM key, Istio sets no
   * vm_id) and a pluginConfig-only update (a new plugin key) each get their own root context in
   * the same VM instance (proxy-wasm-cpp-host src/wasm.cc getOrCreateThreadLocalPlugin, start;
   * plugin key = root_id + plugin configuration, include/proxy-wasm/context.h).
   */
  startRoot(plugin: PluginSettings): { root: RootContext; error: string | null } {
    const root = new RootContext(this.allocContextId(), plugin);
    this.contexts.set(root.id, root);
    return { root, error: this.configureRoot(root, plugin) };
  }

  /**
   * The plugin handle is gone (configuration replaced and its last stream ended, or the
   * listener removed): cpp-host WasmBase::startShutdown(plugin_key) calls on_done and, when it
   * returns true, on_delete; a root answering false waits for proxy_done (kept in pending_done).
   */
  shutdownRoot(root: RootContext): void {
    const done = this.cb.proxy_on_done;
    let finished = true;
    if (!this.failed && done) {
      finished = this.call(root, "proxy_on_done", done, root.id) !== 0;
      this.afterCall();
    }
    if (!finished) {
      root.pendingDone = true;
      return;
    }
    const del = this.cb.proxy_on_delete;
    if (!this.failed && del) {
      this.call(root, "proxy_on_delete", del, root.id);
      this.afterCall();
    }
    this.contexts.delete(root.id);
    if (this.root === root) this.root = null;
  }

  private configureRoot(root: RootContext, plugin: PluginSettings): string | null {
    if (this.failed) return this.failed;
    const create = this.cb.proxy_on_context_create;
    if (create) {
      root.pluginActive = true;
      this.call(root, "proxy_on_context_create", create, root.id, 0);
      root.pluginActive = false;
      this.afterCall();
      if (this.failed) return this.failed;
    }
    const vmStart = this.cb.proxy_on_vm_start;
    if (vmStart) {
      const ok = this.call(root, "proxy_on_vm_start", vmStart, root.id, plugin.vmConfiguration.length);
      this.afterCall();
      if (this.failed) return this.failed;
      if (ok === 0) return "proxy_on_vm_start returned 0: Envoy fails to start the plugin";
    }
    const configure = this.cb.proxy_on_configure;
    if (configure) {
      root.pluginActive = true;
      const ok = this.call(root, "proxy_on_configure", configure, root.id, plugin.configuration.length);
      root.pluginActive = false;
      this.afterCall();
      if (this.failed) return this.failed;
      if (ok === 0) return "proxy_on_configure returned 0: Envoy rejects the plugin configuration";
    }
    return null;
  }

  allocContextId(): number {
    while (this.contexts.has(this.nextContextId)) this.nextContextId++;
    return this.nextContextId++;
  }

  /** Context for a host call: the effective context if one was set and still exists. */
  context(): HostContext {
    if (this.effectiveContextId !== 0) {
      const c = this.contexts.get(this.effectiveContextId);
      if (c) return c;
    }
    return this.current;
  }

  /** A call from the host into the module. A trap marks the VM failed and returns 0. */
  call(ctx: HostContext, name: string, fn: WasmFn, a = 0, b = 0, c = 0, d = 0, e = 0): number {
    const prevCtx = this.current;
    const prevEffective = this.effectiveContextId;
    this.current = ctx;
    this.effectiveContextId = 0;
    try {
      const r = fn(a, b, c, d, e);
      return typeof r === "number" ? r >>> 0 : 0;
    } catch (e) {
      if (!isTrap(e)) throw e;
      this.fail(`Function: ${name} failed: ${describeTrap(e)}`);
      return 0;
    } finally {
      this.current = prevCtx;
      this.effectiveContextId = prevEffective;
    }
  }

  /** cpp-host allocMemory: the module's allocator in restricted mode, under the VM context. */
  private allocate(size: number): number {
    const fn = this.mallocFn;
    if (!fn) return 0;
    const prev = [this.restricted, this.restrictedPhase] as const;
    this.restricted = MALLOC_ALLOWED_CALLS;
    this.restrictedPhase = this.mallocName;
    try {
      return this.call(this.vmContext, this.mallocName, fn, size);
    } finally {
      [this.restricted, this.restrictedPhase] = prev;
    }
  }

  /** Counts a host call and refuses it in a restricted phase (Envoy traps: "restricted_callback"). */
  enter(id: number): void {
    this.counts[id]++;
    if (this.restricted !== null && !this.restricted.has(HOST_CALL_NAMES[id])) {
      throw new HostTrap(`restricted_callback: ${HOST_CALL_NAMES[id]} is not allowed during ${this.restrictedPhase}`);
    }
  }

  fail(message: string): void {
    if (this.failed === null) this.failed = message;
  }

  /** DeferAfterCallActions: run what the callback deferred (local reply, continue, close). */
  afterCall(): void {
    const q = this.afterCallActions;
    while (q.length > 0) q.shift()!();
  }

  dropAfterCallActions(): void {
    this.afterCallActions.length = 0;
  }

  log(level: number, message: string): void {
    const rec: LogRecord = { vm: this.name, level, message };
    this.env.logs.push(rec);
    if (this.env.streamLogs !== null) this.env.streamLogs.push(rec);
  }
}
