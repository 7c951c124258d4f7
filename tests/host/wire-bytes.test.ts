// Issue 9 host fidelity: what Envoy hands a filter is bytes, and `host` is `:authority`.
// - header values keep bytes that are not UTF-8 (obs-text: HeaderUtility::headerValueIsValid, kAllow);
// - a value with NUL, CR or LF never reaches a filter (every codec refuses it): 400 before the plugin;
// - Envoy's request header map keeps `host` in the :authority slot (header_map_impl.cc "map a legacy host
//   header to :authority"): lookups of `host` read :authority, pairs never list `host`, HTTP/2 drops a `host`
//   after :authority (http2/codec_impl.cc onHeader, http2_discard_host_header);
// - SNI and SANs are bytes; connection.uri_san_peer_certificate is the FIRST URI SAN (expr/context.cc).
import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost, parsePairs, type StreamSpec } from "../../tools/host/index.ts";
import { inbound, messages, NODE, observations, probeModule } from "./fixtures.ts";

const bytes = (...b: number[]) => Uint8Array.from(b);
const hexOf = (b: Uint8Array | string) => Buffer.from(b).toString("hex");

async function readProps(paths: string[], spec: Partial<StreamSpec>): Promise<string[]> {
  const wasm = await probeModule((p) => ({ on: { proxy_on_request_headers: paths.map((x) => `(call $prop ${p.s(x)})`).join(" ") } }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  return observations(host.request(inbound(spec)).logs).map((o) => /^S:0 V:([0-9a-f]*)/.exec(o)?.[1] ?? o);
}

async function pairs(spec: Partial<StreamSpec>): Promise<Array<[string, string]>> {
  const wasm = await probeModule(() => ({ on: { proxy_on_request_headers: "(call $pairs (i32.const 0))" } }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const obs = observations(host.request(inbound(spec)).logs)[0]!;
  const m = /V:([0-9a-f]*)$/.exec(obs)!;
  return parsePairs(Buffer.from(m[1]!, "hex")).map(([k, v]) => [Buffer.from(k).toString(), hexOf(v)]);
}

const base: Array<[string, string | Uint8Array]> = [[":method", "GET"], [":path", "/"], [":scheme", "http"]];

test("header values are raw bytes: invalid UTF-8 reaches the filter byte for byte (value, pairs, request.headers)", async () => {
  const raw = bytes(0x61, 0xc0, 0x80, 0xff, 0x0b, 0x62);
  const [v, joined] = await readProps(["request\0headers\0x-raw", "request\0headers\0x-two"], {
    headers: [...base, [":authority", "a"], ["x-raw", raw], ["x-two", bytes(0xfe)], ["x-two", "z"]],
  });
  assert.equal(v, hexOf(raw));
  assert.equal(joined, "fe2c7a"); // "\xfe" "," "z"
  const ps = await pairs({ headers: [...base, [":authority", "a"], ["x-raw", raw]] });
  assert.deepEqual(ps.find(([k]) => k === "x-raw"), ["x-raw", hexOf(raw)]);
});

test("a header value with NUL, CR or LF never reaches the filter: the codec answers (HTTP/1 400, HTTP/2 reset)", async () => {
  const wasm = await probeModule(() => ({ on: { proxy_on_request_headers: "(call $pairs (i32.const 0))" } }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  for (const bad of ["a\nb", "a\rb", "a\0b"]) {
    const r1 = host.request(inbound({ headers: [...base, [":authority", "a"], ["x", bad]] }));
    assert.equal(r1.status, 400);
    assert.equal(r1.details, "http1.invalid_characters");
    assert.ok(!messages(r1.logs).some((m) => m.startsWith("cb on_request_headers")), "the filter saw it");
    const r2 = host.request(inbound({ protocol: "HTTP/2", headers: [...base, [":authority", "a"], ["x", bad]] }));
    assert.equal(r2.details, "http2.invalid.header.field");
  }
  // other control bytes do arrive
  const ok = host.request(inbound({ headers: [...base, [":authority", "a"], ["x", "a\x01\tb\x7f"]] }));
  assert.ok(messages(ok.logs).some((m) => m.startsWith("cb on_request_headers")));
});

test("`host` is :authority: lookups of host read the authority; pairs list :authority, never host", async () => {
  const [viaProp, viaAuthority, reqHost] = await readProps(["request\0headers\0host", "request\0headers\0:authority", "request\0host"], {
    headers: [...base, [":authority", "api.example.com"]],
  });
  assert.equal(viaProp, hexOf("api.example.com"));
  assert.equal(viaAuthority, hexOf("api.example.com"));
  assert.equal(reqHost, hexOf("api.example.com"));
  // HTTP/1.1: a Host header becomes :authority
  const h1 = await pairs({ protocol: "HTTP/1.1", headers: [...base, ["Host", "h1.example"]] });
  assert.deepEqual(h1.filter(([k]) => k === "host" || k === ":authority"), [[":authority", hexOf("h1.example")]]);
  // HTTP/2: a host after :authority is discarded
  const h2 = await pairs({ protocol: "HTTP/2", headers: [...base, [":authority", "a.example"], ["host", "b.example"]] });
  assert.deepEqual(h2.filter(([k]) => k === "host" || k === ":authority"), [[":authority", hexOf("a.example")]]);
  const [h2host] = await readProps(["request\0headers\0host"], { protocol: "HTTP/2", headers: [...base, [":authority", "a.example"], ["host", "b.example"]] });
  assert.equal(h2host, hexOf("a.example"));
});

test("proxy_get_header_map_value(host) returns :authority", async () => {
  const wasm = await probeModule((p) => ({ on: { proxy_on_request_headers: `(call $hdr (i32.const 0) ${p.s("host")}) (call $hdr (i32.const 0) ${p.s("Host")})` } }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const obs = observations(host.request(inbound({ headers: [...base, [":authority", "svc.example:8080"]] })).logs);
  assert.deepEqual(obs, ["S:0 V:svc.example:8080", "S:0 V:svc.example:8080"]);
});

test("SNI and SANs are bytes; only the FIRST URI SAN is visible (RBAC would try every SAN)", async () => {
  const sni = bytes(0x61, 0x0a, 0xc3, 0x62);
  const san1 = bytes(...Buffer.from("spiffe://td/ns/a/sa/"), 0xff);
  const [s, u, d, subj] = await readProps(
    ["connection\0requested_server_name", "connection\0uri_san_peer_certificate", "connection\0dns_san_peer_certificate", "connection\0subject_peer_certificate"],
    { tls: { uriSans: [san1, "spiffe://td/ns/b/sa/c"], dnsSans: [bytes(0x64, 0x0a)], subject: bytes(0x43, 0x4e, 0x3d, 0xe9), sni } },
  );
  assert.equal(s, hexOf(sni));
  assert.equal(u, hexOf(san1));
  assert.equal(d, "640a");
  assert.equal(subj, "434e3de9");
});
