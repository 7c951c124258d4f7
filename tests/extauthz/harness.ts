// One sidecar running the built filter with the given policies and mesh-config providers, its
// clusters pointing at the test's loopback ext_authz servers.
import { readFileSync } from "node:fs";
import { EnvoyHost } from "../../tools/host/index.ts";
import type { StreamResult, StreamSpec } from "../../tools/host/types.ts";
import { resolveExtensionProviders } from "../../tools/meshconfig/providers.ts";
import type { AuthorizationPolicy } from "../../tools/model/policy.ts";
import { compilePolicyObjects } from "../../tools/pipeline/policy-set.ts";
import { pluginConfigJson } from "../../tools/pipeline/plugin-config.ts";

const WASM = readFileSync(new URL("../../build/meshauthz.wasm", import.meta.url));

export function policy(name: string, spec: Record<string, unknown>, namespace = "foo"): AuthorizationPolicy {
  return { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name, namespace }, spec } as AuthorizationPolicy;
}

export function custom(name: string, provider: string, paths: string[]): AuthorizationPolicy {
  return policy(name, { action: "CUSTOM", provider: { name: provider }, rules: [{ to: [{ operation: { paths } }] }] });
}

export interface Sidecar {
  host: EnvoyHost;
  diagnostics: string[];
  send(path: string, headers?: Array<[string, string]>, method?: string): Promise<StreamResult>;
}

export async function sidecar(
  policies: AuthorizationPolicy[],
  extensionProviders: unknown[] | undefined,
  clusters: Record<string, string>,
): Promise<Sidecar> {
  const mesh = {
    rootNamespace: "istio-system",
    trustDomain: "cluster.local",
    trustDomainAliases: [],
    extensionProviders: extensionProviders === undefined ? undefined : resolveExtensionProviders(extensionProviders),
  };
  const c = compilePolicyObjects(policies, mesh);
  if (!c.blob) throw new Error(c.diagnostics.map((d) => d.message).join("; "));
  const host = await EnvoyHost.create({
    wasm: WASM,
    configuration: pluginConfigJson(c.blob),
    node: { metadata: { NAMESPACE: "foo", LABELS: { app: "b" } } },
    clusters,
    workers: 1,
  });
  return {
    host,
    diagnostics: c.diagnostics.map((d) => d.message),
    send(path, headers = [], method = "GET") {
      const spec: StreamSpec = {
        headers: [[":method", method], [":path", path], [":authority", "b.foo.svc.cluster.local"], [":scheme", "http"], ["x-request-id", "req-1"], ...headers],
        downstreamRemote: "10.244.0.11:51234",
        downstreamLocal: "10.244.0.14:8080",
        tls: { uriSans: ["spiffe://cluster.local/ns/foo/sa/a"], sni: "outbound_.8080_._.b.foo.svc.cluster.local" },
        protocol: "HTTP/1.1",
      };
      return host.requestAsync(spec);
    },
  };
}

export const HTTP_CLUSTER = "outbound|8000||ext-authz.foo.svc.cluster.local";
export const GRPC_CLUSTER = "outbound|9000||ext-authz.foo.svc.cluster.local";

export function httpProvider(extra: Record<string, unknown> = {}, name = "ext-http"): Record<string, unknown> {
  return { name, envoyExtAuthzHttp: { service: "ext-authz.foo.svc.cluster.local", port: 8000, ...extra } };
}

export function grpcProvider(extra: Record<string, unknown> = {}, name = "ext-grpc"): Record<string, unknown> {
  return { name, envoyExtAuthzGrpc: { service: "ext-authz.foo.svc.cluster.local", port: 9000, ...extra } };
}

/** A response header's value (the client's view). */
export function header(r: StreamResult, name: string): string | undefined {
  return r.responseHeaders?.find(([k]) => k === name)?.[1];
}

export function upstreamHeader(r: StreamResult, name: string): string | undefined {
  return r.upstreamRequestHeaders?.find(([k]) => k === name)?.[1];
}
