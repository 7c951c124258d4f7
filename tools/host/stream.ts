// One HTTP stream through the Wasm filter, as Envoy's HTTP filter Context and filter manager
// drive it (Envoy context.cc decodeHeaders/encodeHeaders/log/onDestroy, cpp-host context.cc
// CHECK_FAIL; spec §1.3, §2.3, §2.4). Header maps are reachable only in the phases Envoy allows:
// request headers while on_request_headers runs and while the stream stays paused; after a
// Continue they are gone (value reads BadArgument, pairs empty, request.* properties NotFound).

import { downstreamRemoteAddress, parseSocketAddress, type SocketAddress } from "./address.ts";
import { BufferType, DataStatus, HeaderMapType, HeadersStatus, StreamType, WasmResult } from "./envoy-abi.ts";
import { HostContext, type HostBuffer, type PluginSettings, type RootContext } from "./context.ts";
import { asciiLower, HeaderMap, invalidHeaderValue } from "./header-map.ts";

/** Response code details of a request a codec refused before any filter (header value with NUL, CR or LF). */
export const CODEC_REJECTED_HTTP1 = "http1.invalid_characters";
export const CODEC_REJECTED_HTTP2 = "http2.invalid.header.field";
import type { BytePair } from "./pairs.ts";
import type { StreamInfoView } from "./properties.ts";
import type { LocalReply, StreamSpec, TlsInfo } from "./types.ts";
import type { Vm } from "./vm.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** What the client gets (or the reason it gets nothing). */
interface Reply {
  status: number;
  headers: HeaderMap;
  body: Uint8Array;
  details: string;
  /** The plugin's own proxy_send_local_response (not Envoy's 503/408 or the upstream). */
  fromModule: boolean;
}

/** Envoy's Grpc::Utility::httpToGrpcStatus, for local replies to gRPC requests. */
function httpToGrpcStatus(code: number): number {
  switch (code) {
    case 400:
      return 13;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;
    default:
      return 2;
  }
}

/** grpc-message percent-encoding: everything outside printable ASCII, and '%'. */
function grpcPercentEncode(s: string): string {
  let out = "";
  for (const b of encoder.encode(s)) {
    out += b < 0x20 || b > 0x7e || b === 0x25 ? `%${b.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(b);
  }
  return out;
}

/** StringUtil::replaceAllEmptySpace. */
function replaceWhitespace(s: string): string {
  return s.replace(/[ \t\n\v\f\r]/g, "_");
}

/** A body buffer backed by Envoy's mutable Buffer::Instance (Buffer::copyFrom rules). */
function bodyBuffer(get: () => Uint8Array, set: (b: Uint8Array) => void): HostBuffer {
  return {
    get data() {
      return get();
    },
    write(start, length, bytes) {
      const cur = get();
      if (start === 0) {
        const rest = cur.subarray(Math.min(length, cur.length));
        const next = new Uint8Array(bytes.length + rest.length);
        next.set(bytes, 0);
        next.set(rest, bytes.length);
        set(next);
        return WasmResult.Ok;
      }
      if (start >= cur.length) {
        const next = new Uint8Array(cur.length + bytes.length);
        next.set(cur, 0);
        next.set(bytes, cur.length);
        set(next);
        return WasmResult.Ok;
      }
      return WasmResult.BadArgument;
    },
  };
}

export interface StreamOutcome {
  status: number;
  forwarded: boolean;
  details: string;
  localReply: LocalReply | null;
  trap: string | null;
  responseHeaders: Array<[string, string]>;
  upstreamRequestHeaders: Array<[string, string]> | null;
}

/**
 * What a stream has once however many filters it passes: Envoy's StreamInfo (filter state,
 * addresses, response code) and the filter manager's state (request headers, the reply, reset).
 * Each Wasm filter in the chain is an HttpStream (Envoy's per-filter Context) over one StreamCore.
 */
export class StreamCore {
  readonly protocol: string;
  readonly remoteAddress: SocketAddress;
  readonly localAddress: SocketAddress;
  readonly tls: TlsInfo | null;
  readonly connectionId: number;
  readonly dynamicMetadata: Record<string, Record<string, unknown>>;
  /** Envoy's FilterState of the stream: every filter of the chain reads and writes the same one. */
  readonly filterState = new Map<string, Uint8Array>();
  readonly request: HeaderMap;
  readonly isGrpc: boolean;
  readonly startMs = Date.now();
  endMs: number | null = null;
  responseCode: number | null = null;
  responseCodeDetails: string | null = null;
  requestBodyBytes = 0;
  responseBodyBytes = 0;
  reply: Reply | null = null;
  moduleReply: LocalReply | null = null;
  reset = false;
  forwarded = false;
  /** The response is complete (access-log phase reached): later actions cannot change it. */
  completed = false;
  responseStarted = false;
  upstreamRequestHeaders: Array<[string, string]> | null = null;
  /** The HTTP filters of the chain in decoder order (encoders run in reverse). */
  readonly filters: HttpStream[] = [];

  constructor(readonly spec: StreamSpec, connectionId: number) {
    const protocol = spec.protocol ?? "HTTP/1.1";
    this.protocol = protocol;
    this.request = HeaderMap.from(spec.headers, { request: true, http2: protocol === "HTTP/2" });
    const peer = parseSocketAddress(spec.downstreamRemote);
    this.remoteAddress = downstreamRemoteAddress(peer, this.request.joined("x-forwarded-for"), spec.xffNumTrustedHops ?? 0);
    this.localAddress = parseSocketAddress(spec.downstreamLocal);
    this.tls = spec.tls;
    this.connectionId = connectionId;
    this.dynamicMetadata = spec.dynamicMetadata ?? {};
    this.isGrpc = (this.request.first("content-type") ?? "").startsWith("application/grpc");
  }

  /** Envoy's sendLocalReply before the response started: through every encoder filter, last
   *  decoder filter first (a filter whose context was never created lets it pass). */
  encodeThroughChain(headers: HeaderMap, body: Uint8Array): void {
    this.responseBodyBytes = body.length;
    for (let i = this.filters.length - 1; i >= 0; i--) this.filters[i].encodeFilter(headers, body);
  }

  /** Runs the stream through its filters: request headers and body in chain order until one
   *  answers or pauses, the router, the response back, then access log and destroy per filter. */
  run(): void {
    this.decode();
    this.finish();
  }

  /** The request side, up to the upstream's answer being available (held when holdResponse). */
  decode(holdResponse = false): boolean {
    const spec = this.spec;
    const codecError = spec.headers.some(([, v]) => invalidHeaderValue(v));
    if (codecError || spec.rejectedBeforePlugin) {
      // An earlier filter answered; its reply skips these filters (no context created yet). A header value with
      // NUL, CR or LF never reaches a filter: the HTTP/1 codec answers 400 (http1.invalid_characters), the
      // HTTP/2 codec resets the stream (HeaderUtility::headerValueIsValid; nghttp2 / quiche header validation).
      const r = codecError
        ? this.protocol === "HTTP/2"
          ? { status: 400, details: CODEC_REJECTED_HTTP2, body: "" }
          : { status: 400, details: CODEC_REJECTED_HTTP1, body: "Bad Request" }
        : (spec.rejectedReply ?? { status: 403, details: "rejected_before_plugin", body: "" });
      const body = encoder.encode(r.body ?? "");
      const headers = HeaderMap.from([[":status", String(r.status)]]);
      this.responseCode = r.status;
      this.responseCodeDetails = r.details;
      this.reply = { status: r.status, headers, body, details: r.details, fromModule: false };
      this.responseStarted = true;
      return false;
    }
    let go = true;
    for (const f of this.filters) {
      go = f.decodeHeaders();
      if (!go || this.reply || this.reset) break;
    }
    return this.decodeRest(go, holdResponse);
  }

  /** decode(), but while a filter holds the request paused, its VM's outbound calls are answered
   *  (outbound.ts) and delivered; the chain goes on when that filter continues or replies. */
  async decodeAsync(holdResponse = false): Promise<boolean> {
    if (this.spec.rejectedBeforePlugin || this.spec.headers.some(([, v]) => invalidHeaderValue(v))) return this.decode(holdResponse);
    let go = true;
    for (const f of this.filters) {
      go = f.decodeHeaders();
      while (!go && !this.reply && !this.reset && f.outboundPending() > 0) {
        await f.outboundDelivered();
        if (f.continued) go = true;
      }
      if (!go || this.reply || this.reset) break;
    }
    return this.decodeRest(go, holdResponse);
  }

  /** After the headers phase: bodies, then the router (or the idle timeout when paused). */
  private decodeRest(headersGo: boolean, holdResponse: boolean): boolean {
    let go = headersGo;
    if (go && !this.reply && !this.reset) {
      for (const f of this.filters) {
        go = f.decodeBody();
        if (!go || this.reply || this.reset) break;
      }
    }
    if (this.reply || this.reset) return false; // answered (local reply / 503) or reset by a filter
    if (!go) {
      // Paused and never resumed: the stream idle timeout answers.
      this.sendLocalReply(408, encoder.encode("stream timeout"), [], null, "stream_idle_timeout", false);
      return false;
    }
    this.forwarded = true;
    this.upstreamRequestHeaders = this.request.entries();
    if (!holdResponse) this.respond();
    return true;
  }

  /** The router's answer comes back through the filters. */
  respond(): void {
    const up = this.spec.upstreamResponse ?? {};
    const status = up.status ?? 200;
    const headers = up.headers ? HeaderMap.from([[":status", String(status)], ...up.headers]) : HeaderMap.from([[":status", String(status)], ["content-length", "0"]]);
    this.responseCode = status;
    this.responseCodeDetails = "via_upstream";
    this.reply = { status, headers, body: new Uint8Array(0), details: "via_upstream", fromModule: false };
    this.responseStarted = true;
    this.encodeThroughChain(headers, new Uint8Array(0));
  }

  /** Access log (every filter, chain order), then onDestroy (every filter). */
  finish(): void {
    this.completed = true;
    this.endMs = Date.now();
    for (const f of this.filters) f.logFilter();
    for (const f of this.filters) f.destroyFilter();
  }

  /** Envoy's sendLocalReply (filter manager): sets the response and encodes it once. */
  sendLocalReply(
    code: number,
    body: Uint8Array,
    extra: Array<[string, string]>,
    grpcStatus: number | null,
    details: string,
    fromModule: boolean,
  ): void {
    const headers = new HeaderMap();
    let replyBody = body;
    let status = code;
    if (this.isGrpc) {
      status = 200;
      headers.add(":status", "200");
      headers.add("content-type", "application/grpc");
      headers.add("grpc-status", String(grpcStatus ?? httpToGrpcStatus(code)));
      if (body.length > 0) headers.add("grpc-message", grpcPercentEncode(decoder.decode(body)));
      replyBody = new Uint8Array(0);
      for (const [k, v] of extra) headers.add(k, v);
    } else {
      headers.add(":status", String(code));
      for (const [k, v] of extra) headers.add(k, v);
      if (body.length > 0) {
        headers.add("content-length", String(body.length));
        if (!headers.has("content-type")) headers.add("content-type", "text/plain");
      }
    }
    this.responseCode = status;
    this.responseCodeDetails = details;
    const direct = this.responseStarted;
    this.reply = { status, headers, body: replyBody, details, fromModule };
    if (direct) return;
    this.responseStarted = true;
    this.encodeThroughChain(headers, replyBody);
  }

  outcome(): StreamOutcome {
    const reply = this.reply;
    const trap = this.filters.map((f) => f.trap).find((t) => t !== null) ?? null;
    if (this.reset) {
      return {
        status: 0,
        forwarded: this.forwarded,
        details: this.responseCodeDetails ?? "wasm_close_stream",
        localReply: this.moduleReply,
        trap,
        responseHeaders: [],
        upstreamRequestHeaders: this.upstreamRequestHeaders,
      };
    }
    return {
      status: reply!.status,
      forwarded: this.forwarded,
      details: reply!.details,
      localReply: reply!.fromModule ? this.moduleReply : null,
      trap,
      responseHeaders: reply!.headers.entries(),
      upstreamRequestHeaders: this.upstreamRequestHeaders,
    };
  }

  /** Filter state written by Wasm filters (proxy_set_property), keyed without the "wasm." prefix. */
  filterStateStrings(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.filterState) if (k.startsWith("wasm.")) out[k.slice(5)] = decoder.decode(v);
    return out;
  }
}

export class HttpStream extends HostContext implements StreamInfoView {
  readonly isRoot = false;
  readonly listenerDirection = 1; // sidecar inbound
  readonly core: StreamCore;

  // ---- Envoy Context state (per filter)
  private inVmContextCreated = false;
  private destroyed = false;
  private requestHeaders: HeaderMap | null = null; // request_headers_
  private responseHeaders: HeaderMap | null = null; // response_headers_
  private requestTrailers: HeaderMap | null = null;
  private responseTrailers: HeaderMap | null = null;
  private requestBody: Uint8Array | null = null; // request_body_buffer_
  private responseBody: Uint8Array | null = null;
  private endOfStream = false;
  private logPhase = false;
  private logRequestHeaders: HeaderMap | null = null;
  private logResponseHeaders: HeaderMap | null = null;
  private failureLocalReplySent = false;
  private localReplyHold = false;
  private continueRequested = false;
  trap: string | null = null;

  /**
   * One Wasm filter's context on a stream. `core` is the stream (shared by the chain; a new one
   * when omitted: a chain of one); `root` is the root context (plugin instance) the stream was
   * created under, which it keeps until it is destroyed whatever configuration arrives meanwhile.
   */
  constructor(
    private readonly vm: Vm,
    id: number,
    plugin: PluginSettings,
    private readonly spec: StreamSpec,
    connectionId: number,
    core?: StreamCore,
    readonly rootContext: RootContext | null = vm.root,
  ) {
    super(id, plugin);
    this.core = core ?? new StreamCore(spec, connectionId);
    this.core.filters.push(this);
  }

  // ---- StreamInfoView (the stream's, shared by the chain)
  get protocol(): string {
    return this.core.protocol;
  }
  get remoteAddress(): SocketAddress {
    return this.core.remoteAddress;
  }
  get localAddress(): SocketAddress {
    return this.core.localAddress;
  }
  get tls(): TlsInfo | null {
    return this.core.tls;
  }
  get connectionId(): number {
    return this.core.connectionId;
  }
  get dynamicMetadata(): Record<string, Record<string, unknown>> {
    return this.core.dynamicMetadata;
  }
  get filterState(): Map<string, Uint8Array> {
    return this.core.filterState;
  }
  get responseCode(): number | null {
    return this.core.responseCode;
  }
  get responseCodeDetails(): string | null {
    return this.core.responseCodeDetails;
  }
  get requestBodyBytes(): number {
    return this.core.requestBodyBytes;
  }
  get responseBodyBytes(): number {
    return this.core.responseBodyBytes;
  }
  private get request(): HeaderMap {
    return this.core.request;
  }

  // ---- PropertySource / StreamInfoView
  get startTimeNs(): bigint {
    return BigInt(this.core.startMs) * 1_000_000n;
  }
  get durationNs(): bigint | null {
    return this.core.endMs === null ? null : BigInt(this.core.endMs - this.core.startMs) * 1_000_000n;
  }
  get stream(): StreamInfoView {
    return this;
  }
  get pluginName(): string {
    return this.plugin.name; // stream contexts always hold the plugin
  }
  propertyRequestHeaders(): HeaderMap | null {
    return this.requestHeaders ?? (this.logPhase ? this.logRequestHeaders : null);
  }
  propertyResponseHeaders(): HeaderMap | null {
    return this.responseHeaders ?? (this.logPhase ? this.logResponseHeaders : null);
  }

  // ---- header maps by phase (Envoy getConstMap / getMap)
  get accessLogPhase(): boolean {
    return this.logPhase;
  }
  getConstMap(type: number): HeaderMap | null {
    switch (type) {
      case HeaderMapType.RequestHeaders:
        return this.logPhase ? this.logRequestHeaders : this.requestHeaders;
      case HeaderMapType.RequestTrailers:
        return this.logPhase ? null : this.requestTrailers;
      case HeaderMapType.ResponseHeaders:
        return this.logPhase ? this.logResponseHeaders : this.responseHeaders;
      case HeaderMapType.ResponseTrailers:
        return this.logPhase ? null : this.responseTrailers;
      default:
        return null; // gRPC / http-call maps live on the root and are never set here
    }
  }
  getMap(type: number): HeaderMap | null {
    switch (type) {
      case HeaderMapType.RequestHeaders:
        return this.requestHeaders;
      case HeaderMapType.RequestTrailers:
        // Trailers can be added from the last body callback when there are none yet.
        if (this.requestTrailers === null && this.requestBody !== null && this.endOfStream) this.requestTrailers = new HeaderMap();
        return this.requestTrailers;
      case HeaderMapType.ResponseHeaders:
        return this.responseHeaders;
      case HeaderMapType.ResponseTrailers:
        if (this.responseTrailers === null && this.responseBody !== null && this.endOfStream) this.responseTrailers = new HeaderMap();
        return this.responseTrailers;
      default:
        return null;
    }
  }

  getBuffer(type: number): HostBuffer | null {
    if (type === BufferType.HttpRequestBody && this.requestBody !== null) {
      return bodyBuffer(() => this.requestBody!, (b) => (this.requestBody = b));
    }
    if (type === BufferType.HttpResponseBody && this.responseBody !== null) {
      return bodyBuffer(() => this.responseBody!, (b) => (this.responseBody = b));
    }
    return super.getBuffer(type);
  }

  // ---- actions from host calls
  setProperty(path: Uint8Array, value: Uint8Array): WasmResult {
    this.filterState.set(`wasm.${decoder.decode(path)}`, value);
    return WasmResult.Ok;
  }

  sendLocalResponse(code: number, body: Uint8Array, headers: BytePair[], grpcStatus: number, details: Uint8Array): void {
    if (this.localReplyHold) return; // a second reply is ignored
    this.localReplyHold = true;
    const reply: LocalReply = {
      status: code,
      body: decoder.decode(body),
      details: replaceWhitespace(decoder.decode(details)),
      headers: headers.map(([k, v]) => [asciiLower(decoder.decode(k)), decoder.decode(v)]),
      grpcStatus: grpcStatus <= 16 ? grpcStatus : null,
    };
    this.vm.afterCallActions.push(() => {
      if (this.core.completed) return; // from on_log/on_done: the response is already out
      this.core.moduleReply = reply;
      this.core.sendLocalReply(reply.status, body, reply.headers, reply.grpcStatus, reply.details, true);
    });
  }

  continueStream(type: number): WasmResult {
    // A response continue has nothing to resume: this host never holds a response.
    if (type === StreamType.Request) this.vm.afterCallActions.push(() => (this.continueRequested = true));
    else if (type !== StreamType.Response) return type === StreamType.Upstream ? WasmResult.Unimplemented : WasmResult.Ok;
    // Envoy clears the stored request pointers on any request/response continue, at once.
    this.requestHeaders = null;
    this.requestBody = null;
    this.requestTrailers = null;
    return WasmResult.Ok;
  }

  closeStream(type: number): WasmResult {
    if (type === StreamType.Request || type === StreamType.Response) {
      if (this.core.responseCodeDetails === null) this.core.responseCodeDetails = "wasm_close_stream";
      this.vm.afterCallActions.push(() => {
        if (!this.core.completed) this.core.reset = true;
      });
    }
    return WasmResult.Ok;
  }

  // ---- calls into the module (cpp-host ContextBase wrappers)

  /** A trap fails the VM; the queued actions are dropped and the stream is failed or bypassed. */
  private trapped(): boolean {
    if (!this.vm.failed) return false;
    this.vm.dropAfterCallActions();
    this.trap ??= this.vm.failed;
    return true;
  }

  private onCreate(): void {
    const fn = this.vm.cb.proxy_on_context_create;
    if (!this.vm.failed && !this.inVmContextCreated && fn) {
      this.vm.call(this, "proxy_on_context_create", fn, this.id, this.rootContext!.id);
      if (!this.trapped()) this.vm.afterCall();
    }
    this.inVmContextCreated = true;
  }

  /** CHECK_FAIL: a failed VM fails the stream closed (503) or lets it through (fail open). */
  private checkFail(): number | null {
    if (!this.vm.failed) return null;
    if (this.plugin.failOpen) return HeadersStatus.Continue;
    this.failStream();
    return HeadersStatus.StopAllIterationAndWatermark;
  }

  private headersCallback(name: "proxy_on_request_headers" | "proxy_on_response_headers", n: number, eos: boolean): number {
    const before = this.checkFail();
    if (before !== null) return before;
    const fn = this.vm.cb[name];
    if (!fn) return HeadersStatus.Continue;
    this.vm.stopNextIteration = false;
    const r = this.vm.abi === "0.1.0" ? this.vm.call(this, name, fn, this.id, n) : this.vm.call(this, name, fn, this.id, n, eos ? 1 : 0);
    if (this.trapped()) return this.checkFail()!;
    // convertVmCallResultToFilterHeadersStatus: a local reply or an invalid value means StopAll;
    // StopIteration becomes StopAll too (Istio never sets allow_on_headers_stop_iteration).
    let status = r;
    if (this.vm.stopNextIteration || r > HeadersStatus.StopAllIterationAndWatermark || r === HeadersStatus.StopIteration) {
      status = HeadersStatus.StopAllIterationAndWatermark;
    }
    this.vm.stopNextIteration = false;
    this.vm.afterCall(); // deferred local reply / continue / close run now, before decodeHeaders returns
    return status;
  }

  private bodyCallback(name: "proxy_on_request_body" | "proxy_on_response_body", size: number, eos: boolean): number {
    if (this.vm.failed) {
      if (this.plugin.failOpen) return DataStatus.Continue;
      this.failStream();
      return DataStatus.StopIterationNoBuffer;
    }
    const fn = this.vm.cb[name];
    if (!fn) return DataStatus.Continue;
    const r = this.vm.call(this, name, fn, this.id, size, eos ? 1 : 0);
    if (this.trapped()) {
      if (this.plugin.failOpen) return DataStatus.Continue;
      this.failStream();
      return DataStatus.StopIterationNoBuffer;
    }
    this.vm.afterCall();
    return r > DataStatus.StopIterationNoBuffer ? DataStatus.StopIterationNoBuffer : r;
  }

  private simpleCallback(name: "proxy_on_log" | "proxy_on_done" | "proxy_on_delete"): void {
    const fn = this.vm.cb[name];
    if (this.vm.failed || !fn) return;
    this.vm.call(this, name, fn, this.id);
    if (!this.trapped()) this.vm.afterCall();
  }

  // ---- Envoy's filter-manager side, for this filter

  /** Context::failStream(Request): 503 wasm_fail_stream, once. */
  private failStream(): void {
    if (this.failureLocalReplySent) return;
    this.failureLocalReplySent = true;
    this.core.sendLocalReply(503, new Uint8Array(0), [], 14, "wasm_fail_stream", false);
  }

  /** Response headers (and body) through this filter's encoder side. */
  encodeFilter(headers: HeaderMap, body: Uint8Array): void {
    const eos = body.length === 0;
    if (this.inVmContextCreated && !this.failureLocalReplySent && !this.core.reset) {
      this.responseHeaders = headers;
      this.endOfStream = eos;
      const r = this.headersCallback("proxy_on_response_headers", headers.size, eos);
      if (r === HeadersStatus.Continue || r === HeadersStatus.ContinueAndEndStream) this.responseHeaders = null;
    }
    if (!eos && this.inVmContextCreated && !this.failureLocalReplySent && !this.core.reset) {
      this.responseBody = body;
      this.endOfStream = true;
      const r = this.bodyCallback("proxy_on_response_body", body.length, true);
      if (r === DataStatus.Continue) this.responseBody = null;
    }
  }

  /** decodeHeaders: true when the filter let the request go on (Continue or a later continue). */
  decodeHeaders(): boolean {
    this.onCreate();
    this.requestHeaders = this.request;
    const eos = this.spec.endOfStream ?? !this.spec.body;
    this.endOfStream = eos;
    const r = this.headersCallback("proxy_on_request_headers", this.request.size, eos);
    const go = r === HeadersStatus.Continue || r === HeadersStatus.ContinueAndEndStream;
    if (go) this.requestHeaders = null;
    return go || this.continueRequested;
  }

  decodeBody(): boolean {
    if (!this.spec.body) return true;
    const body = encoder.encode(this.spec.body);
    this.core.requestBodyBytes = body.length;
    this.continueRequested = false;
    this.requestBody = body;
    this.endOfStream = true;
    const r = this.bodyCallback("proxy_on_request_body", body.length, true);
    if (r === DataStatus.Continue) this.requestBody = null;
    return r === DataStatus.Continue || this.continueRequested;
  }

  /** Context::log: the access-log phase (creates the context if the stream never reached us). */
  logFilter(): void {
    if (!this.inVmContextCreated) this.onCreate(); // e.g. rejected before reaching this filter
    this.logPhase = true;
    this.logRequestHeaders = this.request;
    this.logResponseHeaders = this.core.reply?.headers ?? null;
    this.simpleCallback("proxy_on_log");
    this.logPhase = false;
    this.logRequestHeaders = null;
    this.logResponseHeaders = null;
  }

  /** Context::onDestroy: on_done then on_delete; the context leaves the VM. */
  destroyFilter(): void {
    if (!this.destroyed && this.inVmContextCreated) {
      this.destroyed = true;
      this.simpleCallback("proxy_on_done"); // return value ignored for stream contexts
      this.simpleCallback("proxy_on_delete");
    }
    this.vm.contexts.delete(this.id);
    this.onDestroyed?.();
  }

  /** Called once the filter is destroyed (the chain host releases the plugin handle here). */
  onDestroyed: (() => void) | null = null;

  /** Runs the whole stream when this filter is the only Wasm filter of the chain. A stream the
   *  filter pauses is never resumed here (an outbound call's answer arrives after the stream idle
   *  timeout): use runAsync for filters that call out. */
  run(): StreamOutcome {
    this.core.run();
    return this.core.outcome();
  }

  /** run(), answering the VM's outbound calls while the filter holds the request paused. */
  async runAsync(): Promise<StreamOutcome> {
    await this.core.decodeAsync();
    this.core.finish();
    return this.core.outcome();
  }

  /** The filter resumed the request (proxy_continue_stream) after pausing it. */
  get continued(): boolean {
    return this.continueRequested;
  }
  outboundPending(): number {
    return this.vm.outbound.pending;
  }
  outboundDelivered(): Promise<unknown> {
    return this.vm.outbound.delivered();
  }

  /** Filter state written by the plugin, keyed without the "wasm." prefix. */
  filterStateStrings(): Record<string, string> {
    return this.core.filterStateStrings();
  }
}
