// The network-filter lifecycle (a NETWORK WasmPlugin): Envoy source/extensions/common/wasm/context.cc
// onNewConnection / onData / onWrite / onEvent / closeStream / onCloseTCP, cpp-host CHECK_FAIL_NET.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost } from "../../tools/host/index.ts";
import type { ConnectionSpec } from "../../tools/host/types.ts";
import { callbackTrace, hexText, NODE, observations, probeModule } from "./fixtures.ts";

function conn(over: Partial<ConnectionSpec> = {}): ConnectionSpec {
  return {
    downstreamRemote: "10.0.0.1:40000",
    downstreamLocal: "10.0.0.2:9000",
    tls: { uriSans: ["spiffe://cluster.local/ns/a/sa/b"], sni: "outbound_.9000_._.x.a.svc.cluster.local" },
    downstreamData: ["hello", "world"],
    ...over,
  };
}

test("a connection: create, new_connection, data per read, downstream close (remote), then done, log, delete", async () => {
  const host = await EnvoyHost.create({ wasm: await probeModule(), configuration: "", node: NODE, workers: 1 });
  const r = host.connect(conn({ upstreamData: ["pong"] }));
  assert.deepEqual(callbackTrace(r.logs), [
    "cb on_context_create 2 1",
    "cb on_new_connection 2",
    "cb on_downstream_data 2 5 0",
    "cb on_downstream_data 2 5 0",
    "cb on_upstream_data 2 4 1",
    "cb on_downstream_connection_close 2 2",
    "cb on_done 2",
    "cb on_log 2",
    "cb on_delete 2",
  ]);
  assert.equal(r.allowed, true);
  assert.equal(r.bytesToUpstream, 10);
  assert.equal(r.bytesToDownstream, 4);
  assert.equal(r.closedBy, "client");
});

test("the peer certificate is unknown at new_connection (handshake pending) and known at the first data", async () => {
  const wasm = await probeModule((p) => ({
    on: {
      proxy_on_new_connection: `(call $prop ${p.s("connection\0uri_san_peer_certificate")}) (call $prop ${p.s("connection\0mtls")}) (call $prop ${p.s("connection\0requested_server_name")})`,
      proxy_on_downstream_data: `(call $prop ${p.s("connection\0uri_san_peer_certificate")}) (call $prop ${p.s("connection\0mtls")})`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const obs = observations(host.connect(conn({ downstreamData: ["x"] })).logs);
  assert.match(obs[0], /^S:1\b/, "no URI SAN before the handshake");
  assert.match(obs[1], new RegExp(`V:00\\b`), "connection.mtls false before the handshake");
  assert.ok(obs[2].includes(hexText("outbound_.9000_._.x.a.svc.cluster.local")), "SNI is known from the TLS inspector");
  assert.ok(obs[3].includes(hexText("spiffe://cluster.local/ns/a/sa/b")));
  assert.match(obs[4], /V:01\b/);
});

test("the downstream bytes are readable in on_downstream_data (buffer type 2)", async () => {
  const wasm = await probeModule(() => ({
    on: {
      proxy_on_downstream_data: `(drop (call $proxy_get_buffer_bytes (i32.const 2) (i32.const 0) (local.get $a1) (i32.const 1024) (i32.const 1028)))
        (call $put_str (i32.load (i32.const 1024)) (i32.load (i32.const 1028))) (call $emit)`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.connect(conn({ downstreamData: ["abc"] }));
  assert.ok(r.logs.some((l) => l.message === "abc"));
});

test("close_stream(downstream) closes the connection after the callback: bytes stop, close is local", async () => {
  const wasm = await probeModule(() => ({
    on: { proxy_on_downstream_data: "(drop (call $proxy_close_stream (i32.const 2)))" },
    ret: { proxy_on_downstream_data: 1 },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.connect(conn({ upstreamData: ["pong"] }));
  assert.equal(r.allowed, false);
  assert.equal(r.closedBy, "plugin");
  assert.equal(r.closeDetails, "wasm_downstream_close");
  assert.equal(r.bytesToUpstream, 0);
  assert.deepEqual(callbackTrace(r.logs).slice(2), [
    "cb on_downstream_data 2 5 0",
    "cb on_downstream_connection_close 2 1",
    "cb on_done 2",
    "cb on_log 2",
    "cb on_delete 2",
  ]);
});

test("a paused read (StopIteration) does not reach the upstream", async () => {
  const wasm = await probeModule(() => ({ ret: { proxy_on_downstream_data: 1 } }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.connect(conn());
  assert.equal(r.bytesToUpstream, 0);
  assert.equal(r.allowed, false);
  assert.equal(r.closedBy, "client");
});

test("a trap in on_downstream_data fails the connection closed (CHECK_FAIL_NET), or lets it through fail-open", async () => {
  const wasm = await probeModule(() => ({ on: { proxy_on_downstream_data: "(unreachable)" } }));
  const closed = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = closed.connect(conn());
  assert.equal(r.allowed, false);
  assert.equal(r.closeDetails, "wasm_fail_stream");
  assert.ok(r.trap);
  const open = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1, failStrategy: "FAIL_OPEN" });
  assert.equal(open.connect(conn()).allowed, true);
});
