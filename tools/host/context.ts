// The context a host call acts on (Envoy's Context / ContextBase). The base class is what a
// context without stream info does: the VM context (id 0, used during start and inside malloc)
// and the root context. HttpStream (stream.ts) overrides the stream-facing parts.

import { BufferType, WasmResult } from "./envoy-abi.ts";
import type { HeaderMap } from "./header-map.ts";
import type { BytePair } from "./pairs.ts";
import type { PropertySource, StreamInfoView } from "./properties.ts";
import type { NodeInfo } from "./types.ts";

/** The plugin as Envoy holds it (PluginConfig after Istio's translation). */
export interface PluginSettings {
  name: string;
  rootId: string;
  vmId: string;
  configuration: Uint8Array;
  vmConfiguration: Uint8Array;
  node: NodeInfo;
  nodeCluster: string;
  legacyNodeName: boolean;
  failOpen: boolean;
  logLevel: number;
  env: Array<[string, string]>;
  /** Envoy clusters the module may call: name -> "127.0.0.1:<port>" (outbound.ts). */
  clusters?: Record<string, string>;
}

/** A buffer as proxy_get_buffer_bytes / proxy_set_buffer_bytes see it. */
export interface HostBuffer {
  readonly data: Uint8Array;
  write(start: number, length: number, bytes: Uint8Array): WasmResult;
}

const EMPTY = new Uint8Array(0);

/** A string_view-backed buffer (Envoy Buffer::set(string_view)): readable, writes give NotFound. */
export function constBuffer(data: Uint8Array): HostBuffer {
  return { data, write: () => WasmResult.NotFound };
}

const EMPTY_BUFFER = constBuffer(EMPTY);

export abstract class HostContext implements PropertySource {
  abstract readonly isRoot: boolean;

  constructor(
    readonly id: number,
    readonly plugin: PluginSettings,
  ) {}

  // ---- PropertySource
  get stream(): StreamInfoView | null {
    return null;
  }
  get pluginName(): string | null {
    return null;
  }
  get rootId(): string {
    return this.plugin.rootId;
  }
  get vmId(): string {
    return this.plugin.vmId;
  }
  get node(): NodeInfo {
    return this.plugin.node;
  }
  get nodeCluster(): string {
    return this.plugin.nodeCluster;
  }
  get legacyNodeName(): boolean {
    return this.plugin.legacyNodeName;
  }

  /** Envoy's temp_plugin_: set only around the root's on_context_create and on_configure. */
  get pluginConfigurationVisible(): boolean {
    return false;
  }

  // ---- header maps (getConstMap / getMap)
  get accessLogPhase(): boolean {
    return false;
  }
  getConstMap(_type: number): HeaderMap | null {
    return null;
  }
  getMap(_type: number): HeaderMap | null {
    return null;
  }
  /** After a successful header write (Envoy clears the route cache here). */
  headersModified(_type: number): void {}

  // ---- buffers (Envoy Context::getBuffer): null = NotFound
  getBuffer(type: number): HostBuffer | null {
    switch (type) {
      case BufferType.VmConfiguration:
        return constBuffer(this.plugin.vmConfiguration);
      case BufferType.PluginConfiguration:
        return this.pluginConfigurationVisible ? constBuffer(this.plugin.configuration) : null;
      case BufferType.HttpCallResponseBody:
        return null; // no http_call response is ever delivered by this host
      default:
        return EMPTY_BUFFER; // body/network/grpc buffers not set: an empty buffer, not NotFound
    }
  }

  /** proxy_get_configuration (ABI 0.1.0). */
  configuration(): Uint8Array {
    return this.pluginConfigurationVisible ? this.plugin.configuration : this.plugin.vmConfiguration;
  }

  // ---- stream actions; without stream info these are Envoy's no-ops
  setProperty(_path: Uint8Array, _value: Uint8Array): WasmResult {
    return WasmResult.NotFound;
  }
  sendLocalResponse(_code: number, _body: Uint8Array, _headers: BytePair[], _grpcStatus: number, _details: Uint8Array): void {}
  continueStream(type: number): WasmResult {
    return type === 3 ? WasmResult.Unimplemented : WasmResult.Ok;
  }
  closeStream(_type: number): WasmResult {
    return WasmResult.Ok;
  }
}

/** Context 0: what start functions and the allocator run under. */
export class VmContext extends HostContext {
  readonly isRoot = true;
}

/** The root context (id 1 per VM, one per plugin). */
export class RootContext extends HostContext {
  readonly isRoot = true;
  /** Envoy's plugin_ / temp_plugin_ are set only around on_context_create and on_configure. */
  pluginActive = false;
  /** on_done returned false at shutdown: waiting for proxy_done (cpp-host pending_done_). */
  pendingDone = false;

  get pluginName(): string | null {
    return this.pluginActive ? this.plugin.name : null;
  }
  get pluginConfigurationVisible(): boolean {
    return this.pluginActive;
  }
}
