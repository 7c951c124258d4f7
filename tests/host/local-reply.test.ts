// proxy_send_local_response and the header-callback return values (spec §1.3, §2.3, §12.7).

import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost, serializeStringPairs } from "../../tools/host/index.ts";
import { callbackTrace, inbound, messages, NODE, observations, probeModule, type Probe } from "./fixtures.ts";

/** WAT for proxy_send_local_response(code, details, body, headers, grpc). */
function reply(p: Probe, code: number, details: string, body: string, headers: Array<[string, string]>, grpc: number): string {
  return `(call $status (call $proxy_send_local_response (i32.const ${code}) ${p.s(details)} ${p.s(body)} ${p.s(serializeStringPairs(headers))} (i32.const ${grpc}))) (call $emit)`;
}

test("a local reply is deferred until the callback returns, forces StopAll, then re-enters on_response_headers with request headers readable", async () => {
  const wasm = await probeModule((p) => ({
    on: {
      proxy_on_request_headers: `${reply(p, 403, "rbac access\tdenied", "RBAC: access denied", [["X-Reason", "policy"]], -1)} (call $say ${p.s("after send")})`,
      proxy_on_response_headers: `(call $hdr (i32.const 0) ${p.s(":path")}) (call $hdr (i32.const 2) ${p.s(":status")}) (call $hdr (i32.const 2) ${p.s("x-reason")})`,
    },
    ret: { proxy_on_request_headers: 0 }, // Continue, overridden by the local reply
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound());
  assert.deepEqual(messages(r.logs).slice(1, 4), ["cb on_request_headers 2 5 1", "S:0", "after send"]);
  assert.deepEqual(callbackTrace(r.logs), [
    "cb on_context_create 2 1",
    "cb on_request_headers 2 5 1",
    "cb on_response_headers 2 4 0", // :status, x-reason, content-length, content-type; a body follows
    "cb on_response_body 2 19 1",
    "cb on_log 2",
    "cb on_done 2",
    "cb on_delete 2",
  ]);
  assert.deepEqual(observations(r.logs).slice(1), ["S:0 V:/api/items?x=1", "S:0 V:403", "S:0 V:policy"]);
  assert.equal(r.status, 403);
  assert.equal(r.forwarded, false);
  assert.equal(r.details, "rbac_access_denied");
  assert.deepEqual(r.localReply, {
    status: 403,
    body: "RBAC: access denied",
    details: "rbac_access_denied",
    headers: [["x-reason", "policy"]],
    grpcStatus: null,
  });
  assert.deepEqual(r.responseHeaders, [[":status", "403"], ["x-reason", "policy"], ["content-length", "19"], ["content-type", "text/plain"]]);
});

test("a second local reply is ignored (still Ok to the module); grpc_status 0..16 is kept", async () => {
  const wasm = await probeModule((p) => ({
    on: { proxy_on_request_headers: `${reply(p, 401, "first", "", [], 16)} ${reply(p, 500, "second", "", [], 2)}` },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound());
  assert.deepEqual(observations(r.logs), ["S:0", "S:0"]);
  assert.equal(r.status, 401);
  assert.equal(r.localReply!.grpcStatus, 16);
  assert.equal(r.details, "first");
});

test("malformed local-reply headers are dropped as a whole", async () => {
  const bad = new Uint8Array([...serializeStringPairs([["x-a", "1"]]), 7]);
  const wasm = await probeModule((p) => ({
    on: { proxy_on_request_headers: `(drop (call $proxy_send_local_response (i32.const 403) ${p.s("d")} ${p.s("")} ${p.s(bad)} (i32.const -1)))` },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound());
  assert.deepEqual(r.localReply!.headers, []);
  assert.deepEqual(r.responseHeaders, [[":status", "403"]]);
});

test("gRPC requests get Envoy's gRPC local reply: HTTP 200 with grpc-status", async () => {
  const wasm = await probeModule((p) => ({ on: { proxy_on_request_headers: reply(p, 403, "denied", "no", [], -1) } }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound({ headers: [[":method", "POST"], [":path", "/pkg.Svc/M"], [":authority", "a"], ["content-type", "application/grpc"]], protocol: "HTTP/2" }));
  assert.equal(r.status, 200);
  assert.equal(r.localReply!.status, 403);
  assert.deepEqual(r.responseHeaders, [[":status", "200"], ["content-type", "application/grpc"], ["grpc-status", "7"], ["grpc-message", "no"]]);
});

test("return values: 1 (StopIteration) and values above 4 become StopAll; nothing resumes, so the idle timeout answers", async () => {
  for (const ret of [1, 3, 4, 5, 100]) {
    const wasm = await probeModule(() => ({ ret: { proxy_on_request_headers: ret } }));
    const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
    const r = host.request(inbound());
    assert.equal(r.forwarded, false, `ret ${ret}`);
    assert.equal(r.status, 408);
    assert.equal(r.details, "stream_idle_timeout");
    assert.equal(r.localReply, null);
  }
  for (const ret of [0, 2]) {
    const host = await EnvoyHost.create({ wasm: await probeModule(() => ({ ret: { proxy_on_request_headers: ret } })), configuration: "", node: NODE, workers: 1 });
    assert.equal(host.request(inbound()).forwarded, true, `ret ${ret}`);
  }
});

test("proxy_continue_stream(0) resumes a paused request (deferred) and clears the request headers at once", async () => {
  const wasm = await probeModule((p) => ({
    on: {
      proxy_on_request_headers: `(call $status (call $proxy_continue_stream (i32.const 0))) (call $emit)
        (call $hdr (i32.const 0) ${p.s(":path")})
        (call $status (call $proxy_continue_stream (i32.const 3))) (call $emit)
        (call $status (call $proxy_continue_stream (i32.const 4))) (call $emit)`,
    },
    ret: { proxy_on_request_headers: 1 },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound());
  assert.deepEqual(observations(r.logs), ["S:0", "S:2", "S:12", "S:2"]);
  assert.equal(r.forwarded, true);
  assert.equal(r.status, 200);
});

test("proxy_close_stream resets the stream (wasm_close_stream)", async () => {
  const wasm = await probeModule(() => ({ on: { proxy_on_request_headers: "(drop (call $proxy_close_stream (i32.const 0)))" }, ret: { proxy_on_request_headers: 4 } }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound());
  assert.equal(r.status, 0);
  assert.equal(r.details, "wasm_close_stream");
  assert.equal(r.forwarded, false);
  assert.ok(callbackTrace(r.logs).includes("cb on_log 2"));
});

test("a local reply from the response phase replaces the upstream answer without re-entering the filter", async () => {
  const wasm = await probeModule((p) => ({ on: { proxy_on_response_headers: reply(p, 502, "bad upstream", "", [], -1) } }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound());
  assert.equal(r.forwarded, true);
  assert.equal(r.status, 502);
  assert.equal(callbackTrace(r.logs).filter((l) => l.startsWith("cb on_response_headers")).length, 1);
});

test("a local reply from the root context is a silent no-op that returns Ok", async () => {
  const wasm = await probeModule((p) => ({ on: { proxy_on_configure: reply(p, 403, "x", "", [], -1) } }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  assert.equal(host.configAccepted, true);
  assert.equal(host.request(inbound()).status, 200);
});
