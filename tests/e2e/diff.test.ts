// `meshauthz diff` replays requests through the .wasm with two policy sets.
import assert from "node:assert/strict";
import { mkdirSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { lastJsonLine, meshauthz, REPO, tempFile } from "./cli-runner.ts";

const SEED = join(REPO, "deploy/examples/seed");

function seedSets(): { before: string; after: string } {
  const dir = tempFile("sets", "").replace(/sets$/, "");
  const before = join(dir, "before");
  const after = join(dir, "after");
  mkdirSync(before, { recursive: true });
  mkdirSync(after, { recursive: true });
  copyFileSync(join(SEED, "manifests/allow-frontend-get-data.yaml"), join(before, "allow.yaml"));
  copyFileSync(join(SEED, "manifests/allow-frontend-get-data.yaml"), join(after, "allow.yaml"));
  copyFileSync(join(SEED, "manifests/deny-all-backend.yaml"), join(after, "deny.yaml"));
  return { before, after };
}

test("diff on the seed reports exactly the flip of frontend's GET /api/v1/data to DENY by deny-all-backend", () => {
  const { before, after } = seedSets();
  const r = meshauthz(["diff", "--before", before, "--after", after, "--requests", join(SEED, "seed-cases.yaml"), "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const report = lastJsonLine(r.stdout);
  assert.equal(report.groups.length, 1);
  const g = report.groups[0];
  assert.equal(g.change, "allow-to-deny");
  assert.equal(g.certainty, "certain");
  assert.equal(g.before.by, "ns[default]-policy[allow-frontend-get-data]-rule[0]");
  assert.deepEqual(g.after, { decision: "DENY", by: "ns[default]-policy[deny-all-backend]-rule[0]" });
  assert.ok(g.examples.every((e: { request: string }) => e.request.startsWith("GET /api/v1/data ")), JSON.stringify(g.examples));
  assert.equal(report.changed, g.count);
  assert.equal(report.unchanged, report.requests - g.count);
});

test("--fail-on gates on the kind of change", () => {
  const { before, after } = seedSets();
  const args = ["diff", "--before", before, "--after", after, "--requests", join(SEED, "seed-cases.yaml")];
  assert.equal(meshauthz([...args, "--fail-on", "allow-to-deny"]).status, 1);
  assert.equal(meshauthz([...args, "--fail-on", "any"]).status, 1);
  assert.equal(meshauthz([...args, "--fail-on", "deny-to-allow"]).status, 0);
  // Reversed, the change loosens: deny-to-allow fires.
  const rev = ["diff", "--before", after, "--after", before, "--requests", join(SEED, "seed-cases.yaml")];
  assert.equal(meshauthz([...rev, "--fail-on", "deny-to-allow"]).status, 1);
  const bad = meshauthz([...args, "--fail-on", "sometimes"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--fail-on takes/);
});

/** A line as Istio's JSON access log writes it (EnvoyJSONLogFormatIstio keys, telemetry_logging.go). */
function istioJsonLine(over: Record<string, unknown>): string {
  return JSON.stringify({
    start_time: "2026-12-01T10:00:00.000Z",
    route_name: "default",
    method: "GET",
    path: "/api/v1/data",
    protocol: "HTTP/1.1",
    response_code: 200,
    response_flags: "-",
    response_code_details: "via_upstream",
    connection_termination_details: null,
    upstream_transport_failure_reason: null,
    bytes_received: 0,
    bytes_sent: 42,
    duration: 3,
    upstream_service_time: "2",
    x_forwarded_for: null,
    user_agent: "curl/8.5.0",
    request_id: "5b1c1c4e-4f5a-4c8e-9b0a-1f6e2d3c4b5a",
    authority: "backend.default.svc.cluster.local:8080",
    upstream_host: "10.244.2.20:8080",
    upstream_cluster: "inbound|8080||",
    upstream_local_address: "127.0.0.6:41235",
    downstream_local_address: "10.244.2.20:8080",
    downstream_remote_address: "10.244.1.10:51234",
    requested_server_name: "outbound_.8080_._.backend.default.svc.cluster.local",
    ...over,
  });
}

test("diff reads Istio JSON access logs; a flip that depends on the unlogged principal is possible, never certain", () => {
  const { before, after } = seedSets();
  const log = tempFile(
    "backend-access.log",
    [
      istioJsonLine({}),
      istioJsonLine({ method: "POST" }),
      // Outbound traffic of the same sidecar is not a request to this workload.
      istioJsonLine({ upstream_cluster: "outbound|80||other.default.svc.cluster.local" }),
    ].join("\n") + "\n",
  );
  const r = meshauthz(["diff", "--before", before, "--after", after, "--requests", log, "--workload", "default/app=backend", "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const report = lastJsonLine(r.stdout);
  assert.equal(report.requests, 2);
  assert.equal(report.skipped.length, 1);
  assert.equal(report.certain, 0);
  assert.equal(report.possible, 1);
  const g = report.groups[0];
  assert.equal(g.certainty, "possible");
  assert.deepEqual(g.missing, ["source.principal"]);
  assert.match(g.examples[0].assuming, /source\.principal=spiffe:\/\/cluster\.local\/ns\/default\/sa\/frontend/);
  assert.equal(g.after.by, "ns[default]-policy[deny-all-backend]-rule[0]");
});

test("with the principal logged (%DOWNSTREAM_PEER_URI_SAN%) the same flip is certain", () => {
  const { before, after } = seedSets();
  const log = tempFile(
    "backend-access-ext.log",
    [
      istioJsonLine({ source_principal: "spiffe://cluster.local/ns/default/sa/frontend", jwt_payload: null }),
      istioJsonLine({ source_principal: "spiffe://cluster.local/ns/default/sa/other", jwt_payload: null }),
    ].join("\n"),
  );
  const r = meshauthz(["diff", "--before", before, "--after", after, "--requests", log, "--workload", "default/app=backend", "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const report = lastJsonLine(r.stdout);
  assert.equal(report.certain, 1);
  assert.equal(report.possible, 0);
  assert.equal(report.unchanged, 1);
});

test("diff reads Istio's and Envoy's default text formats", () => {
  const { before, after } = seedSets();
  const istio =
    '[2026-12-01T10:00:00.000Z] "GET /api/v1/data HTTP/1.1" 200 - via_upstream - "-" 0 42 3 2 "-" "curl/8.5.0" "5b1c" ' +
    '"backend.default.svc.cluster.local:8080" "10.244.2.20:8080" inbound|8080|| 127.0.0.6:41235 10.244.2.20:8080 10.244.1.10:51234 outbound_.8080_._.backend.default.svc.cluster.local default';
  const envoy = '[2026-12-01T10:00:00.000Z] "GET /api/v1/other HTTP/1.1" 200 - 0 42 3 2 "-" "curl/8.5.0" "5b1d" "backend.default.svc.cluster.local" "10.244.2.20:8080"';
  const log = tempFile("text-access.log", `${istio}\n${envoy}\n`);
  const r = meshauthz(["diff", "--before", before, "--after", after, "--requests", log, "--workload", "default/app=backend", "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const report = lastJsonLine(r.stdout);
  assert.equal(report.requests, 2);
  // /api/v1/data could flip (if it came from frontend); /api/v1/other is denied before and after.
  assert.equal(report.possible, 1);
  assert.equal(report.unchanged, 1);
});

test("a log without a workload is a clear error", () => {
  const { before, after } = seedSets();
  const log = tempFile("nowl.log", istioJsonLine({}));
  const r = meshauthz(["diff", "--before", before, "--after", after, "--requests", log]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /nowl\.log:1: which workload wrote this log\? Pass --workload/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
});

test("CUSTOM: the provider is really asked; an answer the source does not give makes the change possible", () => {
  const custom = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext, namespace: shop}
spec:
  action: CUSTOM
  provider: {name: authz}
  rules: [{to: [{operation: {paths: ["/admin*"]}}]}]
`;
  const deny = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin-put, namespace: shop}
spec:
  action: DENY
  rules: [{to: [{operation: {methods: ["PUT"], paths: ["/admin*"]}}]}]
`;
  const before = tempFile("custom-before.yaml", custom);
  const after = tempFile("custom-after.yaml", `${custom}---\n${deny}`);
  const cases = tempFile(
    "custom-cases.yaml",
    `cases:
- id: put-provider-allows
  workload: {namespace: shop, labels: {app: cart}}
  request: {method: PUT, path: /admin/x, host: cart.shop, ext_authz_decision: allow}
  expected: {decision: DENY}
- id: put-provider-denies
  workload: {namespace: shop, labels: {app: cart}}
  request: {method: PUT, path: /admin/y, host: cart.shop, ext_authz_decision: deny}
  expected: {decision: DENY}
`,
  );
  const request = tempFile("custom-request.yaml", "workload: {namespace: shop, labels: {app: cart}}\nrequest: {method: PUT, path: /admin/z, host: cart.shop}\n");
  const r = meshauthz(["diff", "--before", before, "--after", after, "--requests", cases, "--requests", request, "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /CUSTOM providers authz are assumed to exist/);
  const report = lastJsonLine(r.stdout);
  assert.equal(report.requests, 3);
  // The provider allowed: the new DENY now decides. It denied: denied before and after.
  assert.equal(report.certain, 1);
  assert.equal(report.possible, 1);
  const certain = report.groups.find((g: { certainty: string }) => g.certainty === "certain");
  assert.deepEqual(certain.after, { decision: "DENY", by: "ns[shop]-policy[deny-admin-put]-rule[0]" });
  const possible = report.groups.find((g: { certainty: string }) => g.certainty === "possible");
  assert.deepEqual(possible.missing, ["ext_authz provider answer"]);
  assert.match(possible.examples[0].assuming, /the ext_authz provider answers allow/);
});

test("a log line cut mid-way (rotation, a copy while Envoy writes) is skipped and counted; the other lines are replayed", () => {
  const { before, after } = seedSets();
  const full = istioJsonLine({});
  const log = tempFile("cut.log", `${full}\n${istioJsonLine({ method: "POST" })}\n${full.slice(0, 80)}`);
  const r = meshauthz(["diff", "--before", before, "--after", after, "--requests", log, "--workload", "default/app=backend", "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const report = lastJsonLine(r.stdout);
  assert.equal(report.requests, 2);
  assert.equal(report.skippedLines, 1);
  assert.equal(report.skipped[0].origin, `${log}:3`);
  assert.match(report.skipped[0].reason, /^not valid JSON/);
  const text = meshauthz(["diff", "--before", before, "--after", after, "--requests", log, "--workload", "default/app=backend"]);
  assert.match(text.stdout, /1 log line\(s\) skipped \(first .*cut\.log:3: not valid JSON/);
});

test("a diff that replays no request fails (a gate that compared nothing must not pass) unless --allow-empty", () => {
  const { before, after } = seedSets();
  const outbound = tempFile("outbound.log", `${istioJsonLine({ upstream_cluster: "outbound|80||x.default.svc.cluster.local" })}\n`);
  const noCases = tempFile("no-cases.yaml", "cases: []\n");
  for (const requests of [outbound, noCases]) {
    const args = ["diff", "--before", before, "--after", after, "--requests", requests, "--workload", "default/app=backend", "--fail-on", "any"];
    const r = meshauthz(args);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /diff replayed no request.*nothing was compared \(--allow-empty accepts this\)/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
    assert.equal(meshauthz([...args, "--allow-empty"]).status, 0);
  }
});

test("a jwt_payload that is JSON but not an object is an error naming the line", () => {
  const { before, after } = seedSets();
  const log = tempFile("jwt5.log", `${istioJsonLine({ jwt_payload: "5" })}\n`);
  const r = meshauthz(["diff", "--before", before, "--after", after, "--requests", log, "--workload", "default/app=backend"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /jwt5\.log:1: jwt_payload is not a JSON object/);
});

test("a long log is read as it is replayed: 300,000 lines, no stack overflow, every line accounted for", async () => {
  const { loadRequests } = await import("../../tools/requests/sources.ts");
  const lines = 300_000;
  const log = tempFile("long.log", `${'{"method":"GET","path":"/"}\n'.repeat(lines - 1)}{"method":"GET"}`);
  const set = loadRequests([log], { namespace: "default", labels: { app: "backend" } });
  let n = 0;
  for (const r of set.requests) if (r.request.path === "/") n++;
  assert.equal(n, lines - 1);
  assert.equal(set.skipped.total, 1);
  assert.equal(set.skipped.first[0]!.origin, `${log}:${lines}`);
});

test("-n is the namespace of policies without one, in diff and coverage as in compile (it was accepted and ignored)", () => {
  const deny = tempFile("n-deny.yaml", "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-all}\nspec:\n  action: DENY\n  rules: [{}]\n");
  const empty = tempFile("n-empty.yaml", "");
  const cases = tempFile(
    "n-cases.yaml",
    "cases:\n- id: get\n  workload: {namespace: shop, labels: {app: cart}}\n  request: {method: GET, path: /}\n  expected: {decision: DENY}\n",
  );
  const r = meshauthz(["diff", "--before", empty, "--after", deny, "--requests", cases, "-n", "shop", "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(lastJsonLine(r.stdout).certain, 1);
  const c = meshauthz(["coverage", "--policies", deny, cases, "-n", "shop", "-o", "json"]);
  assert.equal(c.status, 0, c.stderr);
  assert.equal(lastJsonLine(c.stdout).rules[0].status, "decides");
});

function portAndIpSets(): { before: string; after: string } {
  const allow = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: allow-all, namespace: default}\nspec:\n  rules: [{}]\n";
  const before = tempFile("pi-before.yaml", allow);
  const after = tempFile(
    "pi-after.yaml",
    `${allow}---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-8080, namespace: default}\nspec:\n  action: DENY\n  rules:\n  - to: [{operation: {ports: ["8080"]}}]\n` +
      `---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-ip, namespace: default}\nspec:\n  action: DENY\n  rules:\n  - from: [{source: {ipBlocks: ["10.9.0.0/16"]}}]\n`,
  );
  return { before, after };
}

test("Envoy's default format has no addresses: a change on ports or ipBlocks is possible, never certain on a default port", () => {
  const { before, after } = portAndIpSets();
  const log = tempFile("envoy-default.log", '[2026-12-01T10:00:00.000Z] "GET /x HTTP/1.1" 200 - 0 42 3 2 "-" "curl/8.5.0" "5b1d" "backend.default.svc.cluster.local" "10.244.2.20:8080"\n');
  const r = meshauthz(["diff", "--before", before, "--after", after, "--requests", log, "--workload", "default/app=backend", "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const report = lastJsonLine(r.stdout);
  assert.equal(report.certain, 0);
  assert.equal(report.possible, 1);
  assert.deepEqual(report.groups[0].missing, ["destination.port", "source.ip"]);
});

test("a text log's \"-\" is an absent value: no X-Forwarded-For header \"-\" (which made the peer address unknown)", () => {
  const { before, after } = portAndIpSets();
  const istio =
    '[2026-12-01T10:00:00.000Z] "GET /x HTTP/1.1" 200 - via_upstream - "-" 0 42 3 2 "-" "curl/8.5.0" "5b1c" ' +
    '"backend.default.svc.cluster.local:9090" "10.244.2.20:9090" inbound|9090|| 127.0.0.6:41235 10.244.2.20:9090 10.244.1.10:51234 - default';
  const log = tempFile("istio-text-dash.log", `${istio}\n`);
  const r = meshauthz(["diff", "--before", before, "--after", after, "--requests", log, "--workload", "default/app=backend", "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const report = lastJsonLine(r.stdout);
  // Port 9090 from 10.244.1.10: neither DENY rule matches, and nothing is unknown but the principal (read by no rule).
  assert.deepEqual([report.changed, report.unchanged, report.unchangedUncertain], [0, 1, 0], JSON.stringify(report.groups));
});
