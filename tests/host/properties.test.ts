// proxy_get_property / proxy_set_property: NUL-separated paths, Envoy's encodings, absence rules,
// XFF and source.address, exact-size allocation (spec §4.1, §5, §6; semantics §10).

import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost, parseStringPairs, type PluginOptions, type StreamSpec } from "../../tools/host/index.ts";
import { f64le, hex, hexText, i64le, inbound, messages, NODE, observations, probeModule } from "./fixtures.ts";

/** Reads each path in on_request_headers (or in `where`) and returns the observation lines. */
async function readProps(
  paths: string[],
  spec: Partial<StreamSpec> = {},
  opts: Partial<PluginOptions> = {},
  where: "proxy_on_request_headers" | "proxy_on_configure" | "proxy_on_log" = "proxy_on_request_headers",
): Promise<string[]> {
  const wasm = await probeModule((p) => ({ on: { [where]: paths.map((x) => `(call $prop ${p.s(x)})`).join(" ") } }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1, ...opts });
  if (where === "proxy_on_configure") return observations(host.logs.filter((l) => l.vm === "worker0"));
  return observations(host.request(inbound(spec)).logs);
}

/** Just the hex value of an Ok observation (throws on another status). */
function value(obs: string): string {
  const m = /^S:0 V:([0-9a-f]*) P:\d+$/.exec(obs);
  assert.ok(m, `not an Ok observation: ${obs}`);
  return m[1];
}

test("source.address is ip:port, source.port is an 8-byte little-endian int64", async () => {
  const [addr, port, daddr, dport] = await readProps(["source\0address", "source\0port", "destination\0address", "destination\0port"]);
  assert.equal(value(addr), hexText("10.1.2.3:45678"));
  assert.equal(value(port), i64le(45678));
  assert.equal(value(daddr), hexText("10.9.8.7:8080"));
  assert.equal(value(dport), i64le(8080));
});

test("dotted paths are NotFound (one unknown top-level name)", async () => {
  const obs = await readProps(["source.address", "connection.uri_san_peer_certificate", "request.path"]);
  assert.deepEqual(obs, ["S:1", "S:1", "S:1"]);
});

test("connection.mtls is a 1-byte bool; the first URI SAN is returned", async () => {
  const [mtls, san, dns, subject] = await readProps([
    "connection\0mtls",
    "connection\0uri_san_peer_certificate",
    "connection\0dns_san_peer_certificate",
    "connection\0subject_peer_certificate",
  ], { tls: { uriSans: ["spiffe://cluster.local/ns/a/sa/b", "spiffe://second"], dnsSans: ["b.a.svc"], subject: "CN=b" } });
  assert.equal(value(mtls), "01");
  assert.equal(value(san), hexText("spiffe://cluster.local/ns/a/sa/b"));
  assert.equal(value(dns), hexText("b.a.svc"));
  assert.equal(value(subject), hexText("CN=b"));
});

test("plaintext: no SAN (NotFound), mtls false, SNI empty but Ok", async () => {
  const obs = await readProps(["connection\0uri_san_peer_certificate", "connection\0mtls", "connection\0requested_server_name", "connection\0tls_version"], { tls: null });
  assert.deepEqual(obs, ["S:1", "S:0 V:00 P:131072", "S:0 V: P:0", "S:1"]);
});

test("TLS without a URI SAN: NotFound; an empty SNI is still Ok with no allocation", async () => {
  const obs = await readProps(["connection\0uri_san_peer_certificate", "connection\0requested_server_name", "connection\0mtls"], {
    tls: { uriSans: [], sni: "", peerCertificate: true },
  });
  assert.deepEqual(obs, ["S:1", "S:0 V: P:0", "S:0 V:01 P:131072"]);
});

test("connection.id and connection_id are uint64", async () => {
  const [a, b] = await readProps(["connection\0id", "connection_id"], { connectionId: 4242 });
  assert.equal(value(a), i64le(4242));
  assert.equal(value(b), i64le(4242));
});

test("with X-Forwarded-For (0 trusted hops) source.address is the right-most XFF entry with port 0", async () => {
  const headers: Array<[string, string]> = [[":method", "GET"], [":path", "/"], [":authority", "a"], ["x-forwarded-for", "1.1.1.1, 203.0.113.7"]];
  const [addr, port] = await readProps(["source\0address", "source\0port"], { headers });
  assert.equal(value(addr), hexText("203.0.113.7:0"));
  assert.equal(value(port), i64le(0));
});

test("XFF: IPv6 is bracketed; repeated XFF headers are joined; trusted hops skip from the right; junk falls back to the peer", async () => {
  const base: Array<[string, string]> = [[":method", "GET"], [":path", "/"], [":authority", "a"]];
  const v6 = await readProps(["source\0address"], { headers: [...base, ["X-Forwarded-For", "2001:DB8:0:0::1"]] });
  assert.equal(value(v6[0]), hexText("[2001:db8::1]:0"));
  const joined = await readProps(["source\0address"], { headers: [...base, ["x-forwarded-for", "9.9.9.9"], ["x-forwarded-for", "8.8.8.8"]] });
  assert.equal(value(joined[0]), hexText("8.8.8.8:0"));
  const hops = await readProps(["source\0address"], { headers: [...base, ["x-forwarded-for", "7.7.7.7,6.6.6.6"]], xffNumTrustedHops: 1 });
  assert.equal(value(hops[0]), hexText("7.7.7.7:0"));
  const junk = await readProps(["source\0address"], { headers: [...base, ["x-forwarded-for", "not-an-ip"]] });
  assert.equal(value(junk[0]), hexText("10.1.2.3:45678"));
  const v6peer = await readProps(["source\0address"], { downstreamRemote: "[fd00::1]:1234" });
  assert.equal(value(v6peer[0]), hexText("[fd00::1]:1234"));
});

test("request.* properties; request.headers.<name> joins repeated values with ','", async () => {
  const headers: Array<[string, string]> = [
    [":method", "POST"], [":path", "/a/b?q=1#f"], ["Host", "example.com"], [":scheme", "https"],
    ["X-Multi", "one"], ["x-multi", "two"], ["x-request-id", "rid"],
  ];
  const obs = await readProps(
    ["request\0path", "request\0url_path", "request\0query", "request\0method", "request\0host", "request\0scheme", "request\0headers\0x-multi", "request\0headers\0X-Multi", "request\0id", "request\0protocol", "request\0headers\0absent", "request\0useragent"],
    { headers, protocol: "HTTP/1.1" },
  );
  assert.deepEqual(obs.map((o) => (o.startsWith("S:0") ? Buffer.from(value(o), "hex").toString() : o)), [
    "/a/b?q=1#f", "/a/b", "q=1", "POST", "example.com", "https", "one,two", "one,two", "rid", "HTTP/1.1", "S:1", "S:1",
  ]);
});

test("JWT claims from dynamic metadata: strings raw, numbers 8-byte doubles, bools 1 byte, maps and lists in pairs format", async () => {
  const payload = { sub: "alice", exp: 1700000000, admin: true, groups: ["a", "b"], nested: { k: "v" }, nothing: null };
  const root = "metadata\0filter_metadata\0envoy.filters.http.jwt_authn\0payload\0";
  const obs = await readProps(
    [`${root}sub`, `${root}exp`, `${root}admin`, `${root}groups`, `${root}nested`, `${root}groups\x000`, `${root}groups\x007`, `${root}missing`, `${root}nothing`, "metadata\0filter_metadata\0other"],
    { dynamicMetadata: { "envoy.filters.http.jwt_authn": { payload } } },
  );
  assert.equal(value(obs[0]), hexText("alice"));
  assert.equal(value(obs[1]), f64le(1700000000));
  assert.equal(value(obs[2]), "01");
  assert.deepEqual(parseStringPairs(Buffer.from(value(obs[3]), "hex")), [["a", ""], ["b", ""]]);
  assert.deepEqual(parseStringPairs(Buffer.from(value(obs[4]), "hex")), [["k", "v"]]);
  assert.equal(value(obs[5]), hexText("a"));
  assert.deepEqual(obs.slice(6), ["S:1", "S:1", "S:3", "S:1"]); // index out of range, missing, null = SerializationFailure
});

test("metadata alone is the typed Metadata protobuf (serializeValue, message case); sub-paths lose types", async () => {
  const obs = await readProps(
    ["metadata", "metadata\0filter_metadata\0f\0k"],
    { dynamicMetadata: { f: { k: "v" } } },
  );
  // Metadata{filter_metadata{"f": Struct{fields{"k": Value{string_value: "v"}}}}}, written by hand.
  assert.equal(value(obs[0]), "0a0f" + "0a0166" + "120a" + "0a08" + "0a016b" + "1203" + "1a0176");
  assert.equal(value(obs[1]), hexText("v"));
  const typed = await readProps(
    ["metadata", "metadata\0filter_metadata\0f\0k"],
    { dynamicMetadata: { f: { k: [null, 1] } } },
  );
  // The list holding null serializes whole as a message (null_value = 0, number_value = 1.0) but not as a sub-path.
  assert.equal(value(typed[0]), "0a1d" + "0a0166" + "1218" + "0a16" + "0a016b" + "1211" + "320f" + "0a02" + "0800" + "0a09" + "11" + f64le(1));
  assert.equal(typed[1], "S:3");
  const none = await readProps(["metadata"]);
  assert.equal(value(none[0]), "");
});

test("xds.node.metadata: NAMESPACE string, LABELS map in pairs format, node id; readable in the root context", async () => {
  const obs = await readProps(["xds\0node\0metadata\0NAMESPACE", "xds\0node\0metadata\0LABELS", "xds\0node\0id", "xds\0node\0metadata\0LABELS\0app", "source\0address"], {}, {}, "proxy_on_configure");
  assert.equal(value(obs[0]), hexText("ns"));
  assert.deepEqual(parseStringPairs(Buffer.from(value(obs[1]), "hex")), [["app", "web"], ["version", "v1"]]);
  assert.equal(value(obs[2]), hexText(NODE.id));
  assert.equal(value(obs[3]), hexText("web"));
  assert.equal(obs[4], "S:1", "no stream info in the root context");
});

test("the pre-1.33 node.* names exist only when emulating Envoy 1.32", async () => {
  const modern = await readProps(["node\0metadata\0NAMESPACE", "xds\0node\0metadata\0NAMESPACE"], {}, {}, "proxy_on_configure");
  assert.deepEqual(modern.map((o) => o.slice(0, 3)), ["S:1", "S:0"]);
  const old = await readProps(["node\0metadata\0NAMESPACE", "xds\0node\0metadata\0NAMESPACE"], {}, { envoyVersion: "1.32" }, "proxy_on_configure");
  assert.equal(value(old[0]), hexText("ns"));
  assert.equal(value(old[1]), hexText("ns"));
});

test("plugin_root_id, plugin_name and plugin_vm_id (empty, Ok, no allocation)", async () => {
  const obs = await readProps(["plugin_root_id", "plugin_name", "plugin_vm_id"], {}, { rootId: "authz", pluginName: "ns.my-plugin" });
  assert.equal(value(obs[0]), hexText("authz"));
  assert.equal(value(obs[1]), hexText("ns.my-plugin"));
  assert.equal(obs[2], "S:0 V: P:0");
});

test("whole messages come back protobuf-encoded; wrappers that cannot be listed are SerializationFailure", async () => {
  const obs = await readProps(["xds\0node", "request", "connection"]);
  // Node { id = 1 (string) ... }: field 1, wire type 2.
  assert.ok(value(obs[0]).startsWith("0a" + NODE.id.length.toString(16)));
  assert.deepEqual(obs.slice(1), ["S:3", "S:3"]);
});

test("values are allocated through malloc with the exact size; size 0 allocates nothing", async () => {
  const wasm = await probeModule((p) => ({
    mallocLogs: true,
    on: {
      proxy_on_request_headers: ["source\0address", "source\0port", "connection\0mtls", "connection\0requested_server_name", "plugin_vm_id"]
        .map((x) => `(call $prop ${p.s(x)})`).join(" "),
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound({ tls: { uriSans: ["spiffe://x"], sni: "" } }));
  const m = messages(r.logs).filter((x) => x.startsWith("malloc") || x.startsWith("S:"));
  assert.deepEqual(m.map((x) => x.replace(/ V:.*/, "")), [
    "malloc 14", "S:0", // "10.1.2.3:45678"
    "malloc 8", "S:0",
    "malloc 1", "S:0",
    "S:0", // "" : no malloc
    "S:0",
  ]);
});

test("proxy_set_property stores filter state wasm.<path>; readable back by name; NotFound in the root", async () => {
  const wasm = await probeModule((p) => ({
    on: {
      proxy_on_configure: `(call $status (call $proxy_set_property ${p.s("meshauthz.result")} ${p.s("x")})) (call $emit)`,
      proxy_on_request_headers: `(drop (call $proxy_set_property ${p.s("meshauthz.result")} ${p.s("allowed")}))
        (call $prop ${p.s("meshauthz.result")}) (call $prop ${p.s("filter_state\0wasm.meshauthz.result")})`,
      proxy_on_log: `(drop (call $proxy_set_property ${p.s("meshauthz.audit")} ${p.s("true")}))`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  assert.deepEqual(observations(host.logs.filter((l) => l.vm === "worker0")), ["S:1"]);
  const r = host.request(inbound());
  assert.deepEqual(r.filterState, { "meshauthz.result": "allowed", "meshauthz.audit": "true" });
  assert.deepEqual(observations(r.logs).map(value), [hexText("allowed"), hexText("allowed")]);
});

test("an empty path is SerializationFailure; a trailing NUL is ignored", async () => {
  const obs = await readProps(["", "source\0port\0"]);
  assert.equal(obs[0], "S:3");
  assert.equal(value(obs[1]), i64le(45678));
});

test("response.code is known in on_response_headers", async () => {
  const wasm = await probeModule((p) => ({
    on: { proxy_on_request_headers: `(call $prop ${p.s("response\0code")})`, proxy_on_response_headers: `(call $prop ${p.s("response\0code")})` },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const obs = observations(host.request(inbound()).logs);
  assert.equal(obs[0], "S:1");
  assert.equal(value(obs[1]), i64le(200));
  assert.equal(hex([1]), "01");
});

test("plugin_name follows Envoy's plugin_ pointer: set in the root's create/configure and in streams, not in on_vm_start", async () => {
  const wasm = await probeModule((p) => ({
    on: {
      proxy_on_vm_start: `(call $prop ${p.s("plugin_name")}) (call $prop ${p.s("plugin_root_id")})`,
      proxy_on_configure: `(call $prop ${p.s("plugin_name")})`,
      proxy_on_request_headers: `(call $prop ${p.s("plugin_name")})`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1, pluginName: "ns.p", rootId: "r" });
  const worker = observations(host.logs.filter((l) => l.vm === "worker0"));
  assert.equal(worker[0], "S:1");
  assert.equal(value(worker[1]), hexText("r"));
  assert.equal(value(worker[2]), hexText("ns.p"));
  assert.equal(value(observations(host.request(inbound()).logs)[0]), hexText("ns.p"));
});
