// Local replies. Envoy defers the reply until the callback returns and forces StopAll.
import { proxy_send_local_response } from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";

/** grpc_status outside 0..16 means "unset": Envoy maps the HTTP status for gRPC callers itself. */
const GRPC_UNSET: u32 = 0xffffffff;

export function sendLocalResponse(status: u32, details: usize, detailsLen: usize, body: usize, bodyLen: usize): u32 {
  return proxy_send_local_response(status, details, detailsLen, body, bodyLen, 0, 0, GRPC_UNSET);
}

/** A local reply with extra response headers (serialized pairs, spec 5.1): the ext_authz denial. */
export function sendLocalResponseWithHeaders(
  status: u32, details: usize, detailsLen: usize, body: usize, bodyLen: usize, headers: usize, headersLen: usize,
): u32 {
  return proxy_send_local_response(status, details, detailsLen, body, bodyLen, headers, headersLen, GRPC_UNSET);
}

/** A local reply with one extra response header (the pairs encoding of proxy-wasm-envoy.md §5.1:
 *  count, key and value lengths, then each key and value followed by a NUL). */
export function sendLocalResponseWithHeader(
  status: u32,
  details: usize,
  detailsLen: usize,
  body: usize,
  bodyLen: usize,
  name: usize,
  nameLen: usize,
  value: usize,
  valueLen: usize,
): u32 {
  const size: usize = 12 + nameLen + 1 + valueLen + 1;
  const pairs = heap.alloc(size);
  store<u32>(pairs, 1);
  store<u32>(pairs, <u32>nameLen, 4);
  store<u32>(pairs, <u32>valueLen, 8);
  memory.copy(pairs + 12, name, nameLen);
  store<u8>(pairs + 12 + nameLen, 0);
  memory.copy(pairs + 13 + nameLen, value, valueLen);
  store<u8>(pairs + 13 + nameLen + valueLen, 0);
  const st = proxy_send_local_response(status, details, detailsLen, body, bodyLen, pairs, size, GRPC_UNSET);
  heap.free(pairs);
  return st;
}
