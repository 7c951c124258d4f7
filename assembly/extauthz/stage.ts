// The ext_authz stage: what Istio's `envoy.filters.http.ext_authz` filter does after its shadow
// RBAC matched a CUSTOM rule (istio builder/extauthz.go; envoy filters/http/ext_authz/ext_authz.cc
// onComplete, filters/common/ext_authz/ext_authz_{http,grpc}_impl.cc). The request is paused while
// the provider is asked; the answer arrives on the root context (proxy_on_http_call_response /
// proxy_on_grpc_receive / proxy_on_grpc_close), which switches to the stream with
// proxy_set_effective_context before touching it (spec §2.2 proxy_http_call).
// - allowed (HTTP 200, gRPC status OK): the provider's upstream headers are set on the request,
//   then AUDIT, DENY and ALLOW decide as usual (a CUSTOM allow never skips them);
// - denied (other HTTP status below 500, gRPC non-OK status): the provider's status (gRPC: its
//   denied_response status, default 403), body and headers, details `ext_authz_denied`;
// - error (no call possible, reset, timeout, HTTP 5xx, gRPC failure): failOpen continues as allowed
//   (without header changes), else statusOnError (default 403), empty body, details `ext_authz_error`.
import { Headers, Status } from "../abi/codes";
import {
  BufferType, MapType, STREAM_REQUEST, proxy_add_header_map_value, proxy_continue_stream, proxy_get_header_map_pairs,
  proxy_grpc_call, proxy_http_call, proxy_remove_header_map_value, proxy_replace_header_map_value, proxy_set_effective_context,
} from "../abi/calls";
import { proxy_get_buffer_bytes, proxy_get_header_map_value } from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
import { OUT_LEN, OUT_PTR, clearOut, lastLen, lastPtr, release, takeOut } from "../abi/value";
import { setProperty } from "../abi/property";
import { sendLocalResponseWithHeaders } from "../abi/reply";
import { log } from "../abi/log";
import { Runtime } from "../decide/plugin";
import { runtimeOfStream } from "../lifecycle/contexts";
import { decideAfterCustom } from "../decide/decision";
import { applyDecision } from "../report/outcome";
import { markEnforced } from "../delivery/role";
import { PROVIDER_FAIL_OPEN, ProviderKind } from "../decode/format";
import { Tables } from "../decode/tables";
import { bytesEqual, bytesEqualFold, lit, litLen, litPtr } from "../bytes/range";
import { RequestHeaders, checkRequest, grpcService, httpCheckHeaders, nameMatches } from "./check";
import { PairsReader, PairsWriter, ProtoReader, ProtoWriter, lastFinishedLen } from "./wire";

const WARN: u32 = 3;
const TOKEN: usize = memory.data(4);
const SERVICE = lit("envoy.service.auth.v3.Authorization");
const METHOD = lit("Check");
const STATUS = lit(":status");
const CONTENT_LENGTH = lit("content-length");
const WWW_AUTHENTICATE = lit("www-authenticate");
const LOCATION = lit("location");
const HOST = lit("host");
const HEADERS_TO_REMOVE = lit("x-envoy-auth-headers-to-remove");
const DETAILS_DENIED = lit("ext_authz_denied");
const DETAILS_ERROR = lit("ext_authz_error");
const KEY_RULE = lit("meshauthz.ext_authz");
const KEY_RESULT = lit("meshauthz.ext_authz_result");
const ALLOWED = lit("allowed");
const DENIED = lit("denied");
const ERROR = lit("error");

class Pending {
  constructor(public ctx: u32, public generation: u32, public rule: i32) {}
}

// Tokens: http calls and gRPC calls are numbered separately by Envoy.
const httpCalls = new Map<u32, Pending>();
const grpcCalls = new Map<u32, Pending>();

/** Asks the provider about the current request (a CUSTOM rule matched); returns the header status. */
export function startExtAuthz(rt: Runtime, ctx: u32, rule: i32): u32 {
  const t = rt.tables;
  const k = <u32>rt.customProvider;
  const h = new RequestHeaders();
  let st: u32;
  const cluster = t.providerCluster(k);
  const timeout = t.providerTimeoutMs(k);
  if (t.providerKind(k) == ProviderKind.Http) {
    const pairs = httpCheckHeaders(t, k, h);
    const n = lastFinishedLen();
    st = proxy_http_call(t.strPtr(cluster), t.strLen(cluster), pairs, n, 0, 0, 0, 0, timeout, TOKEN);
    heap.free(pairs);
  } else {
    const svc = grpcService(t, k);
    const req = checkRequest(h);
    st = proxy_grpc_call(
      svc.buf.ptr, svc.buf.len, litPtr(SERVICE), litLen(SERVICE), litPtr(METHOD), litLen(METHOD), 0, 0,
      req.buf.ptr, req.buf.len, timeout, TOKEN,
    );
    svc.free();
    req.free();
  }
  h.free();
  putRule(rt, rule);
  if (st != Status.Ok) {
    log(WARN, "meshauthz: cannot call ext_authz provider " + str(t, t.providerName(k)) + " (status " + st.toString() + ")");
    return failure(rt, rule);
  }
  const p = new Pending(ctx, rt.generation, rule);
  if (t.providerKind(k) == ProviderKind.Http) httpCalls.set(load<u32>(TOKEN), p);
  else grpcCalls.set(load<u32>(TOKEN), p);
  return Headers.StopAllIterationAndWatermark;
}

function str(t: Tables, s: u32): string {
  return String.UTF8.decodeUnsafe(t.strPtr(s), t.strLen(s));
}

function putRule(rt: Runtime, rule: i32): void {
  setProperty(litPtr(KEY_RULE), litLen(KEY_RULE), rt.idPtr(<u32>rule), rt.idLen(<u32>rule));
}

function putResult(l: usize): void {
  setProperty(litPtr(KEY_RESULT), litLen(KEY_RESULT), litPtr(l), litLen(l));
}

/** AUDIT, DENY and ALLOW after an allow (or a failure under failOpen); returns the header status. */
function afterAllow(rt: Runtime): u32 {
  rt.evaluator.begin();
  const d = rt.decision;
  d.reset();
  decideAfterCustom(rt, d);
  const st = applyDecision(rt, d);
  rt.cache.end();
  // Delivery (delivery/role.ts): the paused stream is the effective context here.
  if (st == Headers.Continue && rt.delivery != 0) markEnforced(rt.delivery);
  return st;
}

/** No answer: failOpen continues, else statusOnError (0: 403) with details ext_authz_error. */
function failure(rt: Runtime, rule: i32): u32 {
  const t = rt.tables;
  const k = <u32>rt.customProvider;
  putResult(ERROR);
  if ((t.providerFlags(k) & PROVIDER_FAIL_OPEN) != 0) return afterAllow(rt);
  const code = t.providerStatusOnError(k);
  sendLocalResponseWithHeaders(code == 0 ? 403 : code, litPtr(DETAILS_ERROR), litLen(DETAILS_ERROR), 0, 0, 0, 0);
  return Headers.StopAllIterationAndWatermark;
}

/** The paused stream of call p, made effective; null when it is gone or was reconfigured away. */
function resume(p: Pending): Runtime | null {
  if (proxy_set_effective_context(p.ctx) != Status.Ok) return null;
  const rtp = runtimeOfStream(p.ctx);
  if (rtp == 0) return null;
  const rt = changetype<Runtime>(rtp);
  if (rt.generation != p.generation) return null;
  return rt;
}

/** A stream whose runtime changed while it waited: 403, fail closed. */
function lost(): void {
  putResult(ERROR);
  sendLocalResponseWithHeaders(403, litPtr(DETAILS_ERROR), litLen(DETAILS_ERROR), 0, 0, 0, 0);
}

/** The answered call's runtime; null when its stream is gone, or its runtime changed while it
 *  waited (then the stream is denied). */
function resumeOrLose(p: Pending): Runtime | null {
  const rt = resume(p);
  if (rt === null && proxy_set_effective_context(p.ctx) == Status.Ok) lost();
  return rt;
}

function continueIf(st: u32): void {
  if (st == Headers.Continue) proxy_continue_stream(STREAM_REQUEST);
}

// ---- HTTP service

function readCallHeaders(): PairsReader {
  clearOut();
  const st = takeOut(proxy_get_header_map_pairs(MapType.HttpCallResponseHeaders, OUT_PTR, OUT_LEN));
  return new PairsReader(st == Status.Ok ? lastPtr() : 0, st == Status.Ok ? lastLen() : 0);
}

function parseStatus(): i32 {
  clearOut();
  if (takeOut(proxy_get_header_map_value(MapType.HttpCallResponseHeaders, litPtr(STATUS), litLen(STATUS), OUT_PTR, OUT_LEN)) != Status.Ok) return -1;
  const p = lastPtr();
  const n = lastLen();
  let v: i32 = n == 0 || n > 3 ? -1 : 0;
  for (let i: usize = 0; i < n && v >= 0; i++) {
    const c = <i32>load<u8>(p + i) - 48;
    v = c < 0 || c > 9 ? -1 : v * 10 + c;
  }
  release(p);
  return v;
}

function isKey(r: PairsReader, i: u32, l: usize): bool {
  return bytesEqual(r.keyPtr(i), r.keyLen(i), litPtr(l), litLen(l));
}

export function onHttpCallResponse(token: u32, headers: u32, bodySize: u32): void {
  if (!httpCalls.has(token)) return;
  const p = httpCalls.get(token);
  httpCalls.delete(token);
  const rt = resumeOrLose(p);
  if (rt === null) return;
  const status = headers == 0 ? -1 : parseStatus();
  if (status < 100 || status >= 500) {
    continueIf(failure(rt, p.rule));
    return;
  }
  const t = rt.tables;
  const k = <u32>rt.customProvider;
  const r = readCallHeaders();
  const first = t.providerItemFirst(k);
  const include = t.providerItems(k, 0);
  if (status == 200) {
    // allowed_upstream_headers: set (overwrite) on the request; x-envoy-auth-headers-to-remove.
    const up = t.providerItems(k, 1);
    for (let i: u32 = 0; i < r.count; i++) {
      if (isKey(r, i, HEADERS_TO_REMOVE)) removeListed(r.valuePtr(i), r.valueLen(i));
      else if (nameMatches(t, first + include, up, r.keyPtr(i), r.keyLen(i))) {
        proxy_replace_header_map_value(MapType.RequestHeaders, r.keyPtr(i), r.keyLen(i), r.valuePtr(i), r.valueLen(i));
      }
    }
    if (r.ptr != 0) heap.free(r.ptr);
    putResult(ALLOWED);
    continueIf(afterAllow(rt));
    return;
  }
  // Denied: the provider's status and body; headers per headersToDownstreamOnDeny (empty: all but
  // the authority; else those plus status, content-length, www-authenticate, location). Pseudo
  // headers and content-length are the local reply's own.
  const down = t.providerItems(k, 2);
  const w = new PairsWriter();
  for (let i: u32 = 0; i < r.count; i++) {
    const kp = r.keyPtr(i);
    const kl = r.keyLen(i);
    if (kl == 0 || load<u8>(kp) == 0x3a || isKey(r, i, CONTENT_LENGTH) || isKey(r, i, HOST)) continue;
    if (down > 0 && !isKey(r, i, WWW_AUTHENTICATE) && !isKey(r, i, LOCATION) && !nameMatches(t, first + include + t.providerItems(k, 1), down, kp, kl)) continue;
    w.add(kp, kl, r.valuePtr(i), r.valueLen(i));
  }
  if (r.ptr != 0) heap.free(r.ptr);
  let body: usize = 0;
  let bodyLen: usize = 0;
  if (bodySize > 0) {
    clearOut();
    if (takeOut(proxy_get_buffer_bytes(BufferType.HttpCallResponseBody, 0, bodySize, OUT_PTR, OUT_LEN)) == Status.Ok) {
      body = lastPtr();
      bodyLen = lastLen();
    }
  }
  deny(<u32>status, w, body, bodyLen);
}

function deny(status: u32, w: PairsWriter, body: usize, bodyLen: usize): void {
  const pairs = w.finish();
  const n = lastFinishedLen();
  w.free();
  putResult(DENIED);
  sendLocalResponseWithHeaders(status, litPtr(DETAILS_DENIED), litLen(DETAILS_DENIED), body, bodyLen, pairs, n);
  heap.free(pairs);
  release(body);
}

/** "a, b" from x-envoy-auth-headers-to-remove; pseudo headers and host are never removed. */
function removeListed(p: usize, n: usize): void {
  let i: usize = 0;
  while (i <= n) {
    let j = i;
    while (j < n && load<u8>(p + j) != 0x2c) j++;
    let a = i;
    let b = j;
    while (a < b && (load<u8>(p + a) == 0x20 || load<u8>(p + a) == 0x09)) a++;
    while (b > a && (load<u8>(p + b - 1) == 0x20 || load<u8>(p + b - 1) == 0x09)) b--;
    if (b > a && load<u8>(p + a) != 0x3a && !(b - a == 4 && bytesEqualFold(p + a, litPtr(HOST), 4))) {
      // Header names are lower-case in Envoy's maps.
      const name = heap.alloc(b - a);
      for (let x: usize = 0; x < b - a; x++) {
        const c = <u32>load<u8>(p + a + x);
        store<u8>(name + x, <u8>(c - 65 < 26 ? c | 32 : c));
      }
      proxy_remove_header_map_value(MapType.RequestHeaders, name, b - a);
      heap.free(name);
    }
    i = j + 1;
  }
}

// ---- gRPC service

export function onGrpcReceive(token: u32, size: u32): void {
  if (!grpcCalls.has(token)) return;
  const p = grpcCalls.get(token);
  grpcCalls.delete(token);
  const rt = resumeOrLose(p);
  if (rt === null) return;
  clearOut();
  const st = size == 0 ? Status.Ok : takeOut(proxy_get_buffer_bytes(BufferType.GrpcReceiveBuffer, 0, size, OUT_PTR, OUT_LEN));
  if (st != Status.Ok) {
    continueIf(failure(rt, p.rule));
    return;
  }
  const msg: usize = size == 0 ? 0 : lastPtr();
  const msgLen: usize = size == 0 ? 0 : lastLen();
  checkResponse(rt, p, msg, msgLen);
  release(msg);
}

/** A CheckResponse: status (1) code OK allows with ok_response (3); anything else denies with
 *  denied_response (2). A message that does not parse is a failure. */
function checkResponse(rt: Runtime, p: Pending, ptr: usize, len: usize): void {
  let code: u64 = 0;
  let denied: usize = 0;
  let deniedLen: usize = 0;
  let ok: usize = 0;
  let okLen: usize = 0;
  const r = new ProtoReader(ptr, ptr + len);
  while (r.next()) {
    if (r.field == 1 && r.wire == 2) {
      const s = new ProtoReader(r.at, r.at + r.len);
      while (s.next()) if (s.field == 1 && s.wire == 0) code = s.value;
      if (s.bad) r.bad = true;
    } else if (r.field == 2 && r.wire == 2) {
      denied = r.at;
      deniedLen = r.len;
    } else if (r.field == 3 && r.wire == 2) {
      ok = r.at;
      okLen = r.len;
    }
  }
  if (r.bad) {
    continueIf(failure(rt, p.rule));
    return;
  }
  if (code == 0) {
    if (ok != 0) applyOkResponse(ok, okLen);
    putResult(ALLOWED);
    continueIf(afterAllow(rt));
    return;
  }
  let status: u32 = 403;
  let body: usize = 0;
  let bodyLen: usize = 0;
  const w = new PairsWriter();
  const d = new ProtoReader(denied, denied + deniedLen);
  while (denied != 0 && d.next()) {
    if (d.field == 1 && d.wire == 2) {
      const s = new ProtoReader(d.at, d.at + d.len);
      while (s.next()) if (s.field == 1 && s.wire == 0 && s.value > 0 && s.value < 1000) status = <u32>s.value;
    } else if (d.field == 2 && d.wire == 2) {
      headerOption(d.at, d.len, w, false);
    } else if (d.field == 3 && d.wire == 2) {
      body = d.at;
      bodyLen = d.len;
    }
  }
  // The body points into msg, which the caller releases after deny() copied it.
  const pairs = w.finish();
  const n = lastFinishedLen();
  w.free();
  putResult(DENIED);
  sendLocalResponseWithHeaders(status, litPtr(DETAILS_DENIED), litLen(DETAILS_DENIED), body, bodyLen, pairs, n);
  heap.free(pairs);
}

/** OkHttpResponse: headers (2) set, or appended when append (2) is true; headers_to_remove (5). */
function applyOkResponse(ptr: usize, len: usize): void {
  const r = new ProtoReader(ptr, ptr + len);
  while (r.next()) {
    if (r.field == 2 && r.wire == 2) headerOption(r.at, r.len, null, true);
    else if (r.field == 5 && r.wire == 2) removeListed(r.at, r.len);
  }
}

/** HeaderValueOption { header (1) { key (1), value (2) }, append (2) BoolValue { value (1) } }:
 *  into w (a denial's headers), or onto the request (apply). */
function headerOption(ptr: usize, len: usize, w: PairsWriter | null, apply: bool): void {
  let k: usize = 0;
  let kl: usize = 0;
  let v: usize = 0;
  let vl: usize = 0;
  let append = false;
  const r = new ProtoReader(ptr, ptr + len);
  while (r.next()) {
    if (r.field == 1 && r.wire == 2) {
      const h = new ProtoReader(r.at, r.at + r.len);
      while (h.next()) {
        if (h.field == 1 && h.wire == 2) {
          k = h.at;
          kl = h.len;
        } else if (h.field == 2 && h.wire == 2) {
          v = h.at;
          vl = h.len;
        }
      }
    } else if (r.field == 2 && r.wire == 2) {
      const b = new ProtoReader(r.at, r.at + r.len);
      while (b.next()) if (b.field == 1 && b.wire == 0) append = b.value != 0;
    }
  }
  if (kl == 0) return;
  if (!apply) {
    if (w !== null) w.add(k, kl, v, vl);
    return;
  }
  if (append) proxy_add_header_map_value(MapType.RequestHeaders, k, kl, v, vl);
  else proxy_replace_header_map_value(MapType.RequestHeaders, k, kl, v, vl);
}

export function onGrpcClose(token: u32): void {
  if (!grpcCalls.has(token)) return;
  const p = grpcCalls.get(token);
  grpcCalls.delete(token);
  const rt = resumeOrLose(p);
  if (rt === null) return;
  continueIf(failure(rt, p.rule));
}

/** A stream going away: its pending call's answer will find nothing to resume. */
export function forgetCalls(ctx: u32): void {
  if (httpCalls.size == 0 && grpcCalls.size == 0) return;
  const hk = httpCalls.keys();
  for (let i = 0; i < hk.length; i++) if (httpCalls.get(hk[i]).ctx == ctx) httpCalls.delete(hk[i]);
  const gk = grpcCalls.keys();
  for (let i = 0; i < gk.length; i++) if (grpcCalls.get(gk[i]).ctx == ctx) grpcCalls.delete(gk[i]);
}

/** Calls waiting for an answer (tests). */
export function pendingCalls(): i32 {
  return httpCalls.size + grpcCalls.size;
}
