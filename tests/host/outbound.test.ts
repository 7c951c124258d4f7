// proxy_http_call / proxy_grpc_call in the host as Envoy implements them (ENVOY context.cc httpCall,
// grpcCall, onHttpCallSuccess; cpp-host exports.cc): argument checks, tokens, and the response
// delivered to the root context, readable only from inside proxy_on_http_call_response.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { EnvoyHost } from "../../tools/host/index.ts";
import { serializePairs } from "../../tools/host/pairs.ts";
import { inbound, messages, NODE, probeModule } from "./fixtures.ts";

const enc = new TextEncoder();
const pairs = (p: Array<[string, string]>) => serializePairs(p.map(([k, v]) => [enc.encode(k), enc.encode(v)]));

let server: http.Server;
let address = "";
const seen: Array<{ method?: string; url?: string; host?: string }> = [];
before(async () => {
  server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, host: req.headers.host });
    req.resume();
    res.writeHead(201, { "x-answer": "yes" }).end("hello");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const CLUSTER = "outbound|80||echo.ns.svc.cluster.local";
const IMPORTS = `(import "env" "proxy_http_call" (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_call" (func $grpc_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))`;

test("argument checks: unknown cluster, missing :authority, negative timeout are BadArgument; a bad GrpcService is ParseFailure", async () => {
  const good = pairs([[":method", "GET"], [":path", "/x"], [":authority", "echo"]]);
  const noAuthority = pairs([[":method", "GET"], [":path", "/x"]]);
  const wasm = await probeModule((p) => ({
    imports: IMPORTS,
    on: {
      proxy_on_request_headers: [
        `(call $say_num ${p.s("unknown ")} (call $http_call ${p.s("outbound|1||nope")} ${p.s(good)} (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 2048)))`,
        `(call $say_num ${p.s("noauth ")} (call $http_call ${p.s(CLUSTER)} ${p.s(noAuthority)} (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 2048)))`,
        `(call $say_num ${p.s("timeout ")} (call $http_call ${p.s(CLUSTER)} ${p.s(good)} (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1) (i32.const 2048)))`,
        `(call $say_num ${p.s("grpc ")} (call $grpc_call ${p.s("outbound|1||x")} ${p.s("svc")} ${p.s("m")} (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 2048)))`,
      ].join("\n"),
    },
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, clusters: { [CLUSTER]: address } });
  const r = host.request(inbound());
  assert.deepEqual(messages(r.logs).filter((m) => /^(unknown|noauth|timeout|grpc) /.test(m)), ["unknown 2", "noauth 2", "timeout 2", "grpc 4"]);
});

test("a call is made for real; the answer reaches the root context, its headers and body readable there", async () => {
  const good = pairs([[":method", "POST"], [":path", "/check"], [":authority", "echo.ns"]]);
  const wasm = await probeModule((p) => ({
    imports: IMPORTS,
    on: {
      proxy_on_request_headers: `(call $say_num ${p.s("call ")} (call $http_call ${p.s(CLUSTER)} ${p.s(good)} (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 2048)))
        (call $say_num ${p.s("token ")} (i32.load (i32.const 2048)))`,
    },
    ret: { proxy_on_request_headers: 1 },
    extra: `(func (export "proxy_on_http_call_response") (param $root i32) (param $token i32) (param $h i32) (param $b i32) (param $t i32)
      (call $say_num ${p.s("response root ")} (local.get $root))
      (call $say_num ${p.s("response token ")} (local.get $token))
      (call $say_num ${p.s("response body ")} (local.get $b))
      (call $hdr (i32.const 6) ${p.s(":status")})
      (call $hdr (i32.const 6) ${p.s("x-answer")})
      (call $buf (i32.const 4))
      (call $hdr (i32.const 0) ${p.s(":path")}))`,
  }));
  const host = await EnvoyHost.create({ wasm, configuration: "", node: NODE, clusters: { [CLUSTER]: address }, workers: 1 });
  const r = await host.requestAsync(inbound());
  const m = messages(host.logs);
  assert.ok(m.includes("call 0") && m.includes("token 1"), m.join("\n"));
  assert.ok(m.includes("response root 1") && m.includes("response token 1") && m.includes("response body 5"), m.join("\n"));
  assert.ok(m.includes("S:0 V:201") && m.includes("S:0 V:yes") && m.some((x) => x.startsWith("S:0 V:hello")), m.join("\n"));
  // The root context has no request headers: the filter must make the stream effective first.
  assert.ok(m.includes("S:2"), m.join("\n"));
  assert.deepEqual(seen.at(-1), { method: "POST", url: "/check", host: "echo.ns" });
  // Nothing continued the stream: the stream idle timeout answers.
  assert.equal(r.status, 408);
});
