// Public types of the proxy-wasm test host: what a caller gives it and gets back.
// The host plays Envoy (proxy-wasm ABI 0.2.1) as described in ../../docs/filter-io.md and
// ../shared/spec/proxy-wasm-envoy.md.

/** Envoy's node (`xds.node`) as the filter sees it through properties. */
export interface NodeInfo {
  id?: string;
  /** Istio node metadata: NAMESPACE (string), LABELS (map), WORKLOAD_NAME, ... */
  metadata: Record<string, unknown>;
}

export interface PluginOptions {
  /** The .wasm module bytes. */
  wasm: Uint8Array;
  /** PLUGIN_CONFIGURATION: the JSON text of pluginConfig, or raw bytes. Empty = size 0. */
  configuration: Uint8Array | string;
  node: NodeInfo;
  /** Envoy `plugin_name` (Istio: `<ns>.<wasmplugin-name>`). */
  pluginName?: string;
  /** Envoy `plugin_root_id` (= WasmPlugin.spec.pluginName). */
  rootId?: string;
  /** 1.33+ serves node metadata under `xds` only; 1.32 also under the old `node` name. */
  envoyVersion?: "1.33+" | "1.32";
  /** Worker VMs besides the canary (Istio default concurrency is 2). */
  workers?: number;
  failStrategy?: "FAIL_CLOSE" | "FAIL_OPEN";
  /** Envoy log level for `proxy_get_log_level` (0 trace .. 5 critical). Default 3 (warning, Istio's default). */
  logLevel?: number;
  /** WasmPlugin vmConfig.env (INLINE values): what WASI environ_* return. Default none. */
  env?: Record<string, string>;
  /** VM_CONFIGURATION (buffer 6) and on_vm_start's size. Istio sets none. Default empty. */
  vmConfiguration?: Uint8Array | string;
  /** Envoy node cluster (`xds.node.cluster`; Istio: `<workload>.<ns>`). Default "". */
  nodeCluster?: string;
  /** Upstream clusters the module may call (proxy_http_call / proxy_grpc_call): Envoy cluster
   *  name (Istio: `outbound|<port>||<host>`) -> "127.0.0.1:<port>". Default none. */
  clusters?: Record<string, string>;
}

/** Bytes as Envoy holds them: a string stands for its UTF-8; a Uint8Array is raw (need not be UTF-8). */
export type Bytes = string | Uint8Array;

export interface TlsInfo {
  /** Every URI SAN of the peer certificate, in order (a filter sees only the first). */
  uriSans: Bytes[];
  dnsSans?: Bytes[];
  subject?: Bytes;
  /** Requested server name; "" when the client sent none. BoringSSL refuses an SNI with NUL. */
  sni?: Bytes;
  version?: string;
  /** A peer certificate was presented (connection.mtls). Default true when uriSans is non-empty. */
  peerCertificate?: boolean;
}

/** One HTTP request on one downstream connection, as Envoy's inbound listener sees it. */
export interface StreamSpec {
  /** Request headers in order, names as received (the host lower-cases them). Pseudo-headers
   *  `:method`, `:path`, `:authority`, `:scheme` included. A name may repeat. */
  headers: Array<[string, Bytes]>;
  /** TCP peer and local address, "ip:port" ("[v6]:port" for IPv6). */
  downstreamRemote: string;
  downstreamLocal: string;
  /** null = plaintext. */
  tls: TlsInfo | null;
  /** Dynamic metadata: filter name -> Struct (JSON), e.g. {"envoy.filters.http.jwt_authn": {payload: {...}}}. */
  dynamicMetadata?: Record<string, Record<string, unknown>>;
  protocol?: "HTTP/1.1" | "HTTP/2";
  /** Number of trusted XFF hops (Istio sidecar inbound: 0, use_remote_address false). */
  xffNumTrustedHops?: number;
  endOfStream?: boolean;
  /** An earlier filter rejected the stream: the plugin gets create, log, done, delete only. */
  rejectedBeforePlugin?: boolean;
  /** Which worker VM serves the stream (default: round robin). */
  worker?: number;
  /** Request body, delivered through proxy_on_request_body after the headers continue. */
  body?: string;
  /** `connection.id` (default: a new connection per stream). */
  connectionId?: number;
  /** The simulated upstream answer when the request is forwarded (default 200, content-length 0). */
  upstreamResponse?: { status?: number; headers?: Array<[string, string]> };
  /** With rejectedBeforePlugin: the earlier filter's reply (default 403, details rejected_before_plugin). */
  rejectedReply?: { status: number; details: string; body?: string };
}

/** One downstream TCP connection through the plugin as a network filter (a NETWORK WasmPlugin). */
export interface ConnectionSpec {
  /** TCP peer and local address, "ip:port" ("[v6]:port" for IPv6). */
  downstreamRemote: string;
  downstreamLocal: string;
  /** null = plaintext. The peer certificate becomes visible when the handshake is done, after
   *  proxy_on_new_connection and before the first data. */
  tls: TlsInfo | null;
  /** The client's reads, in order (default one read "hello"). */
  downstreamData?: string[];
  /** The last read carries end_of_stream (the client half-closes). */
  halfClose?: boolean;
  /** What the server writes back once bytes reached it. */
  upstreamData?: string[];
  dynamicMetadata?: Record<string, Record<string, unknown>>;
  worker?: number;
  connectionId?: number;
}

export interface ConnectionResult {
  /** The plugin let the connection through: its bytes reached the upstream and it was not closed. */
  allowed: boolean;
  closedBy: "plugin" | "client";
  /** wasm_downstream_close when the plugin closed it; filter_config_not_found / wasm_fail_stream. */
  closeDetails: string | null;
  bytesToUpstream: number;
  bytesToDownstream: number;
  callbacks: string[];
  filterState: Record<string, string>;
  trap: string | null;
  hostCalls: Record<string, number>;
  reads?: string[];
  logs: LogRecord[];
  contextId: number | null;
  worker: number;
}

export interface LogRecord {
  vm: string;
  level: number;
  message: string;
}

export interface LocalReply {
  status: number;
  body: string;
  details: string;
  headers: Array<[string, string]>;
  grpcStatus: number | null;
}

export interface StreamResult {
  /** What the client observes: the upstream answer (200) when the request went through, else the
   *  local reply's status (or 503 for a trap under FAIL_CLOSE). */
  status: number;
  /** The request was forwarded upstream. */
  forwarded: boolean;
  localReply: LocalReply | null;
  /** RESPONSE_CODE_DETAILS, e.g. rbac_access_denied_matched_policy[none] or wasm_fail_stream. */
  details: string;
  /** Filter state written by the plugin with proxy_set_property, keyed without the `wasm.` prefix. */
  filterState: Record<string, string>;
  /** Set when a callback trapped. */
  trap: string | null;
  /** Host calls made during this stream, by function name (for tests and benchmarks). */
  hostCalls: Record<string, number>;
  /** Request-header and property reads, in order: `h <name>` and `p <seg>/<seg>...`. */
  reads?: string[];
  logs: LogRecord[];
  /** The stream context id in its worker VM (null when no context was created: failed VM, bypass). */
  contextId?: number | null;
  /** The worker VM that served the stream. */
  worker?: number;
  /** Response headers the client receives (pseudo-headers first). */
  responseHeaders?: Array<[string, string]>;
  /** Request headers as forwarded upstream (after the plugin's changes); null when not forwarded. */
  upstreamRequestHeaders?: Array<[string, string]> | null;
}

export class HostLoadError extends Error {
  constructor(message: string, readonly reasons: string[]) {
    super(message);
    this.name = "HostLoadError";
  }
}
