// The built filter as a network filter (pluginConfig mode "network"), through the host's
// connection lifecycle: one decision per connection on its first bytes, denial = the downstream
// closed, Istio's network RBAC counters (tcp.rbac.*), configuration mismatches fail closed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost } from "../../tools/host/index.ts";
import type { ConnectionSpec } from "../../tools/host/types.ts";
import { readFilterWasm } from "../../tools/cases/filter-decision.ts";
import { nodeForWorkload, streamForRequest } from "../../tools/cases/request-stream.ts";
import { compilePolicyObjects } from "../../tools/pipeline/policy-set.ts";
import { pluginConfigJson } from "../../tools/pipeline/plugin-config.ts";
import { DEFAULT_MESH, type AuthorizationPolicy } from "../../tools/model/policy.ts";

const WORKLOAD = { namespace: "foo", labels: { app: "db" } };

function blobOf(...policies: AuthorizationPolicy[]): Uint8Array {
  const r = compilePolicyObjects(policies, DEFAULT_MESH);
  assert.ok(r.blob, JSON.stringify(r.diagnostics));
  return r.blob!;
}

function policy(name: string, spec: AuthorizationPolicy["spec"], annotations?: Record<string, string>): AuthorizationPolicy {
  return { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name, namespace: "foo", annotations }, spec };
}

async function hostFor(configuration: string | Uint8Array): Promise<EnvoyHost> {
  return EnvoyHost.create({ wasm: readFilterWasm(), configuration, node: nodeForWorkload(WORKLOAD), workers: 1 });
}

function connection(over: Partial<ConnectionSpec> = {}): ConnectionSpec {
  return {
    downstreamRemote: "10.1.0.7:41000",
    downstreamLocal: "10.2.0.9:5432",
    tls: { uriSans: ["spiffe://cluster.local/ns/foo/sa/app"], sni: "outbound_.5432_._.db.foo.svc.cluster.local" },
    downstreamData: ["a", "b", "c"],
    ...over,
  };
}

const allowApp = policy("allow-app", { action: "ALLOW", rules: [{ from: [{ source: { principals: ["cluster.local/ns/foo/sa/app"] } }], to: [{ operation: { ports: ["5432"] } }] }] });

test("an allowed connection is decided once, on its first bytes, with the peer's certificate", async () => {
  const host = await hostFor(pluginConfigJson(blobOf(allowApp), undefined, { mode: "network" }));
  const r = host.connect(connection({ upstreamData: ["ok"] }));
  assert.equal(r.allowed, true);
  assert.equal(r.bytesToUpstream, 3);
  assert.equal(r.bytesToDownstream, 2);
  assert.equal(r.filterState["meshauthz.policy"], "ns[foo]-policy[allow-app]-rule[0]");
  assert.deepEqual(r.callbacks.slice(0, 4), ["proxy_on_new_connection=0", "proxy_on_downstream_data=0", "proxy_on_downstream_data=0", "proxy_on_downstream_data=0"]);
  host.tick();
  assert.equal(host.metrics()["tcp.rbac.allowed"], 1, "one decision per connection, whatever the reads");
  assert.equal(host.metrics()["rbac.allowed"], undefined, "the HTTP family is not defined by a network root");
});

test("a denied connection is closed on its first bytes; nothing reaches the upstream; tcp.rbac.denied", async () => {
  const host = await hostFor(pluginConfigJson(blobOf(allowApp), undefined, { mode: "network" }));
  const r = host.connect(connection({ tls: { uriSans: ["spiffe://cluster.local/ns/bar/sa/x"], sni: "" } }));
  assert.equal(r.allowed, false);
  assert.equal(r.closedBy, "plugin");
  assert.equal(r.closeDetails, "wasm_downstream_close");
  assert.equal(r.bytesToUpstream, 0);
  assert.equal(r.filterState["meshauthz.termination_details"], "rbac_access_denied_matched_policy[none]");
  assert.deepEqual(r.callbacks, [
    "proxy_on_new_connection=0",
    "proxy_on_downstream_data=1",
    "proxy_on_downstream_connection_close",
    "proxy_on_done",
    "proxy_on_log",
    "proxy_on_delete",
  ]);
  host.tick();
  assert.equal(host.metrics()["tcp.rbac.denied"], 1);
});

test("plaintext: a DENY on notPrincipals ['*'] closes the connection with its policy id", async () => {
  const deny = policy("deny-plain", { action: "DENY", rules: [{ from: [{ source: { notPrincipals: ["*"] } }] }] });
  const host = await hostFor(pluginConfigJson(blobOf(deny), undefined, { mode: "network" }));
  const r = host.connect(connection({ tls: null }));
  assert.equal(r.allowed, false);
  assert.equal(r.filterState["meshauthz.termination_details"], "rbac_access_denied_matched_policy[ns[foo]-policy[deny-plain]-rule[0]]");
  assert.equal(host.connect(connection()).allowed, true);
});

test("ipBlocks are exact on a connection: source.address is the peer (no X-Forwarded-For at L4)", async () => {
  const allowIp = policy("allow-ip", { action: "ALLOW", rules: [{ from: [{ source: { ipBlocks: ["10.1.0.0/16"] } }] }] });
  const host = await hostFor(pluginConfigJson(blobOf(allowIp), undefined, { mode: "network" }));
  assert.equal(host.connect(connection()).allowed, true);
  assert.equal(host.connect(connection({ downstreamRemote: "10.9.0.7:41000" })).allowed, false);
});

test("dry-run on TCP counts tcp.rbac.istio_dry_run_deny_shadow_denied and decides nothing", async () => {
  const dry = policy("dry", { action: "DENY", rules: [{ to: [{ operation: { methods: ["GET"] } }] }] }, { "istio.io/dry-run": "true" });
  const host = await hostFor(pluginConfigJson(blobOf(dry), undefined, { mode: "network" }));
  const r = host.connect(connection());
  assert.equal(r.allowed, true);
  assert.equal(r.filterState["meshauthz.shadow_deny"], "denied", "the HTTP-only field is left out: the DENY rule matches every connection");
  host.tick();
  assert.equal(host.metrics()["tcp.rbac.istio_dry_run_deny_shadow_denied"], 1);
});

test("an HTTP-mode configuration run as a network filter closes every connection and says why", async () => {
  const host = await hostFor(pluginConfigJson(blobOf(allowApp)));
  const r = host.connect(connection());
  assert.equal(r.allowed, false);
  assert.ok(host.logs.some((l) => l.level === 5 && l.message.includes("network filter with an HTTP configuration")));
});

test("a network-mode configuration denies HTTP requests (403 meshauthz_invalid_config)", async () => {
  const host = await hostFor(pluginConfigJson(blobOf(allowApp), undefined, { mode: "network" }));
  const r = host.request(streamForRequest({ method: "GET", path: "/", source_principal: "spiffe://cluster.local/ns/foo/sa/app" }));
  assert.equal(r.status, 403);
  assert.equal(r.details, "meshauthz_invalid_config");
});

test("a format 1.0 blob (no TCP tables) in network mode closes every connection, logged at critical", async () => {
  const blob = blobOf(allowApp);
  // Strip TCP_RULES: minor 0, 7 sections (docs/blob-format.md §7).
  const v = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  let at = 24;
  for (let i = 0; i < 7; i++) {
    const len = v.getUint32(at + 4, true);
    at += 8 + len + ((4 - (len % 4)) % 4);
  }
  const old = blob.slice(0, at);
  const ov = new DataView(old.buffer);
  ov.setUint16(6, 0, true);
  ov.setUint32(8, old.length, true);
  ov.setUint32(20, 7, true);
  const { crc32 } = await import("node:zlib");
  ov.setUint32(12, crc32(old.subarray(16)), true);
  const http = await hostFor(pluginConfigJson(old));
  assert.equal(http.request(streamForRequest({ method: "GET", path: "/", source_principal: "spiffe://cluster.local/ns/foo/sa/app", destination_port: 5432 })).forwarded, true, "HTTP still decodes 1.0");
  const host = await hostFor(pluginConfigJson(old, undefined, { mode: "network" }));
  assert.equal(host.connect(connection()).allowed, false);
  assert.ok(host.logs.some((l) => l.level === 5 && l.message.includes("no TCP tables")));
});

test("an unknown mode is a configuration error", async () => {
  const text = JSON.stringify({ policy: Buffer.from(blobOf(allowApp)).toString("base64"), mode: "udp" });
  const host = await hostFor(text);
  assert.equal(host.connect(connection()).allowed, false);
  assert.ok(host.logs.some((l) => l.level === 5 && l.message.includes("mode must be one of http, network")));
});
