// proxy_get_property as Envoy answers it (spec §5.2-§5.4, §6; Envoy context.cc getProperty,
// findValue, serializeValue; expr/context.cc wrappers). A path is NUL-separated segments; the
// first segment is resolved against the expression activation (request, response, connection,
// source, destination, upstream, metadata, filter_state, upstream_filter_state, xds), then the
// Wasm tokens (plugin_name, plugin_root_id, plugin_vm_id, connection_id), then filter state
// "wasm.<name>". Later segments index maps, message fields and lists. A dotted path is therefore
// one unknown top-level name: NotFound. Values come back in native bit form (no type tags).

import { formatSocketAddress, type SocketAddress } from "./address.ts";
import { WasmResult } from "./envoy-abi.ts";
import { serializePairs, type BytePair } from "./pairs.ts";
import { encodeMetadata, encodeNode } from "./protobuf.ts";
import { asciiLower, type HeaderMap } from "./header-map.ts";
import type { Bytes, NodeInfo, TlsInfo } from "./types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---- CEL values -------------------------------------------------------------------------------

export type CelValue =
  | { kind: "string"; value: string }
  | { kind: "bytes"; value: Uint8Array }
  | { kind: "int"; value: bigint }
  | { kind: "uint"; value: bigint }
  | { kind: "double"; value: number }
  | { kind: "bool"; value: boolean }
  | { kind: "timestamp"; nanos: bigint }
  | { kind: "duration"; nanos: bigint }
  | { kind: "null" }
  | CelMap
  | { kind: "list"; items: CelValue[] }
  | CelMessage;

export interface CelMap {
  kind: "map";
  get(key: string): CelValue | undefined;
  /** Keys for serialization; null where Envoy's ListKeys() is unimplemented (SerializationFailure). */
  keys(): string[] | null;
}

export interface CelMessage {
  kind: "message";
  /** undefined = no such field in the message descriptor (NotFound). */
  field(name: string): CelValue | undefined;
  encode(): Uint8Array;
}

const str = (value: string): CelValue => ({ kind: "string", value });
/** A string Envoy holds as raw bytes (header values, SNI, SANs): serialized byte for byte. */
const wire = (value: Bytes): CelValue => (typeof value === "string" ? str(value) : { kind: "bytes", value });
const int = (value: number | bigint): CelValue => ({ kind: "int", value: BigInt(value) });

/** A protobuf Struct / Value as CEL sees it: objects are maps, arrays lists, numbers doubles. */
export function jsonToCel(v: unknown): CelValue {
  if (v === null || v === undefined) return { kind: "null" };
  if (typeof v === "string") return str(v);
  if (v instanceof Uint8Array) return { kind: "bytes", value: v }; // a string as raw bytes
  if (typeof v === "number") return { kind: "double", value: v };
  if (typeof v === "boolean") return { kind: "bool", value: v };
  if (Array.isArray(v)) return { kind: "list", items: v.map(jsonToCel) };
  if (typeof v === "object") return structMap(v as Record<string, unknown>);
  return str(String(v));
}

function structMap(obj: Record<string, unknown>): CelMap {
  return {
    kind: "map",
    get: (key) => (Object.prototype.hasOwnProperty.call(obj, key) ? jsonToCel(obj[key]) : undefined),
    keys: () => Object.keys(obj),
  };
}

/** A map built by a lookup function; `keys` null when Envoy cannot list it. */
function lookupMap(get: (key: string) => CelValue | undefined, keys: (() => string[]) | null = null): CelMap {
  return { kind: "map", get, keys: keys ?? (() => null) };
}

// ---- what the properties are computed from ------------------------------------------------------

/** The stream info Envoy's expression layer reads; absent (null) in root-context callbacks. */
export interface StreamInfoView {
  /** request_headers_ ?: access_log_request_headers_ (null once the request was continued). */
  propertyRequestHeaders(): HeaderMap | null;
  propertyResponseHeaders(): HeaderMap | null;
  readonly protocol: string;
  /** Downstream remote address after XFF detection. */
  readonly remoteAddress: SocketAddress;
  readonly localAddress: SocketAddress;
  readonly tls: TlsInfo | null;
  readonly connectionId: number;
  readonly dynamicMetadata: Record<string, Record<string, unknown>>;
  /** Filter state by full key (e.g. "wasm.meshauthz.result"). */
  readonly filterState: Map<string, Uint8Array>;
  readonly responseCode: number | null;
  readonly responseCodeDetails: string | null;
  readonly startTimeNs: bigint;
  /** Set once the request is complete (access-log phase). */
  readonly durationNs: bigint | null;
  readonly requestBodyBytes: number;
  readonly responseBodyBytes: number;
  /** xds.listener_direction: 1 INBOUND, 2 OUTBOUND. */
  readonly listenerDirection: number;
}

export interface PropertySource {
  readonly stream: StreamInfoView | null;
  /** plugin_name, or null when Envoy's plugin_ pointer is unset in this callback. */
  readonly pluginName: string | null;
  readonly rootId: string;
  readonly vmId: string;
  readonly node: NodeInfo;
  readonly nodeCluster: string;
  /** Envoy <= 1.32 still resolves the top-level `node` name. */
  readonly legacyNodeName: boolean;
}

// ---- wrappers (Envoy expr/context.cc) -----------------------------------------------------------

function headersMap(headers: HeaderMap | null): CelMap {
  return lookupMap(
    (key) => {
      if (headers === null) return undefined;
      const v = headers.joinedBytes(asciiLower(key));
      return v === undefined ? undefined : { kind: "bytes", value: v };
    },
    () => (headers === null ? [] : headers.distinctNames()),
  );
}

function requestMap(info: StreamInfoView): CelMap {
  return lookupMap((key) => {
    const headers = info.propertyRequestHeaders();
    switch (key) {
      case "headers":
        return headersMap(headers);
      case "time":
        return { kind: "timestamp", nanos: info.startTimeNs };
      case "size": {
        const cl = headers?.first("content-length");
        if (cl !== undefined && /^-?\d+$/.test(cl)) return int(BigInt(cl));
        return int(info.requestBodyBytes);
      }
      case "total_size":
        return int(info.requestBodyBytes + (headers ? headers.byteSize() : 0));
      case "duration":
        return info.durationNs === null ? undefined : { kind: "duration", nanos: info.durationNs };
      case "protocol":
        return str(info.protocol);
    }
    if (headers === null) return undefined;
    const header = (name: string): CelValue | undefined => {
      const v = headers.firstBytes(name);
      return v === undefined ? undefined : { kind: "bytes", value: v };
    };
    const path = headers.first(":path") ?? "";
    switch (key) {
      case "path":
        return header(":path");
      case "url_path": {
        const q = path.indexOf("?");
        return str(q < 0 ? path : path.slice(0, q));
      }
      case "host":
        return header(":authority");
      case "scheme":
        return header(":scheme");
      case "method":
        return header(":method");
      case "referer":
        return header("referer");
      case "id":
        return header("x-request-id");
      case "useragent":
        return header("user-agent");
      case "query": {
        const q = path.indexOf("?");
        if (q < 0) return str("");
        const rest = path.slice(q + 1);
        const f = rest.indexOf("#");
        return str(f < 0 ? rest : rest.slice(0, f));
      }
    }
    return undefined;
  });
}

function responseMap(info: StreamInfoView): CelMap {
  return lookupMap((key) => {
    switch (key) {
      case "code":
        return info.responseCode === null ? undefined : int(info.responseCode);
      case "code_details":
        return info.responseCodeDetails === null ? undefined : str(info.responseCodeDetails);
      case "size":
        return int(info.responseBodyBytes);
      case "headers":
        return headersMap(info.propertyResponseHeaders());
      case "trailers":
        return headersMap(null);
      case "flags":
        return int(0);
    }
    return undefined;
  });
}

function connectionMap(info: StreamInfoView): CelMap {
  return lookupMap((key) => {
    const tls = info.tls;
    switch (key) {
      case "mtls":
        return { kind: "bool", value: tls !== null && (tls.peerCertificate ?? tls.uriSans.length > 0) };
      case "requested_server_name":
        return wire(tls?.sni ?? "");
      case "id":
        return { kind: "uint", value: BigInt(info.connectionId) };
    }
    if (tls === null) return undefined; // every TLS attribute is absent on plaintext
    // Envoy's ConnectionWrapper returns the FIRST URI / DNS SAN only (expr/context.cc); RBAC's
    // AuthenticatedMatcher sees them all (README "Known differences").
    const first = (list: Bytes[] | undefined) => (list && list.length > 0 ? wire(list[0]!) : undefined);
    switch (key) {
      case "tls_version":
        return str(tls.version ?? "TLSv1.3");
      case "subject_local_certificate":
        return str("");
      case "subject_peer_certificate":
        return wire(tls.subject ?? "");
      case "uri_san_peer_certificate":
        return first(tls.uriSans);
      case "dns_san_peer_certificate":
        return first(tls.dnsSans);
    }
    return undefined;
  });
}

function peerMap(address: SocketAddress): CelMap {
  return lookupMap((key) => {
    if (key === "address") return str(formatSocketAddress(address));
    if (key === "port") return int(address.port);
    return undefined;
  });
}

function nodeMessage(src: PropertySource): CelMessage {
  const node = { id: src.node.id ?? "", cluster: src.nodeCluster, metadata: src.node.metadata ?? {} };
  return {
    kind: "message",
    field: (name) => {
      switch (name) {
        case "id":
          return str(node.id);
        case "cluster":
          return str(node.cluster);
        case "metadata":
          return structMap(node.metadata);
        case "user_agent_name":
          return str("envoy");
      }
      return undefined;
    },
    encode: () => encodeNode(node),
  };
}

function metadataMessage(md: Record<string, Record<string, unknown>>): CelMessage {
  return {
    kind: "message",
    field: (name) => {
      if (name === "filter_metadata") {
        return lookupMap(
          (key) => (Object.prototype.hasOwnProperty.call(md, key) ? structMap(md[key]) : undefined),
          () => Object.keys(md),
        );
      }
      if (name === "typed_filter_metadata") return lookupMap(() => undefined, () => []);
      return undefined;
    },
    encode: () => encodeMetadata(md),
  };
}

function xdsMap(src: PropertySource): CelMap {
  return lookupMap((key) => {
    if (key === "node") return nodeMessage(src);
    const info = src.stream;
    if (info === null) return undefined; // everything but node needs stream info
    if (key === "listener_direction") return int(info.listenerDirection);
    return undefined; // route/cluster/filter-chain names: not modelled (no routing in this host)
  });
}

function filterStateMap(info: StreamInfoView): CelMap {
  return lookupMap((key) => {
    const v = info.filterState.get(key);
    return v === undefined ? undefined : { kind: "bytes", value: v };
  });
}

/** Envoy's Context::findValue for the first path segment. */
export function findTopLevel(name: string, src: PropertySource): CelValue | undefined {
  const info = src.stream;
  switch (name) {
    case "xds":
      return xdsMap(src);
    case "request":
      return info ? requestMap(info) : undefined;
    case "response":
      return info ? responseMap(info) : undefined;
    case "connection":
      return info ? connectionMap(info) : undefined;
    case "source":
      return info ? peerMap(info.remoteAddress) : undefined;
    case "destination":
      return info ? peerMap(info.localAddress) : undefined;
    case "upstream":
      return info ? lookupMap(() => undefined) : undefined;
    case "metadata":
      return info ? metadataMessage(info.dynamicMetadata) : undefined;
    case "filter_state":
      return info ? filterStateMap(info) : undefined;
    case "upstream_filter_state":
      return info ? lookupMap(() => undefined) : undefined;
    case "plugin_name":
      return src.pluginName === null ? undefined : str(src.pluginName);
    case "plugin_root_id":
      return str(src.rootId);
    case "plugin_vm_id":
      return str(src.vmId);
    case "connection_id":
      return info ? { kind: "uint", value: BigInt(info.connectionId) } : undefined;
    case "node":
      if (src.legacyNodeName) return nodeMessage(src);
      break;
  }
  if (info === null) return undefined;
  const state = info.filterState.get(`wasm.${name}`);
  return state === undefined ? undefined : { kind: "bytes", value: state };
}

// ---- serialization (Envoy serializeValue) -------------------------------------------------------

function le64(v: bigint, signed: boolean): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  if (signed) dv.setBigInt64(0, BigInt.asIntN(64, v), true);
  else dv.setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
}

/** Native bit form of a value; null = SerializationFailure. */
export function serializeCel(v: CelValue): Uint8Array | null {
  switch (v.kind) {
    case "string":
      return encoder.encode(v.value);
    case "bytes":
      return v.value;
    case "int":
      return le64(v.value, true);
    case "uint":
      return le64(v.value, false);
    case "double": {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v.value, true);
      return b;
    }
    case "bool":
      return Uint8Array.of(v.value ? 1 : 0);
    case "timestamp":
      return le64(v.nanos, true);
    case "duration":
      return le64(v.nanos, true);
    case "message":
      return v.encode();
    case "map": {
      const keys = v.keys();
      if (keys === null) return null;
      const pairs: BytePair[] = [];
      for (const k of keys) {
        const val = v.get(k);
        if (val === undefined) return null;
        const sv = serializeCel(val);
        if (sv === null) return null;
        pairs.push([encoder.encode(k), sv]);
      }
      return serializePairs(pairs);
    }
    case "list": {
      const pairs: BytePair[] = [];
      for (const item of v.items) {
        const sv = serializeCel(item);
        if (sv === null) return null;
        pairs.push([sv, new Uint8Array(0)]);
      }
      return serializePairs(pairs);
    }
    case "null":
      return null;
  }
}

// ---- the property lookup --------------------------------------------------------------------------

export interface PropertyResult {
  status: WasmResult;
  value: Uint8Array | null;
}

const NOT_FOUND: PropertyResult = { status: WasmResult.NotFound, value: null };

/** Splits a raw path on NUL bytes the way Envoy's getProperty loop does (a trailing NUL is ignored). */
export function splitPropertyPath(path: Uint8Array): string[] {
  const parts: string[] = [];
  let start = 0;
  while (start < path.length) {
    let end = path.indexOf(0, start);
    if (end < 0) end = path.length;
    parts.push(decoder.decode(path.subarray(start, end)));
    start = end + 1;
  }
  return parts;
}

export function getProperty(path: Uint8Array, src: PropertySource): PropertyResult {
  const parts = splitPropertyPath(path);
  if (parts.length === 0) return { status: WasmResult.SerializationFailure, value: null };
  let value = findTopLevel(parts[0], src);
  if (value === undefined) return NOT_FOUND;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i];
    let next: CelValue | undefined;
    if (value.kind === "map") {
      next = value.get(part);
    } else if (value.kind === "message") {
      next = value.field(part);
    } else if (value.kind === "list") {
      if (/^[+-]?\d+$/.test(part)) {
        const idx = Number(part);
        if (idx >= 0 && idx < value.items.length) next = value.items[idx];
      }
    }
    if (next === undefined) return NOT_FOUND;
    value = next;
  }
  const bytes = serializeCel(value);
  if (bytes === null) return { status: WasmResult.SerializationFailure, value: null };
  return { status: WasmResult.Ok, value: bytes };
}
