// Outbound calls and stream control for the ext_authz stage, declared here with Envoy's exact
// signatures (proxy-wasm-cpp-host src/exports.cc http_call / grpc_call / set_effective_context /
// continue_stream / get_header_map_pairs / replace / remove / get_status). The SDK's proxy_grpc_call
// has 10 parameters where Envoy's has 12 (toolchain-notes.md): importing it would make Envoy refuse
// the module, so it is never used.

// @ts-ignore: decorator
@external("env", "proxy_http_call")
export declare function proxy_http_call(
  upstream: usize, upstreamLen: usize, headers: usize, headersLen: usize, body: usize, bodyLen: usize,
  trailers: usize, trailersLen: usize, timeoutMs: u32, tokenOut: usize,
): u32;

// @ts-ignore: decorator
@external("env", "proxy_grpc_call")
export declare function proxy_grpc_call(
  service: usize, serviceLen: usize, serviceName: usize, serviceNameLen: usize, method: usize, methodLen: usize,
  initialMetadata: usize, initialMetadataLen: usize, request: usize, requestLen: usize, timeoutMs: u32, tokenOut: usize,
): u32;

// @ts-ignore: decorator
@external("env", "proxy_set_effective_context")
export declare function proxy_set_effective_context(contextId: u32): u32;

// @ts-ignore: decorator
@external("env", "proxy_continue_stream")
export declare function proxy_continue_stream(streamType: u32): u32;

// @ts-ignore: decorator
@external("env", "proxy_get_header_map_pairs")
export declare function proxy_get_header_map_pairs(mapType: u32, ptrOut: usize, sizeOut: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_replace_header_map_value")
export declare function proxy_replace_header_map_value(mapType: u32, key: usize, keyLen: usize, value: usize, valueLen: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_add_header_map_value")
export declare function proxy_add_header_map_value(mapType: u32, key: usize, keyLen: usize, value: usize, valueLen: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_remove_header_map_value")
export declare function proxy_remove_header_map_value(mapType: u32, key: usize, keyLen: usize): u32;

/** Header map types (spec proxy_header_map_type_t) and stream types. */
export namespace MapType {
  export const RequestHeaders: u32 = 0;
  export const HttpCallResponseHeaders: u32 = 6;
}
export namespace BufferType {
  export const HttpCallResponseBody: u32 = 4;
  export const GrpcReceiveBuffer: u32 = 5;
}
export const STREAM_REQUEST: u32 = 0;
