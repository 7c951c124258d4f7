// What Envoy's ext_authz filter sends to the provider, built from the paused request:
// - HTTP (envoy source/extensions/filters/common/ext_authz/ext_authz_http_impl.cc RawHttpClientImpl::check
//   and ClientConfig::toRequestMatchers): `content-length: 0`, then the request headers whose name is
//   `authorization`, `:method`, `:path`, `:authority` or matches includeRequestHeadersInCheck
//   (ignore-case), `:path` with pathPrefix in front, then includeAdditionalHeadersInCheck
//   (overwrite or add). Repeated headers are one entry joined with "," (check_request_utils.cc).
// - gRPC: envoy.service.auth.v3.CheckRequest (api/envoy/service/auth/v3/external_auth.proto,
//   attribute_context.proto): attributes.source/destination {address.socket_address, principal},
//   attributes.request.http {id, method, headers, path, host, scheme, protocol}.
import { proxy_get_header_map_pairs, MapType } from "../abi/calls";
import { getProperty } from "../abi/property";
import { lastLen, lastPtr, release } from "../abi/value";
import { OUT_LEN, OUT_PTR, clearOut, takeOut } from "../abi/value";
import { Status } from "../abi/codes";
import { Tables } from "../decode/tables";
import { HeaderMatch, NONE } from "../decode/format";
import { ByteBuf } from "../bytes/buf";
import { bytesEqual, bytesEqualFold, lit, litLen, litPtr } from "../bytes/range";
import { PairsReader, PairsWriter, ProtoWriter } from "./wire";

const AUTHORIZATION = lit("authorization");
const METHOD = lit(":method");
const PATH = lit(":path");
const AUTHORITY = lit(":authority");
const SCHEME = lit(":scheme");
const REQUEST_ID = lit("x-request-id");
const CONTENT_LENGTH = lit("content-length");
const ZERO = lit("0");

/** The request headers as the host holds them (the caller frees `ptr`), or null. */
export class RequestHeaders {
  ptr: usize = 0;
  reader: PairsReader = new PairsReader(0, 0);
  constructor() {
    clearOut();
    const st = takeOut(proxy_get_header_map_pairs(MapType.RequestHeaders, OUT_PTR, OUT_LEN));
    if (st == Status.Ok) {
      this.ptr = lastPtr();
      this.reader = new PairsReader(this.ptr, lastLen());
    }
  }
  is(i: u32, l: usize): bool {
    return bytesEqual(this.reader.keyPtr(i), this.reader.keyLen(i), litPtr(l), litLen(l));
  }
  /** First entry of key l, or -1. */
  find(l: usize): i32 {
    for (let i: u32 = 0; i < this.reader.count; i++) if (this.is(i, l)) return <i32>i;
    return -1;
  }
  /** An earlier entry has the same name as entry i. */
  seenBefore(i: u32): bool {
    const r = this.reader;
    for (let j: u32 = 0; j < i; j++) {
      if (bytesEqual(r.keyPtr(j), r.keyLen(j), r.keyPtr(i), r.keyLen(i))) return true;
    }
    return false;
  }
  /** Every value of entry i's name, joined with "," (Envoy's CheckRequest header map). */
  joined(i: u32, out: ByteBuf): void {
    const r = this.reader;
    let first = true;
    for (let j = i; j < r.count; j++) {
      if (!bytesEqual(r.keyPtr(j), r.keyLen(j), r.keyPtr(i), r.keyLen(i))) continue;
      if (!first) out.byte(0x2c);
      out.bytes(r.valuePtr(j), r.valueLen(j));
      first = false;
    }
  }
  free(): void {
    if (this.ptr != 0) heap.free(this.ptr);
    this.ptr = 0;
  }
}

/** Istio's header-name ListStringMatcher (always ignore_case): items [first, first + n). */
export function nameMatches(t: Tables, first: u32, n: u32, k: usize, kl: usize): bool {
  for (let i = first; i < first + n; i++) {
    const s = t.itemB(i);
    const sp = t.strPtr(s);
    const sl = t.strLen(s);
    const kind = t.itemA(i);
    if (kind == HeaderMatch.Exact) {
      if (kl == sl && bytesEqualFold(k, sp, kl)) return true;
    } else if (kind == HeaderMatch.Prefix) {
      if (kl >= sl && bytesEqualFold(k, sp, sl)) return true;
    } else if (kl >= sl && bytesEqualFold(k + kl - sl, sp, sl)) {
      return true;
    }
  }
  return false;
}

/** proxy_http_call's header pairs for provider k (caller frees; length in wire.lastFinishedLen()). */
export function httpCheckHeaders(t: Tables, k: u32, h: RequestHeaders): usize {
  const w = new PairsWriter();
  w.add(litPtr(CONTENT_LENGTH), litLen(CONTENT_LENGTH), litPtr(ZERO), litLen(ZERO));
  const r = h.reader;
  const first = t.providerItemFirst(k);
  const include = t.providerItems(k, 0);
  const addFirst = first + include + t.providerItems(k, 1) + t.providerItems(k, 2);
  const addCount = t.providerItems(k, 3);
  const prefix = t.providerPathPrefix(k);
  const v = new ByteBuf();
  for (let i: u32 = 0; i < r.count; i++) {
    const kp = r.keyPtr(i);
    const kl = r.keyLen(i);
    if (h.is(i, CONTENT_LENGTH) || h.seenBefore(i)) continue;
    const always = h.is(i, AUTHORIZATION) || h.is(i, METHOD) || h.is(i, PATH) || h.is(i, AUTHORITY);
    if (!always && !nameMatches(t, first, include, kp, kl)) continue;
    // includeAdditionalHeadersInCheck overwrites a request header of the same name.
    if (overwrittenByAdd(t, addFirst, addCount, kp, kl)) continue;
    v.len = 0;
    if (h.is(i, PATH) && prefix != NONE) v.bytes(t.strPtr(prefix), t.strLen(prefix));
    h.joined(i, v);
    w.add(kp, kl, v.ptr, v.len);
  }
  for (let i = addFirst; i < addFirst + addCount; i++) {
    const a = t.itemA(i);
    const b = t.itemB(i);
    w.add(t.strPtr(a), t.strLen(a), t.strPtr(b), t.strLen(b));
  }
  v.free();
  const out = w.finish();
  w.free();
  return out;
}

function overwrittenByAdd(t: Tables, first: u32, n: u32, k: usize, kl: usize): bool {
  for (let i = first; i < first + n; i++) {
    const a = t.itemA(i);
    if (t.strLen(a) == kl && bytesEqualFold(t.strPtr(a), k, kl)) return true;
  }
  return false;
}

/** GrpcService { envoy_grpc { cluster_name, authority } } (envoy/config/core/v3/grpc_service.proto),
 *  the first argument of proxy_grpc_call, as Istio's generateGRPCConfig builds it. */
export function grpcService(t: Tables, k: u32): ProtoWriter {
  const envoyGrpc = new ProtoWriter();
  const c = t.providerCluster(k);
  const a = t.providerAuthority(k);
  envoyGrpc.bytesField(1, t.strPtr(c), t.strLen(c));
  envoyGrpc.bytesField(2, t.strPtr(a), t.strLen(a));
  const svc = new ProtoWriter();
  svc.message(1, envoyGrpc);
  return svc;
}

const SOURCE_ADDRESS = lit("source\0address");
const DESTINATION_ADDRESS = lit("destination\0address");
const PEER_SAN = lit("connection\0uri_san_peer_certificate");
const LOCAL_SAN = lit("connection\0uri_san_local_certificate");
const PROTOCOL = lit("request\0protocol");

/** A string property as a length-delimited field of w (absent or unreadable: left out). */
function propertyField(w: ProtoWriter, field: u32, path: usize): void {
  if (getProperty(litPtr(path), litLen(path)) != Status.Ok) return;
  const p = lastPtr();
  w.bytesField(field, p, lastLen());
  release(p);
}

/** AttributeContext.Peer: address (SocketAddress from "ip:port" / "[v6]:port") and principal. */
function peer(addressPath: usize, sanPath: usize): ProtoWriter {
  const w = new ProtoWriter();
  if (getProperty(litPtr(addressPath), litLen(addressPath)) == Status.Ok) {
    const p = lastPtr();
    const n = lastLen();
    let colon: isize = -1;
    for (let i = <isize>n - 1; i >= 0; i--) {
      if (load<u8>(p + <usize>i) == 0x3a) {
        colon = i;
        break;
      }
    }
    let ip = p;
    let ipLen = n;
    let port: u32 = 0;
    if (colon > 0) {
      ipLen = <usize>colon;
      for (let i = <usize>colon + 1; i < n; i++) port = port * 10 + (<u32>load<u8>(p + i) - 48);
      if (load<u8>(ip) == 0x5b && ipLen >= 2) {
        ip += 1;
        ipLen -= 2;
      }
    }
    const sock = new ProtoWriter();
    sock.bytesField(2, ip, ipLen);
    sock.uintField(3, <u64>port);
    const addr = new ProtoWriter();
    addr.message(1, sock);
    w.message(1, addr);
    release(p);
  }
  propertyField(w, 4, sanPath);
  return w;
}

function headerField(w: ProtoWriter, h: RequestHeaders, f: u32, l: usize): void {
  const i = h.find(l);
  if (i >= 0) w.bytesField(f, h.reader.valuePtr(<u32>i), h.reader.valueLen(<u32>i));
}

/** The serialized CheckRequest (caller frees w). */
export function checkRequest(h: RequestHeaders): ProtoWriter {
  const http = new ProtoWriter();
  const r = h.reader;
  headerField(http, h, 1, REQUEST_ID);
  headerField(http, h, 2, METHOD);
  const v = new ByteBuf();
  for (let i: u32 = 0; i < r.count; i++) {
    if (h.seenBefore(i)) continue;
    v.len = 0;
    h.joined(i, v);
    const entry = new ProtoWriter();
    entry.bytesField(1, r.keyPtr(i), r.keyLen(i));
    entry.bytesField(2, v.ptr, v.len);
    http.message(3, entry);
  }
  v.free();
  headerField(http, h, 4, PATH);
  headerField(http, h, 5, AUTHORITY);
  headerField(http, h, 6, SCHEME);
  propertyField(http, 10, PROTOCOL);
  const request = new ProtoWriter();
  request.message(2, http);
  const attrs = new ProtoWriter();
  attrs.message(1, peer(SOURCE_ADDRESS, PEER_SAN));
  attrs.message(2, peer(DESTINATION_ADDRESS, LOCAL_SAN));
  attrs.message(4, request);
  const check = new ProtoWriter();
  check.message(1, attrs);
  return check;
}
