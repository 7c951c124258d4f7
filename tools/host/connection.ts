// One downstream connection through the Wasm plugin as a network filter (Envoy's
// envoy.filters.network.wasm): Envoy source/extensions/common/wasm/context.cc onNewConnection /
// onData / onWrite / onEvent / closeStream / onCloseTCP, proxy-wasm-cpp-host src/context.cc
// onNetworkNewConnection / onDownstreamData / CHECK_FAIL_NET. In order:
//   proxy_on_context_create(ctx, root) and proxy_on_new_connection(ctx) at accept, before the TLS
//   handshake has finished (peer certificate not known yet: connection.mtls false, no SANs);
//   proxy_on_downstream_data(ctx, size, eos) per read, proxy_on_upstream_data per server write;
//   proxy_on_downstream_connection_close(ctx, 1 local | 2 remote), then done, log, delete.
// A non-zero data-callback result stops the bytes there (they do not reach the upstream).
// proxy_close_stream(downstream) is deferred to the end of the callback and closes the connection
// (FlushWrite, details "wasm_downstream_close"); proxy_continue_stream(downstream) resumes reading.

import { parseSocketAddress, type SocketAddress } from "./address.ts";
import { BufferType, StreamType, WasmResult } from "./envoy-abi.ts";
import { constBuffer, HostContext, type HostBuffer, type PluginSettings } from "./context.ts";
import type { HeaderMap } from "./header-map.ts";
import type { StreamInfoView } from "./properties.ts";
import type { ConnectionSpec, TlsInfo } from "./types.ts";
import type { Vm } from "./vm.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** proxy-wasm CloseType. */
const enum CloseType {
  Local = 1,
  Remote = 2,
}

export interface ConnectionOutcome {
  /** Who closed: the plugin (proxy_close_stream or a failed VM), or the client at the end. */
  closedBy: "plugin" | "client";
  /** Envoy's close details (wasm_downstream_close, ...), null when the client closed. */
  closeDetails: string | null;
  /** Downstream bytes that passed the filter (reached tcp_proxy / the upstream). */
  bytesToUpstream: number;
  /** Upstream bytes that passed the filter back to the client. */
  bytesToDownstream: number;
  /** Callbacks the module got, in order, with their results where they return one. */
  callbacks: string[];
  trap: string | null;
}

export class NetworkConnection extends HostContext implements StreamInfoView {
  readonly isRoot = false;
  // ---- stream info (StreamInfoView): a connection has no HTTP request
  readonly protocol = "";
  readonly remoteAddress: SocketAddress;
  readonly localAddress: SocketAddress;
  readonly connectionId: number;
  readonly dynamicMetadata: Record<string, Record<string, unknown>>;
  readonly filterState = new Map<string, Uint8Array>();
  readonly listenerDirection = 1; // sidecar inbound
  readonly responseCode = null;
  responseCodeDetails: string | null = null;
  readonly requestBodyBytes = 0;
  readonly responseBodyBytes = 0;
  private readonly startMs = Date.now();
  private endMs: number | null = null;

  private inVmContextCreated = false;
  private handshakeDone = false;
  private closed = false;
  private closedBy: "plugin" | "client" | null = null;
  private downstreamData: Uint8Array | null = null; // network_downstream_data_buffer_
  private upstreamData: Uint8Array | null = null;
  private readBlocked = false;
  private readonly held: Uint8Array[] = [];
  private bytesToUpstream = 0;
  private bytesToDownstream = 0;
  private readonly callbacks: string[] = [];
  private failed = false;
  trap: string | null = null;

  constructor(
    private readonly vm: Vm,
    id: number,
    plugin: PluginSettings,
    private readonly spec: ConnectionSpec,
    connectionId: number,
  ) {
    super(id, plugin);
    this.remoteAddress = parseSocketAddress(spec.downstreamRemote);
    this.localAddress = parseSocketAddress(spec.downstreamLocal);
    this.connectionId = connectionId;
    this.dynamicMetadata = spec.dynamicMetadata ?? {};
  }

  // ---- PropertySource / StreamInfoView
  get stream(): StreamInfoView {
    return this;
  }
  get pluginName(): string {
    return this.plugin.name;
  }
  get startTimeNs(): bigint {
    return BigInt(this.startMs) * 1_000_000n;
  }
  get durationNs(): bigint | null {
    return this.endMs === null ? null : BigInt(this.endMs - this.startMs) * 1_000_000n;
  }
  /** Before the handshake the TLS socket exists (SNI from the TLS inspector is known) but no peer
   *  certificate has been presented yet. */
  get tls(): TlsInfo | null {
    const t = this.spec.tls;
    if (t === null) return null;
    if (this.handshakeDone) return t;
    return { uriSans: [], dnsSans: [], subject: "", sni: t.sni, version: t.version, peerCertificate: false };
  }
  propertyRequestHeaders(): HeaderMap | null {
    return null;
  }
  propertyResponseHeaders(): HeaderMap | null {
    return null;
  }

  getBuffer(type: number): HostBuffer | null {
    if (type === BufferType.NetworkDownstreamData && this.downstreamData !== null) return constBuffer(this.downstreamData);
    if (type === BufferType.NetworkUpstreamData && this.upstreamData !== null) return constBuffer(this.upstreamData);
    return super.getBuffer(type);
  }

  setProperty(path: Uint8Array, value: Uint8Array): WasmResult {
    this.filterState.set(`wasm.${decoder.decode(path)}`, value);
    return WasmResult.Ok;
  }

  continueStream(type: number): WasmResult {
    if (type === StreamType.Downstream) {
      this.vm.afterCallActions.push(() => this.continueReading());
      return WasmResult.Ok;
    }
    if (type === StreamType.Upstream) return WasmResult.Unimplemented;
    return WasmResult.Ok; // request/response: no HTTP stream on this context
  }

  closeStream(type: number): WasmResult {
    if (type === StreamType.Downstream || type === StreamType.Upstream) {
      const details = type === StreamType.Downstream ? "wasm_downstream_close" : "wasm_upstream_close";
      this.vm.afterCallActions.push(() => this.close("plugin", details));
    }
    return WasmResult.Ok;
  }

  // ---- calls into the module

  private trapped(): boolean {
    if (!this.vm.failed) return false;
    this.vm.dropAfterCallActions();
    this.trap ??= this.vm.failed;
    return true;
  }

  /** CHECK_FAIL_NET: a failed VM closes the connection (FlushWrite) unless the plugin fails open. */
  private checkFail(): number | null {
    if (!this.vm.failed) return null;
    if (this.plugin.failOpen) return 0;
    if (!this.failed) {
      this.failed = true;
      this.close("plugin", "wasm_fail_stream");
    }
    return 1;
  }

  private call(name: string, ...args: number[]): number {
    const before = this.checkFail();
    if (before !== null) return before;
    const fn = this.vm.cb[name];
    if (!fn) return 0;
    const r = this.vm.call(this, name, fn, this.id, ...args);
    this.callbacks.push(`${name}=${r}`);
    if (this.trapped()) return this.checkFail()!;
    this.vm.afterCall();
    return r === 0 ? 0 : 1;
  }

  private simple(name: string, ...args: number[]): void {
    const fn = this.vm.cb[name];
    if (this.vm.failed || !fn) return;
    this.vm.call(this, name, fn, this.id, ...args);
    this.callbacks.push(name);
    if (!this.trapped()) this.vm.afterCall();
  }

  // ---- Envoy's connection side

  private close(by: "plugin" | "client", details: string | null): void {
    if (this.closed) return;
    this.closed = true;
    this.closedBy = by;
    this.responseCodeDetails = details;
    if (!this.inVmContextCreated) return;
    // onEvent(LocalClose|RemoteClose) -> onDownstreamConnectionClose -> onCloseTCP.
    this.simple("proxy_on_downstream_connection_close", by === "plugin" ? CloseType.Local : CloseType.Remote);
    this.endMs = Date.now();
    this.simple("proxy_on_done");
    this.simple("proxy_on_log");
    this.simple("proxy_on_delete");
  }

  private continueReading(): void {
    if (this.closed) return;
    this.readBlocked = false;
    for (const b of this.held.splice(0)) this.bytesToUpstream += b.length;
  }

  private onData(bytes: Uint8Array, eos: boolean): void {
    if (this.closed) return;
    this.downstreamData = bytes;
    const r = this.call("proxy_on_downstream_data", bytes.length, eos ? 1 : 0);
    this.downstreamData = null;
    if (this.closed) return;
    if (r === 0 && !this.readBlocked) this.bytesToUpstream += bytes.length;
    else {
      this.readBlocked = true;
      this.held.push(bytes);
    }
  }

  private onWrite(bytes: Uint8Array, eos: boolean): void {
    if (this.closed) return;
    this.upstreamData = bytes;
    const r = this.call("proxy_on_upstream_data", bytes.length, eos ? 1 : 0);
    this.upstreamData = null;
    if (!this.closed && r === 0) this.bytesToDownstream += bytes.length;
  }

  /** Accept, handshake, the client's reads (and the server's answer), then the close. */
  run(): ConnectionOutcome {
    // onNewConnection: onCreate() then proxy_on_new_connection.
    if (!this.vm.failed && this.vm.cb.proxy_on_context_create) {
      this.vm.call(this, "proxy_on_context_create", this.vm.cb.proxy_on_context_create, this.id, this.vm.root!.id);
      if (!this.trapped()) this.vm.afterCall();
    }
    this.inVmContextCreated = true;
    const status = this.call("proxy_on_new_connection");
    if (status !== 0) this.readBlocked = true;
    this.handshakeDone = true;
    const reads = this.spec.downstreamData ?? ["hello"];
    reads.forEach((d, i) => this.onData(encoder.encode(d), i === reads.length - 1 && (this.spec.halfClose ?? false)));
    // A server speaks only to a connection whose bytes reached it.
    if (this.bytesToUpstream > 0) {
      const writes = this.spec.upstreamData ?? [];
      writes.forEach((d, i) => this.onWrite(encoder.encode(d), i === writes.length - 1));
    }
    this.close("client", null);
    this.vm.contexts.delete(this.id);
    return {
      closedBy: this.closedBy ?? "client",
      closeDetails: this.closedBy === "plugin" ? this.responseCodeDetails : null,
      bytesToUpstream: this.bytesToUpstream,
      bytesToDownstream: this.bytesToDownstream,
      callbacks: this.callbacks,
      trap: this.trap,
    };
  }

  /** Filter state written by the plugin, keyed without the "wasm." prefix. */
  filterStateStrings(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.filterState) if (k.startsWith("wasm.")) out[k.slice(5)] = decoder.decode(v);
    return out;
  }
}
