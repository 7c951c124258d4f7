// Drives the filter's exported lifecycle against the fake host (as-pect.config.js), as Envoy would:
// root create -> vm start -> configure, then per request create -> request headers -> response
// headers -> log -> done -> delete.
import {
  proxy_on_configure, proxy_on_context_create, proxy_on_delete, proxy_on_done, proxy_on_log,
  proxy_on_request_headers, proxy_on_response_headers, proxy_on_vm_start,
} from "../../../assembly/index";
import { Host } from "./host";
import { pairs } from "./blob";

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function base64(b: ArrayBuffer): string {
  const p = changetype<usize>(b);
  const n = b.byteLength;
  const out = new ArrayBuffer(((n + 2) / 3) * 4);
  const o = changetype<usize>(out);
  let j: usize = 0;
  for (let i = 0; i < n; i += 3) {
    const a = <u32>load<u8>(p + <usize>i);
    const c = i + 1 < n ? <u32>load<u8>(p + <usize>i + 1) : 0;
    const d = i + 2 < n ? <u32>load<u8>(p + <usize>i + 2) : 0;
    const v = (a << 16) | (c << 8) | d;
    store<u8>(o + j, B64.charCodeAt((v >> 18) & 63));
    store<u8>(o + j + 1, B64.charCodeAt((v >> 12) & 63));
    store<u8>(o + j + 2, i + 1 < n ? B64.charCodeAt((v >> 6) & 63) : 61);
    store<u8>(o + j + 3, i + 2 < n ? B64.charCodeAt(v & 63) : 61);
    j += 4;
  }
  return String.UTF8.decode(out);
}

let nextRoot: u32 = 1;
let nextStream: u32 = 1000;

/** Sets the node identity the next configure reads (Envoy >= 1.33: xds.node.metadata). */
export function node(namespace: string, labels: Array<string> = []): void {
  Host.property("xds\0node\0metadata\0NAMESPACE", namespace);
  if (labels.length > 0) Host.propertyBytes("xds\0node\0metadata\0LABELS", pairs(labels));
}

/** Configures a new root context with the current host config; returns the root id. */
export function configureRoot(size: u32): u32 {
  const root = nextRoot++;
  proxy_on_context_create(root, 0);
  proxy_on_vm_start(root, 0);
  const ok = proxy_on_configure(root, size);
  assert(ok == 1, "proxy_on_configure must return 1");
  return root;
}

/** Configures with pluginConfig JSON {"policy": base64(blob)[, "engine": engine]}. */
export function configureJson(blob: ArrayBuffer, engine: string = ""): u32 {
  let json = '{"policy":"' + base64(blob) + '"';
  if (engine.length > 0) json += ',"engine":"' + engine + '"';
  json += "}";
  const b = String.UTF8.encode(json);
  Host.config(b);
  return configureRoot(<u32>b.byteLength);
}

export function configureRaw(blob: ArrayBuffer): u32 {
  Host.config(blob);
  return configureRoot(<u32>blob.byteLength);
}

/** Runs one request through the whole stream lifecycle; returns proxy_on_request_headers' result.
 *  Headers and properties must be set on the host before. */
export function request(root: u32): u32 {
  const ctx = nextStream++;
  proxy_on_context_create(ctx, root);
  const r = proxy_on_request_headers(ctx, 4, 1);
  proxy_on_response_headers(ctx, 2, 1);
  proxy_on_log(ctx);
  proxy_on_done(ctx);
  proxy_on_delete(ctx);
  return r;
}

export function deleteRoot(root: u32): void {
  proxy_on_done(root);
  proxy_on_delete(root);
}

/** A typical inbound mTLS request: GET path from the given principal, on 10.0.0.5:8080. */
export function typicalRequest(method: string, path: string, principal: string = ""): void {
  Host.header(":method", method);
  Host.header(":path", path);
  Host.header(":authority", "shop.example.com");
  if (principal.length > 0) Host.property("connection\0uri_san_peer_certificate", "spiffe://cluster.local/" + principal);
  Host.property("source\0address", "10.1.2.3:45678");
  Host.propertyI64("source\0port", 45678);
  Host.property("destination\0address", "10.0.0.5:8080");
  Host.propertyI64("destination\0port", 8080);
  Host.property("connection\0requested_server_name", "outbound_.8080_._.shop.svc.cluster.local");
}

/** The decision as an operator reads it: a local reply is a denial (the filter writes no result
 *  key; docs/filter-io.md). Call after request(). */
export function result(): string | null {
  return Host.replyCount() > 0 ? "denied" : "allowed";
}

/** The effective policy id as an operator reads it: the local reply's details for a denial by a
 *  rule, filter state meshauthz.policy for an allow by a rule (and a CUSTOM denial); null when no
 *  rule decided. */
export function policy(): string | null {
  const d = Host.replyDetails();
  const open = "rbac_access_denied_matched_policy[";
  if (d !== null && d.startsWith(open) && d.endsWith("]")) {
    const id = d.substring(open.length, d.length - 1);
    return id == "none" ? null : id;
  }
  return Host.filterState("meshauthz.policy");
}
