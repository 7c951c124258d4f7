// The CLI as operators and CI pipelines use it: inputs in every shape, clear errors, exit codes.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { lastJsonLine, meshauthz, tempFile } from "./cli-runner.ts";

const ALLOW_GET = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-get, namespace: shop}
spec:
  rules:
  - to: [{operation: {methods: ["GET"]}}]
`;

const REQUEST = (method: string) => `workload: {namespace: shop, labels: {app: cart}}
request:
  method: ${method}
  path: /items?page=2
  host: cart.shop:8080
  source_principal: spiffe://cluster.local/ns/shop/sa/web
  source_ip: 10.0.0.5
`;

test("compile writes a blob and check evaluates it through the filter", () => {
  const policy = tempFile("allow-get.yaml", ALLOW_GET);
  const blob = tempFile("out.blob", "");
  const c = meshauthz(["compile", policy, "-o", blob]);
  assert.equal(c.status, 0, c.stderr);
  assert.equal(readFileSync(blob).subarray(0, 4).toString("latin1"), "MAZB");
  const get = meshauthz(["check", "--blob", blob, "--request", tempFile("get.yaml", REQUEST("GET")), "-o", "json"]);
  assert.equal(get.status, 0, get.stderr);
  assert.deepEqual(lastJsonLine(get.stdout), {
    decision: "ALLOW", status: 200, policy: "ns[shop]-policy[allow-get]-rule[0]", shadow: {}, audit: false,
  });
  const post = meshauthz(["check", "--policies", policy, "--request", tempFile("post.yaml", REQUEST("POST")), "-o", "json"]);
  assert.deepEqual(lastJsonLine(post.stdout), { decision: "DENY", status: 403, policy: "none", shadow: {}, audit: false });
});

test("compile reads stdin, multi-document streams and kind: List", () => {
  const list = `apiVersion: v1
kind: List
items:
- ${ALLOW_GET.replace(/\n/g, "\n  ").replace("allow-get", "from-list")}
`;
  const multi = `${ALLOW_GET}---\n${ALLOW_GET.replace("allow-get", "second")}`;
  const out = tempFile("stdin.blob", "");
  const r = meshauthz(["compile", "-", tempFile("list.yaml", list), "-o", out], multi);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /compiled 3 policies/);
});

test("bad YAML is reported with file:line:col and exit 1", () => {
  const bad = tempFile("bad.yaml", "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: x\n");
  const r = meshauthz(["compile", bad, "-o", tempFile("never.blob", "")]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad\.yaml:\d+:\d+: error/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
});

test("a typo in a field is an error with its path and position", () => {
  const typo = tempFile("typo.yaml", ALLOW_GET.replace("to: [{operation: {methods:", "to: [{operation: {method:"));
  const r = meshauthz(["compile", typo, "-o", tempFile("never2.blob", "")]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /typo\.yaml:6:\d+: error: .*spec\.rules\[0\]\.to\[0\]\.operation\.method/);
});

test("check on a blob the filter cannot trust reports the denial and why", () => {
  const garbage = tempFile("garbage.blob", Buffer.from("MAZB this is not a policy blob at all"));
  const r = meshauthz(["check", "--blob", garbage, "--request", tempFile("req.yaml", REQUEST("GET")), "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const d = lastJsonLine(r.stdout);
  assert.equal(d.decision, "DENY");
  assert.equal(d.status, 403);
  assert.equal(typeof d.config_error, "string");
  assert.ok(d.config_error.length > 0);
});

test("usage errors exit 2", () => {
  assert.equal(meshauthz(["compile"]).status, 2);
  assert.equal(meshauthz(["frobnicate"]).status, 2);
  assert.equal(meshauthz(["check", "--request", "x.yaml"]).status, 2);
});

test("a path that cannot be written or read is exit 1 with the path, never a stack trace", () => {
  const policies = tempFile("fs-allow.yaml", ALLOW_GET);
  const cases = tempFile("fs-cases.yaml", "cases:\n- id: get\n  workload: {namespace: shop, labels: {app: cart}}\n  request: {method: GET, path: /}\n  expected: {decision: ALLOW}\n");
  const dir = tempFile("fs-a-folder", "").replace(/fs-a-folder$/, "");
  const runs: Array<[string[], RegExp]> = [
    [["package", policies, "--url", "https://files.example.com/m.wasm", "-o", "/nonexistent-dir/w.yaml"], /ENOENT.*\/nonexistent-dir\/w\.yaml/],
    [["package", policies, "--url", "oci://registry.example.com/m:1", "--oci-layout", "/dev/null/image", "-o", "-"], /ENOTDIR.*\/dev\/null\/image/],
    [["coverage", "--policies", policies, cases, "--lcov", "/nonexistent-dir/c.lcov"], /ENOENT.*\/nonexistent-dir\/c\.lcov/],
    [["diff", "--before", policies, "--after", policies, "--requests", dir], /cannot read: EISDIR/],
  ];
  for (const [args, message] of runs) {
    const r = meshauthz(args);
    assert.equal(r.status, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, r.stderr);
  }
});

test("test on a case file without cases fails (nothing was checked) unless --allow-empty", () => {
  const empty = tempFile("no-cases.yaml", "cases: []\nvalidation_cases: []\n");
  const r = meshauthz(["test", empty]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /has no case: nothing was checked \(--allow-empty accepts this\)/);
  assert.equal(meshauthz(["test", empty, "--allow-empty"]).status, 0);
});

test("a gate flag given to a command that does not read it is a usage error, not a silently passing gate", () => {
  const policies = tempFile("gate-flag.yaml", ALLOW_GET);
  const cases = tempFile("gate-flag-cases.yaml", "cases:\n- id: get\n  workload: {namespace: shop, labels: {app: cart}}\n  request: {method: GET, path: /}\n  expected: {decision: ALLOW}\n");
  for (const args of [
    ["lint", policies, "--fail-on", "any"],
    ["test", cases, "--policies", policies, "--fail-under", "100"],
    ["coverage", "--policies", policies, cases, "--allow-skip"],
    ["check", "--policies", policies, "--request", tempFile("gate-req.yaml", REQUEST("GET")), "--allow-empty"],
  ]) {
    const r = meshauthz(args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /does not apply to/);
  }
  assert.equal(meshauthz(["test", cases, "--policies", policies, "--allow-skip", "--allow-empty"]).status, 0);
});
