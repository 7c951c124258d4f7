// meshauthz: Istio AuthorizationPolicy enforced in a proxy-wasm filter (ABI 0.2.1), as an HTTP
// filter and, with pluginConfig mode "network", as a network filter (network/connection.ts).
// This file is the lifecycle, in the order Envoy drives it; the work is in the modules it calls.
import { Headers } from "./abi/codes";
import { contextCreated, contextDeleted, isRoot, runtimeOfStream, setRootPlugin } from "./lifecycle/contexts";
import { configure } from "./lifecycle/configure";
import { onRequestHeaders } from "./lifecycle/request";
import { connectionDeleted, onDownstreamData, onNewConnection, onUpstreamData } from "./network/connection";
import { flushCounters } from "./report/counters";
import { hostAlloc } from "./bytes/host-alloc";
import { forgetCalls, onGrpcClose, onGrpcReceive, onHttpCallResponse } from "./extauthz/stage";

export function proxy_abi_version_0_2_1(): void {}

/** Host-returned values land here; the filter frees each one itself (unmanaged heap). */
export function malloc(size: usize): usize {
  return hostAlloc(size);
}

/** Root contexts have parent 0; streams remember their root. */
export function proxy_on_context_create(ctx: u32, parent: u32): void {
  contextCreated(ctx, parent);
}

export function proxy_on_vm_start(root: u32, vmConfigSize: u32): u32 {
  return 1;
}

/** Always 1: an untrusted configuration is kept in the chain and denies every request. */
export function proxy_on_configure(root: u32, size: u32): u32 {
  setRootPlugin(root, configure(size));
  return 1;
}

/** Every second (set in proxy_on_configure): the counts of the last second go to Envoy. */
export function proxy_on_tick(root: u32): void {
  flushCounters();
}

export function proxy_on_request_headers(ctx: u32, headers: u32, endOfStream: u32): u32 {
  return onRequestHeaders(runtimeOfStream(ctx), ctx);
}

/** Also called for our own local replies: nothing to do. */
export function proxy_on_response_headers(ctx: u32, headers: u32, endOfStream: u32): u32 {
  return Headers.Continue;
}

// Network filter (WasmPlugin type NETWORK): one decision per connection, on its first bytes.
export function proxy_on_new_connection(ctx: u32): u32 {
  return onNewConnection();
}

export function proxy_on_downstream_data(ctx: u32, size: u32, endOfStream: u32): u32 {
  return onDownstreamData(ctx, runtimeOfStream(ctx));
}

export function proxy_on_upstream_data(ctx: u32, size: u32, endOfStream: u32): u32 {
  return onUpstreamData(ctx);
}

export function proxy_on_downstream_connection_close(ctx: u32, closeType: u32): void {}

export function proxy_on_upstream_connection_close(ctx: u32, closeType: u32): void {}

export function proxy_on_log(ctx: u32): void {}

/** A root going away (configuration change, shutdown) hands over its last counts. */
export function proxy_on_done(ctx: u32): u32 {
  if (isRoot(ctx)) flushCounters();
  return 1;
}

export function proxy_on_delete(ctx: u32): void {
  forgetCalls(ctx);
  connectionDeleted(ctx);
  contextDeleted(ctx);
}

/** The ext_authz provider's answers arrive on the root context (extauthz/stage.ts). */
export function proxy_on_http_call_response(root: u32, token: u32, headers: u32, bodySize: u32, trailers: u32): void {
  onHttpCallResponse(token, headers, bodySize);
}

export function proxy_on_grpc_receive(root: u32, token: u32, size: u32): void {
  onGrpcReceive(token, size);
}

export function proxy_on_grpc_close(root: u32, token: u32, status: u32): void {
  onGrpcClose(token);
}
