// deploy/envoy/envoy.yaml (plain Envoy, no Istio): the Wasm filter is configured as Envoy's docs
// give it, sits where the RBAC filter would (before the router), and its configuration, with the
// node metadata of the same file, is accepted by the real module in the host and decides like Istio.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as yaml from "js-yaml";
import { decisionFromStream, INVALID_CONFIG_DETAILS } from "../../tools/cases/filter-decision.ts";
import { streamForRequest } from "../../tools/cases/request-stream.ts";
import { EnvoyHost } from "../../tools/host/envoy-host.ts";
import { REPO } from "./cli-runner.ts";

const config = yaml.load(readFileSync(join(REPO, "deploy", "envoy", "envoy.yaml"), "utf8")) as any;
const chain = config.static_resources.listeners[0].filter_chains[0];
const hcm = chain.filters.find((f: any) => f.name === "envoy.filters.network.http_connection_manager").typed_config;
const filters: any[] = hcm.http_filters;
const wasmIndex = filters.findIndex((f) => f.name === "envoy.filters.http.wasm");
const plugin = filters[wasmIndex]?.typed_config?.config;

test("the Wasm filter is configured as Envoy's Wasm filter docs give it, before the router", () => {
  assert.ok(wasmIndex >= 0, "no envoy.filters.http.wasm in the HTTP filter chain");
  assert.equal(filters[wasmIndex].typed_config["@type"], "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm");
  assert.equal(filters[filters.length - 1].name, "envoy.filters.http.router");
  assert.ok(wasmIndex < filters.length - 1);
  const jwt = filters.findIndex((f) => f.name === "envoy.filters.http.jwt_authn");
  assert.ok(jwt < wasmIndex, "JWT authentication, if any, must run before the filter that reads its payload");
  assert.equal(plugin.vm_config.runtime, "envoy.wasm.runtime.v8");
  assert.match(plugin.vm_config.code.local.filename, /meshauthz\.wasm$/);
  assert.equal(plugin.configuration["@type"], "type.googleapis.com/google.protobuf.StringValue");
  assert.equal(typeof plugin.configuration.value, "string");
  assert.notEqual(plugin.fail_open, true, "an authorization filter must not be bypassed when it fails");
  assert.equal(plugin.failure_policy ?? "FAIL_CLOSED", "FAIL_CLOSED");
  // Principals exist only with client certificates.
  assert.equal(chain.transport_socket.typed_config.require_client_certificate, true);
  assert.equal(typeof config.node.metadata.NAMESPACE, "string");
  for (const v of Object.values(config.node.metadata.LABELS)) assert.equal(typeof v, "string");
});

test("its configuration and node metadata configure the real filter, which decides like Istio", async () => {
  const host = await EnvoyHost.create({
    wasm: readFileSync(join(REPO, "build", "meshauthz.wasm")),
    configuration: plugin.configuration.value,
    node: { id: config.node.id, metadata: config.node.metadata },
    pluginName: plugin.name,
    rootId: plugin.root_id,
  });
  assert.ok(host.configAccepted, host.configError ?? "");
  const frontend = "spiffe://cluster.local/ns/default/sa/frontend";
  const decide = (method: string, path: string, source_principal: string | null) => {
    const result = host.request(streamForRequest({ method, path, host: "backend.default.svc.cluster.local", source_principal }));
    assert.notEqual(result.details, INVALID_CONFIG_DETAILS, "the filter could not trust its configuration");
    return decisionFromStream(result, null);
  };
  const allowed = decide("GET", "/api/v1/data", frontend);
  assert.equal(allowed.decision, "ALLOW");
  assert.equal(allowed.policy, "ns[default]-policy[allow-frontend-get-data]-rule[0]");
  assert.equal(decide("POST", "/api/v1/data", frontend).decision, "DENY");
  assert.equal(decide("GET", "/api/v1/other", frontend).decision, "DENY");
  assert.equal(decide("GET", "/api/v1/data", "spiffe://cluster.local/ns/default/sa/other").decision, "DENY");
  assert.equal(decide("GET", "/api/v1/data", null).status, 403);
});
