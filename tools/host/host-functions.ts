// Envoy's host functions (cpp-host exports.cc + Envoy context.cc) as the imports object of one VM.
// Only functions from Envoy's table for the module's ABI are provided: nothing else (no env.abort)
// can link. Every function counts its calls, refuses itself in restricted phases (a trap), checks
// every module pointer (bad pointer = InvalidMemoryAccess, never an exception) and allocates
// returned values through the module's allocator with the exact size.

import { randomFillSync } from "node:crypto";
import {
  BUFFER_TYPE_MAX,
  ENVOY_ENV_BY_ABI,
  ENVOY_ENV_COMMON,
  ENVOY_WASI,
  envoyImportTable,
  HEADER_MAP_TYPE_MAX,
  STREAM_TYPE_MAX,
  WasiErrno,
  WasmResult,
} from "./envoy-abi.ts";
import { asciiLower } from "./header-map.ts";
import { parsePairs } from "./pairs.ts";
import { getProperty } from "./properties.ts";
import { constBuffer } from "./context.ts";
import { parseGrpcService } from "./outbound.ts";
import type { Vm } from "./vm.ts";
import type { ParsedModule } from "./wasm-binary.ts";

/** Every host function name this host implements; the index is the call-counter slot. */
export const HOST_CALL_NAMES: readonly string[] = [
  ...new Set([
    ...Object.keys(ENVOY_ENV_COMMON),
    ...Object.values(ENVOY_ENV_BY_ABI).flatMap((t) => Object.keys(t)),
    ...Object.keys(ENVOY_WASI),
  ]),
];
const CALL_ID = new Map(HOST_CALL_NAMES.map((n, i) => [n, i]));

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
const MAX_RANDOM_GET = 64 * 1024;

// Wall clock in ns with sub-millisecond resolution: epoch at load + monotonic elapsed.
const MONO_BASE = process.hrtime.bigint();
const WALL_BASE = BigInt(Date.now()) * 1_000_000n;
const monotonicNs = () => process.hrtime.bigint();
const realtimeNs = () => WALL_BASE + (process.hrtime.bigint() - MONO_BASE);

type HostFn = (...args: never[]) => number | void;

/** Wraps an implementation so it counts the call and obeys restricted phases, keeping its arity. */
function instrument(vm: Vm, name: string, impl: HostFn): HostFn {
  const id = CALL_ID.get(name)!;
  const f = impl as (...a: unknown[]) => number | void;
  switch (impl.length) {
    case 0:
      return () => (vm.enter(id), f());
    case 1:
      return (a: unknown) => (vm.enter(id), f(a));
    case 2:
      return (a: unknown, b: unknown) => (vm.enter(id), f(a, b));
    case 3:
      return (a: unknown, b: unknown, c: unknown) => (vm.enter(id), f(a, b, c));
    case 4:
      return (a: unknown, b: unknown, c: unknown, d: unknown) => (vm.enter(id), f(a, b, c, d));
    case 5:
      return (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) => (vm.enter(id), f(a, b, c, d, e));
    default:
      return (...args: unknown[]) => (vm.enter(id), f(...args));
  }
}

/** The `env` functions, implemented once per VM. */
function envFunctions(vm: Vm): Record<string, HostFn> {
  const mem = () => vm.memory;
  const ok = (b: boolean) => (b ? WasmResult.Ok : WasmResult.InvalidMemoryAccess);
  const out = (bytes: Uint8Array, ptrPtr: number, sizePtr: number) => ok(vm.allocator.copyToPointerSize(bytes, ptrPtr, sizePtr));
  const abi010 = vm.abi === "0.1.0";

  /** Envoy reads the http-call response maps from the root context's stored response, whatever
   *  context is effective (context.cc getConstMap: rootContext()->http_call_response_). */
  const constMap = (type: number) => {
    if (type === 6) return vm.httpCallResponse?.headers ?? null;
    if (type === 7) return vm.httpCallResponse?.trailers ?? null;
    return vm.context().getConstMap(type);
  };
  /** Buffers 4 (http-call response body) and 5 (gRPC message) likewise live on the root. */
  const buffer = (type: number) => {
    if (type === 4) return vm.httpCallResponse ? constBuffer(vm.httpCallResponse.body) : null;
    if (type === 5) return vm.grpcMessage ? constBuffer(vm.grpcMessage) : vm.context().getBuffer(type);
    return vm.context().getBuffer(type);
  };

  /** A header-map read of a key that is absent, or of a map that is not available now. */
  const headerValue = (type: number, key: Uint8Array): { status: WasmResult; value?: Uint8Array } => {
    const ctx = vm.context();
    const map = constMap(type);
    if (map === null) {
      if (ctx.accessLogPhase) return abi010 ? { status: WasmResult.Ok, value: EMPTY } : { status: WasmResult.NotFound };
      return { status: WasmResult.BadArgument };
    }
    const v = map.firstBytes(asciiLower(decoder.decode(key)));
    if (v === undefined) return abi010 ? { status: WasmResult.Ok, value: EMPTY } : { status: WasmResult.NotFound };
    return { status: WasmResult.Ok, value: v };
  };

  const writableMap = (type: number) => vm.context().getMap(type);

  // add appends a value, set replaces every value (adding the header if missing).
  const writeHeader = (how: "add" | "set", type: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number) => {
    if (type >>> 0 > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
    const key = mem().view8(keyPtr, keyLen);
    const value = mem().view8(valuePtr, valueLen);
    if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
    const map = writableMap(type);
    if (map === null) return WasmResult.BadArgument;
    map[how](decoder.decode(key), value.slice()); // values are bytes, as the module wrote them
    vm.context().headersModified(type);
    return WasmResult.Ok;
  };
  const fns: Record<string, HostFn> = {
    proxy_log(level: number, ptr: number, len: number) {
      if (level >>> 0 > 5) return WasmResult.BadArgument;
      const msg = mem().view8(ptr, len);
      if (msg === null) return WasmResult.InvalidMemoryAccess;
      vm.log(level >>> 0, decoder.decode(msg));
      return WasmResult.Ok;
    },
    proxy_get_log_level(ptr: number) {
      return ok(mem().setU32(ptr, vm.plugin.logLevel));
    },
    proxy_get_status(codePtr: number, msgPtrPtr: number, msgSizePtr: number) {
      // Set while a failed call's callback runs (outbound.ts), else 0 and an empty message.
      if (!mem().setU32(codePtr, vm.callStatus.code)) return WasmResult.InvalidMemoryAccess;
      return out(encoder.encode(vm.callStatus.message), msgPtrPtr, msgSizePtr);
    },
    proxy_set_tick_period_milliseconds(ms: number) {
      vm.tickPeriodMs = ms >>> 0; // the root's timer, even when called from a stream
      return WasmResult.Ok;
    },
    proxy_get_current_time_nanoseconds(ptr: number) {
      return ok(mem().setU64(ptr, realtimeNs()));
    },
    proxy_get_property(pathPtr: number, pathLen: number, valuePtrPtr: number, valueSizePtr: number) {
      const path = mem().view8(pathPtr, pathLen);
      if (path === null) return WasmResult.InvalidMemoryAccess;
      vm.env.streamReads?.push(`p ${decoder.decode(path).replaceAll("\0", "/")}`);
      const r = getProperty(path, vm.context());
      if (r.status !== WasmResult.Ok) return r.status;
      return out(r.value!, valuePtrPtr, valueSizePtr);
    },
    proxy_set_property(keyPtr: number, keyLen: number, valuePtr: number, valueLen: number) {
      const key = mem().copy(keyPtr, keyLen);
      const value = mem().copy(valuePtr, valueLen);
      if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
      return vm.context().setProperty(key, value);
    },
    proxy_send_local_response(
      code: number, detailsPtr: number, detailsLen: number, bodyPtr: number, bodyLen: number,
      headersPtr: number, headersLen: number, grpcStatus: number,
    ) {
      const details = mem().copy(detailsPtr, detailsLen);
      const body = mem().copy(bodyPtr, bodyLen);
      const headers = mem().view8(headersPtr, headersLen);
      if (details === null || body === null || headers === null) return WasmResult.InvalidMemoryAccess;
      vm.context().sendLocalResponse(code >>> 0, body, parsePairs(headers), grpcStatus >>> 0, details);
      vm.stopNextIteration = true;
      return WasmResult.Ok; // always Ok, even when Envoy ignores a second reply
    },

    // ---- header maps
    proxy_get_header_map_value(type: number, keyPtr: number, keyLen: number, valuePtrPtr: number, valueSizePtr: number) {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const key = mem().view8(keyPtr, keyLen);
      if (key === null) return WasmResult.InvalidMemoryAccess;
      if (type === 0) vm.env.streamReads?.push(`h ${decoder.decode(key)}`);
      const r = headerValue(type, key);
      if (r.status !== WasmResult.Ok) return r.status;
      return out(r.value!, valuePtrPtr, valueSizePtr);
    },
    proxy_get_header_map_pairs(type: number, ptrPtr: number, sizePtr: number) {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const map = constMap(type);
      // An unavailable or empty map is (0, 0) with no allocation, and still Ok.
      if (map === null || map.size === 0) return out(EMPTY, ptrPtr, sizePtr);
      return out(map.serialize(), ptrPtr, sizePtr);
    },
    proxy_set_header_map_pairs(type: number, ptr: number, size: number) {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const data = mem().view8(ptr, size);
      if (data === null) return WasmResult.InvalidMemoryAccess;
      const pairs = parsePairs(data); // malformed = empty map: every header dropped
      const map = writableMap(type);
      if (map === null) return WasmResult.BadArgument;
      map.clear();
      for (const [k, v] of pairs) map.add(decoder.decode(k), v.slice());
      vm.context().headersModified(type);
      return WasmResult.Ok;
    },
    proxy_add_header_map_value(type: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number) {
      return writeHeader("add", type, keyPtr, keyLen, valuePtr, valueLen);
    },
    proxy_replace_header_map_value(type: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number) {
      return writeHeader("set", type, keyPtr, keyLen, valuePtr, valueLen);
    },
    proxy_remove_header_map_value(type: number, keyPtr: number, keyLen: number) {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const key = mem().view8(keyPtr, keyLen);
      if (key === null) return WasmResult.InvalidMemoryAccess;
      const map = writableMap(type);
      if (map === null) return WasmResult.BadArgument;
      map.remove(decoder.decode(key)); // Ok even when absent
      vm.context().headersModified(type);
      return WasmResult.Ok;
    },
    proxy_get_header_map_size(type: number, ptr: number) {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const map = writableMap(type); // Envoy uses the mutable map here
      if (map === null) return WasmResult.BadArgument;
      return ok(mem().setU32(ptr, map.byteSize())); // bytes, not a header count
    },

    // ---- buffers
    proxy_get_buffer_bytes(type: number, start: number, length: number, ptrPtr: number, sizePtr: number) {
      if (type >>> 0 > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buf = buffer(type);
      if (buf === null) return WasmResult.NotFound;
      // start/length are u32, so start + length cannot overflow Envoy's 64-bit arithmetic.
      let s = start >>> 0;
      let n = length >>> 0;
      const size = buf.data.length;
      if (s > size) n = 0;
      else if (s + n > size) n = size - s;
      if (n === 0) {
        if (!mem().setU32(ptrPtr, 0) || !mem().setU32(sizePtr, 0)) return WasmResult.InvalidMemoryAccess;
        return WasmResult.Ok;
      }
      return out(buf.data.slice(s, s + n), ptrPtr, sizePtr);
    },
    proxy_get_buffer_status(type: number, lengthPtr: number, flagsPtr: number) {
      if (type >>> 0 > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buf = buffer(type);
      if (buf === null) return WasmResult.NotFound;
      if (!mem().setU32(lengthPtr, buf.data.length)) return WasmResult.InvalidMemoryAccess;
      return ok(mem().setU32(flagsPtr, 0));
    },
    proxy_set_buffer_bytes(type: number, start: number, length: number, dataPtr: number, dataLen: number) {
      if (type >>> 0 > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buf = vm.context().getBuffer(type);
      if (buf === null) return WasmResult.NotFound;
      const data = mem().copy(dataPtr, dataLen);
      if (data === null) return WasmResult.InvalidMemoryAccess;
      return buf.write(start >>> 0, length >>> 0, data);
    },

    // ---- outbound calls (ENVOY context.cc httpCall / grpcCall; made for real by outbound.ts)
    proxy_http_call(
      uriPtr: number, uriLen: number, hdrPtr: number, hdrLen: number, bodyPtr: number, bodyLen: number,
      trlPtr: number, trlLen: number, timeoutMs: number, tokenPtr: number,
    ) {
      const m = mem();
      const uri = m.view8(uriPtr, uriLen);
      const body = m.copy(bodyPtr, bodyLen);
      const hdrs = m.view8(hdrPtr, hdrLen);
      if (!uri || !body || !hdrs || !m.view8(trlPtr, trlLen)) return WasmResult.InvalidMemoryAccess;
      if ((timeoutMs | 0) < 0) return WasmResult.BadArgument;
      const cluster = decoder.decode(uri);
      if (!vm.outbound.has(cluster)) return WasmResult.BadArgument; // no such cluster
      const headers = parsePairs(hdrs).map(([k, v]) => [asciiLower(decoder.decode(k)), decoder.decode(v)] as [string, string]);
      const names = new Set(headers.map(([k]) => k));
      if (!names.has(":path") || !names.has(":method") || !names.has(":authority")) return WasmResult.BadArgument;
      const token = vm.httpToken();
      if (!m.setU32(tokenPtr, token)) return WasmResult.InvalidMemoryAccess;
      vm.outbound.http(token, cluster, headers, body, timeoutMs >>> 0);
      return WasmResult.Ok;
    },
    proxy_grpc_call(
      svcPtr: number, svcLen: number, namePtr: number, nameLen: number, methodPtr: number, methodLen: number,
      mdPtr: number, mdLen: number, reqPtr: number, reqLen: number, timeoutMs: number, tokenPtr: number,
    ) {
      const m = mem();
      const svc = m.view8(svcPtr, svcLen);
      const name = m.view8(namePtr, nameLen);
      const method = m.view8(methodPtr, methodLen);
      const md = m.view8(mdPtr, mdLen);
      const req = m.copy(reqPtr, reqLen);
      if (!svc || !name || !method || !md || !req) return WasmResult.InvalidMemoryAccess;
      if (svcLen >>> 0 === 0) return WasmResult.BadArgument;
      const service = parseGrpcService(svc);
      if (service === null) return WasmResult.ParseFailure; // not a GrpcService proto
      const token = vm.grpcToken();
      if (!m.setU32(tokenPtr, token)) return WasmResult.InvalidMemoryAccess;
      const metadata = parsePairs(md).map(([k, v]) => [asciiLower(decoder.decode(k)), decoder.decode(v)] as [string, string]);
      // skip_cluster_check: an unknown cluster fails the call later, as UNAVAILABLE.
      vm.outbound.grpc(token, service.cluster, service.authority, decoder.decode(name), decoder.decode(method), metadata, req, timeoutMs >>> 0);
      return WasmResult.Ok;
    },
    proxy_grpc_stream(
      svcPtr: number, svcLen: number, namePtr: number, nameLen: number, methodPtr: number, methodLen: number,
      mdPtr: number, mdLen: number, _tokenPtr: number,
    ) {
      const m = mem();
      if (!m.view8(svcPtr, svcLen) || !m.view8(namePtr, nameLen) || !m.view8(methodPtr, methodLen) || !m.view8(mdPtr, mdLen)) {
        return WasmResult.InvalidMemoryAccess;
      }
      return svcLen >>> 0 === 0 ? WasmResult.BadArgument : WasmResult.ParseFailure;
    },
    proxy_grpc_send(token: number, ptr: number, len: number, _eos: number) {
      if (!mem().view8(ptr, len)) return WasmResult.InvalidMemoryAccess;
      return (token & 1) === 1 ? WasmResult.BadArgument : WasmResult.NotFound; // odd = call id
    },
    proxy_grpc_cancel(_token: number) {
      return WasmResult.NotFound;
    },
    proxy_grpc_close(_token: number) {
      return WasmResult.NotFound;
    },

    // ---- contexts
    proxy_set_effective_context(id: number) {
      const cid = id >>> 0;
      if (!vm.contexts.has(cid)) return WasmResult.BadArgument;
      vm.effectiveContextId = cid;
      return WasmResult.Ok;
    },
    proxy_done() {
      return WasmResult.NotFound; // no root context is waiting in on_done
    },
    proxy_call_foreign_function(namePtr: number, nameLen: number, argsPtr: number, argsLen: number, resultPtr: number, resultSizePtr: number) {
      const name = mem().view8(namePtr, nameLen);
      if (name === null) return WasmResult.InvalidMemoryAccess;
      if (mem().view8(argsPtr, argsLen) === null) return WasmResult.InvalidMemoryAccess;
      if (decoder.decode(name) !== "clear_route_cache") return WasmResult.NotFound;
      // clear_route_cache returns no result: address 0, size 0.
      if (resultPtr >>> 0 !== 0 && !mem().setU32(resultPtr, 0)) return WasmResult.InvalidMemoryAccess;
      if (resultSizePtr >>> 0 !== 0 && !mem().setU32(resultSizePtr, 0)) return WasmResult.InvalidMemoryAccess;
      return WasmResult.Ok;
    },

    // ---- metrics
    proxy_define_metric(type: number, namePtr: number, nameLen: number, idPtr: number) {
      const name = mem().view8(namePtr, nameLen);
      if (name === null) return WasmResult.InvalidMemoryAccess;
      const r = vm.metrics.define(type >>> 0, decoder.decode(name));
      if (r.status !== WasmResult.Ok) return r.status;
      return ok(mem().setU32(idPtr, r.id));
    },
    proxy_increment_metric(id: number, delta: bigint) {
      return vm.metrics.increment(id >>> 0, BigInt.asIntN(64, delta));
    },
    proxy_record_metric(id: number, value: bigint) {
      return vm.metrics.record(id >>> 0, BigInt.asUintN(64, value));
    },
    proxy_get_metric(id: number, ptr: number) {
      const r = vm.metrics.get(id >>> 0);
      if (r.status !== WasmResult.Ok) return r.status;
      return ok(mem().setU64(ptr, r.value));
    },

    // ---- shared data and queues
    proxy_get_shared_data(keyPtr: number, keyLen: number, valuePtrPtr: number, valueSizePtr: number, casPtr: number) {
      const key = mem().view8(keyPtr, keyLen);
      if (key === null) return WasmResult.InvalidMemoryAccess;
      const entry = vm.env.sharedData.get(vm.plugin.vmId, decoder.decode(key));
      if (!entry) return WasmResult.NotFound;
      if (!vm.allocator.copyToPointerSize(entry.value, valuePtrPtr, valueSizePtr)) return WasmResult.InvalidMemoryAccess;
      return ok(mem().setU32(casPtr, entry.cas));
    },
    proxy_set_shared_data(keyPtr: number, keyLen: number, valuePtr: number, valueLen: number, cas: number) {
      const key = mem().view8(keyPtr, keyLen);
      const value = mem().copy(valuePtr, valueLen);
      if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
      return vm.env.sharedData.set(vm.plugin.vmId, decoder.decode(key), value, cas >>> 0);
    },
    proxy_register_shared_queue(namePtr: number, nameLen: number, tokenPtr: number) {
      const name = mem().view8(namePtr, nameLen);
      if (name === null) return WasmResult.InvalidMemoryAccess;
      const token = vm.env.sharedData.registerQueue(vm.plugin.vmId, decoder.decode(name));
      return ok(mem().setU32(tokenPtr, token));
    },
    proxy_resolve_shared_queue(vmIdPtr: number, vmIdLen: number, namePtr: number, nameLen: number, tokenPtr: number) {
      const vmId = mem().view8(vmIdPtr, vmIdLen);
      const name = mem().view8(namePtr, nameLen);
      if (vmId === null || name === null) return WasmResult.InvalidMemoryAccess;
      const token = vm.env.sharedData.resolveQueue(decoder.decode(vmId), decoder.decode(name));
      if (token === 0 || vm.failed) return WasmResult.NotFound;
      return ok(mem().setU32(tokenPtr, token));
    },
    proxy_dequeue_shared_queue(token: number, ptrPtr: number, sizePtr: number) {
      const r = vm.env.sharedData.dequeue(token >>> 0);
      if (r.status !== WasmResult.Ok) return r.status;
      return out(r.value!, ptrPtr, sizePtr);
    },
    proxy_enqueue_shared_queue(token: number, ptr: number, len: number) {
      const data = mem().copy(ptr, len);
      if (data === null) return WasmResult.InvalidMemoryAccess;
      return vm.env.sharedData.enqueue(token >>> 0, data);
    },

    // ---- ABI 0.2.x stream control (deferred until the callback returns)
    proxy_continue_stream(type: number) {
      if (type >>> 0 > STREAM_TYPE_MAX) return WasmResult.BadArgument;
      return vm.context().continueStream(type >>> 0);
    },
    proxy_close_stream(type: number) {
      if (type >>> 0 > STREAM_TYPE_MAX) return WasmResult.BadArgument;
      return vm.context().closeStream(type >>> 0);
    },

    // ---- ABI 0.1.0 only
    proxy_get_configuration(ptrPtr: number, sizePtr: number) {
      return out(vm.context().configuration(), ptrPtr, sizePtr);
    },
    proxy_continue_request() {
      return vm.context().continueStream(0);
    },
    proxy_continue_response() {
      return vm.context().continueStream(1);
    },
    proxy_clear_route_cache() {
      return WasmResult.Ok;
    },
  };
  return fns;
}

/** The WASI functions (same implementation under wasi_snapshot_preview1 and wasi_unstable). */
function wasiFunctions(vm: Vm): Record<string, HostFn> {
  const mem = () => vm.memory;
  const envBytes = () => vm.plugin.env.map(([k, v]) => encoder.encode(`${k}=${v}\0`));
  return {
    fd_write(fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) {
      let level: number;
      if (fd === 1) level = 2; // stdout: info
      else if (fd === 2) level = 4; // stderr: error
      else return WasiErrno.BadF;
      const m = mem();
      const parts: Uint8Array[] = [];
      let written = 0;
      for (let i = 0; i < iovsLen >>> 0; i++) {
        const at = (iovs >>> 0) + i * 8;
        const buf = m.getU32(at);
        const len = m.getU32(at + 4);
        if (buf === null || len === null) return WasiErrno.Fault;
        if (len !== 0) {
          const data = m.copy(buf, len);
          if (data === null) return WasiErrno.Fault;
          parts.push(data);
          written += len;
        }
      }
      if (written > 0) {
        let text = decoder.decode(parts.length === 1 ? parts[0] : Buffer.concat(parts));
        if (text.endsWith("\n")) text = text.slice(0, -1); // Envoy drops one trailing newline
        vm.log(level, text);
      }
      return m.setU32(nwrittenPtr, written) ? WasiErrno.Success : WasiErrno.Fault;
    },
    fd_read(_fd: number, _iovs: number, _iovsLen: number, _nreadPtr: number) {
      return WasiErrno.NoSys;
    },
    fd_seek(_fd: number, _offset: bigint, _whence: number, _newOffsetPtr: number) {
      vm.log(0, "wasi_unstable fd_seek");
      return WasiErrno.Success;
    },
    fd_close(_fd: number) {
      vm.log(0, "wasi_unstable fd_close");
      return WasiErrno.Success;
    },
    fd_fdstat_get(fd: number, statPtr: number) {
      if (fd !== 1 && fd !== 2) return WasiErrno.BadF;
      const stat = new Uint8Array(24);
      stat[8] = 64; // fs_rights_base = FD_WRITE
      mem().setBytes(statPtr, stat); // Envoy ignores a failed write here
      return WasiErrno.Success;
    },
    environ_get(environPtr: number, environBuf: number) {
      let arr = environPtr >>> 0;
      let buf = environBuf >>> 0;
      for (const e of envBytes()) {
        if (!mem().setU32(arr, buf)) return WasiErrno.Fault;
        if (!mem().setBytes(buf, e)) return WasiErrno.Fault;
        buf += e.length;
        arr += 4;
      }
      return WasiErrno.Success;
    },
    environ_sizes_get(countPtr: number, sizePtr: number) {
      const all = envBytes();
      if (!mem().setU32(countPtr, all.length)) return WasiErrno.Fault;
      return mem().setU32(sizePtr, all.reduce((n, e) => n + e.length, 0)) ? WasiErrno.Success : WasiErrno.Fault;
    },
    args_get(_argvPtr: number, _argvBuf: number) {
      return WasiErrno.Success;
    },
    args_sizes_get(argcPtr: number, sizePtr: number) {
      if (!mem().setU32(argcPtr, 0)) return WasiErrno.Fault;
      return mem().setU32(sizePtr, 0) ? WasiErrno.Success : WasiErrno.Fault;
    },
    clock_time_get(clockId: number, _precision: bigint, timePtr: number) {
      let t: bigint;
      if (clockId === 0) t = realtimeNs();
      else if (clockId === 1) t = monotonicNs();
      else return WasiErrno.NotSup;
      return mem().setU64(timePtr, t) ? WasiErrno.Success : WasiErrno.Fault;
    },
    random_get(ptr: number, len: number) {
      const n = len >>> 0;
      if (n > MAX_RANDOM_GET) return WasiErrno.Inval;
      if (n === 0) return WasiErrno.Success;
      const dst = mem().view8(ptr, n);
      if (dst === null) return WasiErrno.Fault;
      randomFillSync(dst);
      return WasiErrno.Success;
    },
    proc_exit(_code: number) {
      // Envoy only logs (at trace) and returns; an AS abort traps right after on `unreachable`.
      vm.log(0, "wasi_unstable proc_exit");
    },
    fd_prestat_get(_fd: number, _bufPtr: number) {
      return WasiErrno.BadF;
    },
    fd_prestat_dir_name(_fd: number, _pathPtr: number, _pathLen: number) {
      return WasiErrno.NoSys;
    },
    path_open(
      _fd: number, _dirFlags: number, _path: number, _pathLen: number, _oflags: number,
      _rightsBase: bigint, _rightsInheriting: bigint, _fdFlags: number, _fdPtr: number,
    ) {
      return WasiErrno.NoEnt;
    },
  };
}

/**
 * The imports object for one VM: exactly Envoy's table for the module's ABI (each function
 * instrumented), plus a fresh memory/table for any memory or table the module imports.
 */
export function buildEnvoyImports(vm: Vm, parsed: ParsedModule): WebAssembly.Imports {
  const table = envoyImportTable(vm.abi);
  const env = envFunctions(vm);
  const wasi = wasiFunctions(vm);
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  for (const [module, fns] of Object.entries(table)) {
    const impls = module === "env" ? env : wasi;
    const obj: Record<string, WebAssembly.ImportValue> = {};
    for (const name of Object.keys(fns)) {
      const impl = impls[name];
      if (!impl) throw new Error(`host function ${module}.${name} is in Envoy's table but not implemented`);
      obj[name] = instrument(vm, name, impl) as unknown as WebAssembly.ImportValue;
    }
    imports[module] = obj;
  }
  for (const imp of parsed.imports) {
    if (imp.kind === "memory" && imp.limits) {
      const desc: WebAssembly.MemoryDescriptor & { shared?: boolean } = { initial: imp.limits.min };
      if (imp.limits.max !== null) desc.maximum = imp.limits.max;
      if (imp.limits.shared) desc.shared = true;
      const memory = new WebAssembly.Memory(desc);
      vm.importedMemory = memory;
      (imports[imp.module] ??= {})[imp.name] = memory;
    } else if (imp.kind === "table" && imp.limits) {
      const element = imp.element === "externref" ? "externref" : "anyfunc";
      const desc: WebAssembly.TableDescriptor = { element: element as WebAssembly.TableKind, initial: imp.limits.min };
      if (imp.limits.max !== null) desc.maximum = imp.limits.max;
      (imports[imp.module] ??= {})[imp.name] = new WebAssembly.Table(desc);
    }
  }
  return imports;
}
