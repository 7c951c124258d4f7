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
