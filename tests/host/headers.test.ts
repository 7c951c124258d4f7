// Header maps by phase and the pairs format (spec §2.2, §2.4, §3, §5.1, §12.5).

import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvoyHost, parsePairs, parseStringPairs, serializeStringPairs } from "../../tools/host/index.ts";
import { inbound, messages, NODE, observations, probeModule } from "./fixtures.ts";

function pairsOf(obs: string): Array<[string, string]> {
  const m = /^S:0 P:\d+ L:(\d+) V:([0-9a-f]*)$/.exec(obs);
  assert.ok(m, obs);
  return parseStringPairs(Buffer.from(m[2], "hex"));
}

test("names are lower-cased, Host becomes :authority, pseudo-headers come first, n counts them", async () => {
  const wasm = await probeModule(() => ({ on: { proxy_on_request_headers: "(call $pairs (i32.const 0))" } }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound({
    headers: [["User-Agent", "x"], ["Host", "example.com"], [":method", "GET"], ["X-A", "1"], [":path", "/p"], [":scheme", "http"]],
  }));
  assert.ok(messages(r.logs).includes("cb on_request_headers 2 6 1"));
  assert.deepEqual(pairsOf(observations(r.logs)[0]), [
    [":authority", "example.com"], [":method", "GET"], [":path", "/p"], [":scheme", "http"], ["user-agent", "x"], ["x-a", "1"],
  ]);
});

test("get_header_map_value returns the first of repeated values; size is the byte size; keys are case-insensitive", async () => {
  const wasm = await probeModule((p) => ({
    on: {
      proxy_on_request_headers: `(call $hdr (i32.const 0) ${p.s("X-Multi")}) (call $hdr (i32.const 0) ${p.s("absent")}) (call $hsize (i32.const 0))
        (call $hdr (i32.const 8) ${p.s("x")})`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const headers: Array<[string, string]> = [[":method", "GET"], [":path", "/"], ["x-multi", "one"], ["x-multi", "two"]];
  const obs = observations(host.request(inbound({ headers })).logs);
  const bytes = headers.reduce((n, [k, v]) => n + k.length + v.length, 0);
  assert.deepEqual(obs, ["S:0 V:one", "S:1", `S:0 N:${bytes}`, "S:2"]); // map type 8 is out of range: BadArgument
});

test("after Continue, request headers are gone: value BadArgument, pairs empty Ok, request.* NotFound", async () => {
  const wasm = await probeModule((p) => ({
    on: {
      proxy_on_response_headers: `(call $hdr (i32.const 0) ${p.s(":path")}) (call $pairs (i32.const 0)) (call $hsize (i32.const 0))
        (call $prop ${p.s("request\0path")}) (call $prop ${p.s("request\0protocol")}) (call $hdr (i32.const 2) ${p.s(":status")})`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound());
  assert.equal(r.forwarded, true);
  const obs = observations(r.logs);
  assert.equal(obs[0], "S:2");
  assert.equal(obs[1], "S:0 P:0 L:0 V:");
  assert.equal(obs[2], "S:2 N:0");
  assert.equal(obs[3], "S:1");
  assert.match(obs[4], /^S:0 V:/, "request.protocol comes from stream info, not headers");
  assert.equal(obs[5], "S:0 V:200");
});

test("response headers are not available during on_request_headers (BadArgument)", async () => {
  const wasm = await probeModule((p) => ({ on: { proxy_on_request_headers: `(call $hdr (i32.const 2) ${p.s(":status")}) (call $pairs (i32.const 2))` } }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  assert.deepEqual(observations(host.request(inbound()).logs), ["S:2", "S:0 P:0 L:0 V:"]);
});

test("in on_log the request headers are readable again (access-log copy); a missing map is NotFound there", async () => {
  const wasm = await probeModule((p) => ({
    on: { proxy_on_log: `(call $hdr (i32.const 0) ${p.s(":path")}) (call $hdr (i32.const 1) ${p.s("t")}) (call $prop ${p.s("request\0path")})` },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const obs = observations(host.request(inbound()).logs);
  assert.equal(obs[0], "S:0 V:/api/items?x=1");
  assert.equal(obs[1], "S:1");
  assert.match(obs[2], /^S:0 V:/);
});

test("header writes: add/replace while headers are held; forwarded upstream; BadArgument after Continue", async () => {
  const wasm = await probeModule((p) => ({
    on: {
      proxy_on_request_headers: `(call $status (call $proxy_add_header_map_value (i32.const 0) ${p.s("X-Added")} ${p.s("yes")})) (call $emit)`,
      proxy_on_response_headers: `(call $status (call $proxy_add_header_map_value (i32.const 0) ${p.s("x-late")} ${p.s("no")})) (call $emit)`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound());
  assert.deepEqual(observations(r.logs), ["S:0", "S:2"]);
  assert.deepEqual(r.upstreamRequestHeaders!.at(-1), ["x-added", "yes"]);
});

test("set_header_map_pairs with a malformed serialization empties the map (strict parsing)", async () => {
  const good = serializeStringPairs([[":method", "GET"], ["a", "b"]]);
  const bad = new Uint8Array([...good, 0]); // one trailing byte
  const wasm = await probeModule((p) => ({
    on: {
      proxy_on_request_headers: `(drop (call $proxy_set_header_map_pairs (i32.const 0) ${p.s(bad)})) (call $pairs (i32.const 0))
        (drop (call $proxy_set_header_map_pairs (i32.const 0) ${p.s(good)})) (call $pairs (i32.const 0))`,
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const obs = observations(host.request(inbound()).logs);
  assert.equal(obs[0], "S:0 P:0 L:0 V:");
  assert.deepEqual(pairsOf(obs[1]), [[":method", "GET"], ["a", "b"]]);
});

test("pairs parsing rules: missing NUL, trailing bytes, more than 1024 entries, short buffers are all empty", () => {
  const ok = serializeStringPairs([["k", "v"], ["", ""]]);
  assert.deepEqual(parseStringPairs(ok), [["k", "v"], ["", ""]]);
  assert.equal(ok.length, 4 + 2 * 8 + (1 + 1 + 1 + 1) + 2);
  const noNul = ok.slice();
  noNul[4 + 16 + 1] = 0x41; // the NUL after "k"
  assert.deepEqual(parsePairs(noNul), []);
  assert.deepEqual(parsePairs(new Uint8Array([...ok, 0])), []);
  assert.deepEqual(parsePairs(ok.subarray(0, ok.length - 1)), []);
  assert.deepEqual(parsePairs(new Uint8Array([1, 0, 0])), []);
  const many = new Uint8Array(4 + 1025 * 10);
  new DataView(many.buffer).setUint32(0, 1025, true);
  assert.deepEqual(parsePairs(many), []);
  const exactly = new Uint8Array(4 + 1024 * 10);
  new DataView(exactly.buffer).setUint32(0, 1024, true);
  assert.equal(parsePairs(exactly).length, 1024);
  assert.deepEqual(parsePairs(new Uint8Array(4)), []); // N = 0
});

test("a request body: on_request_headers gets eos 0, then on_request_body(size, 1) with buffer 0 readable", async () => {
  const wasm = await probeModule(() => ({
    on: { proxy_on_request_headers: "(call $buf (i32.const 0))", proxy_on_request_body: "(call $buf (i32.const 0))" },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, workers: 1 });
  const r = host.request(inbound({ body: "hello" }));
  assert.ok(messages(r.logs).includes("cb on_request_headers 2 5 0"));
  assert.ok(messages(r.logs).includes("cb on_request_body 2 5 1"));
  assert.deepEqual(observations(r.logs), ["S:0 V: P:0", "S:0 V:hello P:131072"]);
  assert.equal(r.forwarded, true);
});
