// CUSTOM through the .wasm against a real HTTP ext_authz server on 127.0.0.1 (Envoy's ext_authz
// HTTP service semantics: ext_authz_http_impl.cc, filters/http/ext_authz/ext_authz.cc).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Answer, type ReceivedCheck, type RunningServer, downAddress, startHttpAuthz } from "./servers.ts";
import { HTTP_CLUSTER, custom, header, httpProvider, policy, sidecar, upstreamHeader } from "./harness.ts";

let server: RunningServer;
let slow: RunningServer;
let failing: RunningServer;
let down: string;

const byHeader = (r: ReceivedCheck): Answer => {
  const v = r.headers["x-ext-authz"];
  if (v === "allow") return { kind: "allow", headers: { "x-user": "alice", "x-other": "no", "x-drop": "yes" }, headersToRemove: ["x-secret"] };
  return { kind: "deny", status: 401, body: "denied by ext_authz", headers: { "x-ext-authz-check-result": "denied", "www-authenticate": "Bearer", "x-internal": "1" } };
};

before(async () => {
  server = await startHttpAuthz({ decide: byHeader });
  slow = await startHttpAuthz({ decide: () => ({ kind: "allow" }), delayMs: 400 });
  failing = await startHttpAuthz({ decide: () => ({ kind: "error", status: 503 }) });
  down = await downAddress();
});
after(async () => {
  await server.close();
  await slow.close();
  await failing.close();
});

const provider = httpProvider({
  pathPrefix: "/check",
  includeRequestHeadersInCheck: ["x-ext-authz", "x-b3-*"],
  includeAdditionalHeadersInCheck: { "x-authz-source": "meshauthz" },
  headersToUpstreamOnAllow: ["x-user"],
  headersToDownstreamOnDeny: ["x-ext-authz-check-result"],
});

describe("HTTP ext_authz provider", () => {
  test("allow: the check request, then the upstream gets headersToUpstreamOnAllow (and only those)", async () => {
    const s = await sidecar([custom("ext", "ext-http", ["/api/*"])], [provider], { [HTTP_CLUSTER]: server.address });
    const n = server.received.length;
    const r = await s.send("/api/data?x=1", [["x-ext-authz", "allow"], ["x-b3-traceid", "abc"], ["x-not-sent", "1"], ["x-secret", "s"], ["authorization", "Bearer t"]]);
    assert.equal(r.status, 200);
    assert.equal(r.forwarded, true);
    assert.equal(upstreamHeader(r, "x-user"), "alice");
    assert.equal(upstreamHeader(r, "x-other"), undefined);
    assert.equal(upstreamHeader(r, "x-secret"), undefined, "x-envoy-auth-headers-to-remove");
    const got = server.received[n];
    assert.equal(got.method, "GET");
    assert.equal(got.path, "/check/api/data?x=1");
    assert.equal(got.headers.host, "b.foo.svc.cluster.local");
    assert.equal(got.headers["x-ext-authz"], "allow");
    assert.equal(got.headers["x-b3-traceid"], "abc");
    assert.equal(got.headers.authorization, "Bearer t");
    assert.equal(got.headers["x-authz-source"], "meshauthz");
    assert.equal(got.headers["content-length"], "0");
    assert.equal(got.headers["x-not-sent"], undefined);
    assert.equal(r.filterState["meshauthz.ext_authz"], "ns[foo]-policy[ext]-rule[0]");
    assert.equal(r.filterState["meshauthz.ext_authz_result"], "allowed");
  });

  test("deny: the provider's status, body and headersToDownstreamOnDeny (+ www-authenticate)", async () => {
    const s = await sidecar([custom("ext", "ext-http", ["/api/*"])], [provider], { [HTTP_CLUSTER]: server.address });
    const r = await s.send("/api/data", [["x-ext-authz", "deny"]]);
    assert.equal(r.status, 401);
    assert.equal(r.forwarded, false);
    assert.equal(r.details, "ext_authz_denied");
    assert.equal(r.localReply?.body, "denied by ext_authz");
    assert.equal(header(r, "x-ext-authz-check-result"), "denied");
    assert.equal(header(r, "www-authenticate"), "Bearer");
    assert.equal(header(r, "x-internal"), undefined);
  });

  test("deny without headersToDownstreamOnDeny: every provider header reaches the client", async () => {
    const s = await sidecar([custom("ext", "ext-http", ["/api/*"])], [httpProvider()], { [HTTP_CLUSTER]: server.address });
    const r = await s.send("/api/data", [["x-ext-authz", "deny"]]);
    assert.equal(r.status, 401);
    assert.equal(header(r, "x-internal"), "1");
  });

  test("the provider is not consulted when no CUSTOM rule matches", async () => {
    const s = await sidecar([custom("ext", "ext-http", ["/api/*"])], [provider], { [HTTP_CLUSTER]: server.address });
    const n = server.received.length;
    const r = await s.send("/health", [["x-ext-authz", "deny"]]);
    assert.equal(r.status, 200);
    assert.equal(server.received.length, n);
    assert.equal(r.filterState["meshauthz.ext_authz"], undefined);
  });

  test("a CUSTOM allow does not bypass DENY, nor a missing ALLOW match", async () => {
    const deny = policy("deny-admin", { action: "DENY", rules: [{ to: [{ operation: { paths: ["/api/admin"] } }] }] });
    const allow = policy("allow-other", { rules: [{ to: [{ operation: { paths: ["/api/data"] } }] }] });
    const s = await sidecar([custom("ext", "ext-http", ["/api/*"]), deny, allow], [provider], { [HTTP_CLUSTER]: server.address });
    const n = server.received.length;
    const denied = await s.send("/api/admin", [["x-ext-authz", "allow"]]);
    assert.equal(server.received.length, n + 1, "CUSTOM runs before DENY");
    assert.equal(denied.status, 403);
    assert.equal(denied.details, "rbac_access_denied_matched_policy[ns[foo]-policy[deny-admin]-rule[0]]");
    const miss = await s.send("/api/other", [["x-ext-authz", "allow"]]);
    assert.equal(miss.status, 403);
    assert.equal(miss.details, "rbac_access_denied_matched_policy[none]");
    const ok = await s.send("/api/data", [["x-ext-authz", "allow"]]);
    assert.equal(ok.status, 200);
    assert.equal(ok.filterState["meshauthz.policy"], "ns[foo]-policy[allow-other]-rule[0]");
  });

  test("timeout: 403 ext_authz_error by default, statusOnError when set, the request when failOpen", async () => {
    const pol = [custom("ext", "ext-http", ["/api/*"])];
    const closed = await sidecar(pol, [httpProvider({ timeout: "0.1s" })], { [HTTP_CLUSTER]: slow.address });
    const r = await closed.send("/api/data");
    assert.equal(r.status, 403);
    assert.equal(r.details, "ext_authz_error");
    assert.equal(r.localReply?.body, "");
    const status = await sidecar(pol, [httpProvider({ timeout: "0.1s", statusOnError: "503" })], { [HTTP_CLUSTER]: slow.address });
    assert.equal((await status.send("/api/data")).status, 503);
    const open = await sidecar(pol, [httpProvider({ timeout: "0.1s", failOpen: true })], { [HTTP_CLUSTER]: slow.address });
    const o = await open.send("/api/data");
    assert.equal(o.status, 200);
    assert.equal(o.forwarded, true);
    assert.equal(o.filterState["meshauthz.ext_authz_result"], "error");
  });

  test("a provider that is down, or answers 5xx, follows failOpen / statusOnError", async () => {
    const pol = [custom("ext", "ext-http", ["/api/*"])];
    for (const address of [down, failing.address]) {
      const closed = await sidecar(pol, [httpProvider({ statusOnError: "401" })], { [HTTP_CLUSTER]: address });
      const r = await closed.send("/api/data");
      assert.equal(r.status, 401, address);
      assert.equal(r.details, "ext_authz_error");
      const open = await sidecar(pol, [httpProvider({ failOpen: true })], { [HTTP_CLUSTER]: address });
      assert.equal((await open.send("/api/data")).status, 200, address);
    }
  });

  test("no cluster for the provider: the call cannot be made, statusOnError applies at once", async () => {
    const s = await sidecar([custom("ext", "ext-http", ["/api/*"])], [httpProvider()], {});
    const r = await s.send("/api/data");
    assert.equal(r.status, 403);
    assert.equal(r.details, "ext_authz_error");
  });
});

describe("bad CUSTOM actions deny like istiod's generated DENY rules", () => {
  test("an undefined provider", async () => {
    const s = await sidecar([custom("ext", "nope", ["/api/*"])], [httpProvider()], { [HTTP_CLUSTER]: server.address });
    assert.match(s.diagnostics.join("\n"), /available providers are \[ext-http\] but found "nope"/);
    const r = await s.send("/api/data", [["x-ext-authz", "allow"]]);
    assert.equal(r.status, 403);
    assert.equal(r.details, "rbac_access_denied_matched_policy[istio-ext-authz-nope-ns[foo]-policy[ext]-rule[0]-deny-due-to-bad-CUSTOM-action]");
    assert.equal((await s.send("/health")).status, 200);
  });

  test("two providers on one workload (PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS off): providers in name order", async () => {
    const pols = [custom("b-pol", "ext-http", ["/api/*"]), custom("a-pol", "zz-http", ["/api/data"])];
    const s = await sidecar(pols, [httpProvider(), httpProvider({}, "zz-http")], { [HTTP_CLUSTER]: server.address });
    const n = server.received.length;
    const r = await s.send("/api/data", [["x-ext-authz", "allow"]]);
    assert.equal(server.received.length, n);
    assert.equal(r.details, "rbac_access_denied_matched_policy[istio-ext-authz-ext-http-ns[foo]-policy[b-pol]-rule[0]-deny-due-to-bad-CUSTOM-action]");
  });

  test("an invalid provider (single wildcard in headersToUpstreamOnAllow)", async () => {
    const s = await sidecar([custom("ext", "ext-http", ["/api/*"])], [httpProvider({ headersToUpstreamOnAllow: ["*"] })], { [HTTP_CLUSTER]: server.address });
    assert.match(s.diagnostics.join("\n"), /found errors in provider ext-http: .*a single wildcard/);
    assert.equal((await s.send("/api/data", [["x-ext-authz", "allow"]])).status, 403);
  });
});
