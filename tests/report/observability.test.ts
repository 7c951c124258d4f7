// The filter's opt-in observability (pluginConfig policyCounters, decisionLog, denyHeader), in the
// Envoy-like host with the real .wasm.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readFilterWasm, startFilter } from "../../tools/cases/filter-decision.ts";
import { streamForRequest } from "../../tools/cases/request-stream.ts";
import type { AuthorizationPolicy } from "../../tools/model/policy.ts";
import { DEFAULT_MESH } from "../../tools/model/policy.ts";
import { compilePolicyObjects } from "../../tools/pipeline/policy-set.ts";
import { pluginConfigFor } from "../../tools/pipeline/plugin-config.ts";

const ap = (name: string, ns: string, spec: AuthorizationPolicy["spec"]): AuthorizationPolicy => ({
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { name, namespace: ns },
  spec,
});

const POLICIES = [
  ap("deny-admin", "shop", { action: "DENY", rules: [{ to: [{ operation: { paths: ["/admin"] } }] }, { to: [{ operation: { paths: ["/debug"] } }] }] }),
  ap("allow-get", "shop", { rules: [{ to: [{ operation: { methods: ["GET"] } }] }] }),
  ap("other-ns", "billing", { action: "DENY", rules: [{}] }),
];
const WORKLOAD = { namespace: "shop", labels: { app: "cart" } };

async function sidecar(options: Record<string, unknown>, policies = POLICIES) {
  const compiled = compilePolicyObjects(policies, DEFAULT_MESH);
  assert.ok(compiled.blob);
  return startFilter(readFilterWasm(), JSON.stringify({ ...pluginConfigFor(compiled.blob), ...options }), WORKLOAD);
}

const get = (path: string, method = "GET") => ({ method, path, host: "cart.shop" });

test("policyCounters: policy counts decisions per deciding policy, only for this workload's policies", async () => {
  const f = await sidecar({ policyCounters: "policy" });
  f.decide(get("/items"));
  f.decide(get("/items"));
  f.decide(get("/admin"));
  f.decide(get("/debug"));
  f.decide(get("/items", "POST")); // denied by no ALLOW match: no policy decided
  const m = f.host.metrics();
  assert.equal(m["meshauthz.policy.shop.allow-get.allowed"], 2);
  assert.equal(m["meshauthz.policy.shop.deny-admin.denied"], 2);
  assert.equal(m["meshauthz.policy.shop.deny-admin.allowed"], 0);
  assert.ok(!Object.keys(m).some((k) => k.includes("billing")), "another namespace's policy gets no counter");
  assert.ok(!Object.keys(m).some((k) => k.includes(".rule.")));
});

test("policyCounters: rule counts per rule; off (the default) defines none", async () => {
  const f = await sidecar({ policyCounters: "rule" });
  f.decide(get("/admin"));
  f.decide(get("/debug"));
  f.decide(get("/debug"));
  const m = f.host.metrics();
  assert.equal(m["meshauthz.policy.shop.deny-admin.rule.0.denied"], 1);
  assert.equal(m["meshauthz.policy.shop.deny-admin.rule.1.denied"], 2);
  const off = await sidecar({});
  off.decide(get("/admin"));
  assert.ok(!Object.keys(off.host.metrics()).some((k) => k.startsWith("meshauthz.")));
});

test("policyCounters over the cardinality guard are off, with a warning, and decisions unchanged", async () => {
  const many = Array.from({ length: 501 }, (_, i) => ap(`deny-${i}`, "shop", { action: "DENY", rules: [{ to: [{ operation: { paths: [`/p${i}`] } }] }] }));
  const f = await sidecar({ policyCounters: "policy" }, many);
  assert.equal(f.decide(get("/p7")).decision, "DENY");
  assert.ok(!Object.keys(f.host.metrics()).some((k) => k.startsWith("meshauthz.")));
  assert.ok(f.host.logs.some((l) => l.level === 3 && /would define 1002 counters on this workload, over the limit of 1000/.test(l.message)));
  const under = await sidecar({ policyCounters: "policy" }, many.slice(0, 500));
  under.decide(get("/p7"));
  assert.equal(under.host.metrics()["meshauthz.policy.shop.deny-7.denied"], 1);
});

test("decisionLog logs the decision and deciding rule at the chosen level", async () => {
  const f = await sidecar({ decisionLog: "debug" });
  f.host.logs.length = 0;
  f.decide(get("/admin"));
  f.decide(get("/items"));
  f.decide(get("/items", "PUT"));
  const lines = f.host.logs.filter((l) => l.message.startsWith("meshauthz: ")).map((l) => [l.level, l.message]);
  assert.deepEqual(lines, [
    [1, "meshauthz: DENY GET /admin by ns[shop]-policy[deny-admin]-rule[0]"],
    [1, "meshauthz: ALLOW GET /items by ns[shop]-policy[allow-get]-rule[0]"],
    [1, "meshauthz: DENY PUT /items (no ALLOW rule matched)"],
  ]);
  const quiet = await sidecar({});
  quiet.host.logs.length = 0;
  quiet.decide(get("/admin"));
  assert.equal(quiet.host.logs.length, 0);
});

test("denyHeader names the deciding rule on denials only; off by default", async () => {
  const f = await sidecar({ denyHeader: true });
  const denied = f.host.request(streamForRequest(get("/admin")));
  assert.equal(denied.status, 403);
  assert.deepEqual(denied.responseHeaders?.find(([k]) => k === "x-meshauthz-denied-by"), ["x-meshauthz-denied-by", "ns[shop]-policy[deny-admin]-rule[0]"]);
  assert.equal(denied.details, "rbac_access_denied_matched_policy[ns[shop]-policy[deny-admin]-rule[0]]");
  const none = f.host.request(streamForRequest(get("/items", "PUT")));
  assert.deepEqual(none.responseHeaders?.find(([k]) => k === "x-meshauthz-denied-by"), ["x-meshauthz-denied-by", "none"]);
  const allowed = f.host.request(streamForRequest(get("/items")));
  assert.equal(allowed.status, 200);
  assert.equal(allowed.responseHeaders?.find(([k]) => k === "x-meshauthz-denied-by"), undefined);
  const off = (await sidecar({})).host.request(streamForRequest(get("/admin")));
  assert.equal(off.responseHeaders?.find(([k]) => k === "x-meshauthz-denied-by"), undefined);
});

test("a bad observability option is an untrusted configuration: every request denied, logged why", async () => {
  for (const [options, why] of [
    [{ policyCounters: "yes" }, /policyCounters must be one of off, policy, rule, got "yes"/],
    [{ decisionLog: "loud" }, /decisionLog must be one of off, trace, debug, info, warn, error, critical, got "loud"/],
    [{ denyHeader: "true" }, /member "denyHeader" is not true or false/],
    [{ policyCounters: 1 }, /member "policyCounters" is not a string/],
  ] as const) {
    const f = await sidecar(options);
    const d = f.decide(get("/items"));
    assert.equal(d.decision, "DENY", JSON.stringify(options));
    assert.match(d.config_error ?? "", why);
  }
});
