// CUSTOM through the .wasm against a real gRPC envoy.service.auth.v3.Authorization server
// (@grpc/grpc-js, Envoy's proto definitions): the filter's CheckRequest must decode with Envoy's
// field numbers, and its reading of CheckResponse must follow ext_authz_grpc_impl.cc.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Answer, type ReceivedCheck, type RunningServer, downAddress, startGrpcAuthz } from "./servers.ts";
import { GRPC_CLUSTER, custom, grpcProvider, header, policy, sidecar, upstreamHeader } from "./harness.ts";

let server: RunningServer;
let slow: RunningServer;
let failing: RunningServer;
let down: string;

const byHeader = (r: ReceivedCheck): Answer => {
  const v = r.headers["x-ext-authz"];
  if (v === "allow") return { kind: "allow", headers: { "x-user": "alice" }, appendHeaders: { "x-tags": "checked" }, headersToRemove: ["x-secret"] };
  if (v === "deny-default") return { kind: "deny" };
  return { kind: "deny", status: 401, body: "denied by grpc ext_authz", headers: { "x-ext-authz-check-result": "denied" } };
};

before(async () => {
  server = await startGrpcAuthz({ decide: byHeader });
  slow = await startGrpcAuthz({ decide: () => ({ kind: "allow" }), delayMs: 400 });
  failing = await startGrpcAuthz({ decide: () => ({ kind: "error" }) });
  down = await downAddress();
});
after(async () => {
  await server.close();
  await slow.close();
  await failing.close();
});

describe("gRPC ext_authz provider", () => {
  test("allow: the CheckRequest carries Envoy's attributes; ok_response headers reach the upstream", async () => {
    const s = await sidecar([custom("ext", "ext-grpc", ["/api/*"])], [grpcProvider()], { [GRPC_CLUSTER]: server.address });
    const n = server.received.length;
    const r = await s.send("/api/data?q=1", [["x-ext-authz", "allow"], ["x-secret", "s"], ["x-tags", "a"], ["x-multi", "1"], ["x-multi", "2"]], "POST");
    assert.equal(r.status, 200);
    assert.equal(upstreamHeader(r, "x-user"), "alice");
    assert.equal(upstreamHeader(r, "x-secret"), undefined);
    assert.deepEqual(r.upstreamRequestHeaders?.filter(([k]) => k === "x-tags").map(([, v]) => v), ["a", "checked"]);
    const a = server.received[n].check!.attributes!;
    assert.equal(a.source?.address?.socketAddress?.address, "10.244.0.11");
    assert.equal(a.source?.address?.socketAddress?.portValue, 51234);
    assert.equal(a.source?.principal, "spiffe://cluster.local/ns/foo/sa/a");
    assert.equal(a.destination?.address?.socketAddress?.address, "10.244.0.14");
    assert.equal(a.destination?.address?.socketAddress?.portValue, 8080);
    const h = a.request!.http!;
    assert.equal(h.method, "POST");
    assert.equal(h.path, "/api/data?q=1");
    assert.equal(h.host, "b.foo.svc.cluster.local");
    assert.equal(h.scheme, "http");
    assert.equal(h.id, "req-1");
    assert.equal(h.protocol, "HTTP/1.1");
    assert.equal(h.headers?.["x-ext-authz"], "allow");
    assert.equal(h.headers?.[":path"], "/api/data?q=1");
    assert.equal(h.headers?.["x-multi"], "1,2");
  });

  test("deny: denied_response status, body and headers; 403 when it sets no status", async () => {
    const s = await sidecar([custom("ext", "ext-grpc", ["/api/*"])], [grpcProvider()], { [GRPC_CLUSTER]: server.address });
    const r = await s.send("/api/data", [["x-ext-authz", "deny"]]);
    assert.equal(r.status, 401);
    assert.equal(r.details, "ext_authz_denied");
    assert.equal(r.localReply?.body, "denied by grpc ext_authz");
    assert.equal(header(r, "x-ext-authz-check-result"), "denied");
    const d = await s.send("/api/data", [["x-ext-authz", "deny-default"]]);
    assert.equal(d.status, 403);
    assert.equal(d.details, "ext_authz_denied");
  });

  test("not consulted without a CUSTOM match; DENY still applies after an allow", async () => {
    const deny = policy("deny-admin", { action: "DENY", rules: [{ to: [{ operation: { paths: ["/api/admin"] } }] }] });
    const s = await sidecar([custom("ext", "ext-grpc", ["/api/*"]), deny], [grpcProvider()], { [GRPC_CLUSTER]: server.address });
    const n = server.received.length;
    assert.equal((await s.send("/health", [["x-ext-authz", "deny"]])).status, 200);
    assert.equal(server.received.length, n);
    const r = await s.send("/api/admin", [["x-ext-authz", "allow"]]);
    assert.equal(server.received.length, n + 1);
    assert.equal(r.status, 403);
    assert.equal(r.details, "rbac_access_denied_matched_policy[ns[foo]-policy[deny-admin]-rule[0]]");
  });

  test("timeout, down, and a failing server follow failOpen / statusOnError", async () => {
    const pol = [custom("ext", "ext-grpc", ["/api/*"])];
    const cases: Array<[string, Record<string, unknown>]> = [
      [slow.address, { timeout: "0.1s" }],
      [down, {}],
      [failing.address, {}],
    ];
    for (const [address, extra] of cases) {
      const closed = await sidecar(pol, [grpcProvider(extra)], { [GRPC_CLUSTER]: address });
      const r = await closed.send("/api/data");
      assert.equal(r.status, 403, address);
      assert.equal(r.details, "ext_authz_error");
      const status = await sidecar(pol, [grpcProvider({ ...extra, statusOnError: "503" })], { [GRPC_CLUSTER]: address });
      assert.equal((await status.send("/api/data")).status, 503, address);
      const open = await sidecar(pol, [grpcProvider({ ...extra, failOpen: true })], { [GRPC_CLUSTER]: address });
      const o = await open.send("/api/data");
      assert.equal(o.status, 200, address);
      assert.equal(o.forwarded, true);
    }
  });

  test("several requests wait on the provider at once, each resumed with its own answer", async () => {
    const s = await sidecar([custom("ext", "ext-grpc", ["/api/*"])], [grpcProvider()], { [GRPC_CLUSTER]: server.address });
    const rs = await Promise.all([
      s.send("/api/a", [["x-ext-authz", "allow"]]),
      s.send("/api/b", [["x-ext-authz", "deny"]]),
      s.send("/api/c", [["x-ext-authz", "allow"]]),
    ]);
    assert.deepEqual(rs.map((r) => r.status), [200, 401, 200]);
  });
});
