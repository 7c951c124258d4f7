// Hostile requests (issue #5): Envoy's header limits, NUL and control bytes, ill-formed UTF-16, repeated
// headers, long SANs, IPv6 edge forms, odd X-Forwarded-For, path confusion (CVE-2019-9901, CVE-2021-31920,
// CVE-2021-39156). No trap; decisions equal the reference given the path Envoy hands the filter (BASE
// normalization, normalize.ts). Campaign: `npm run fuzz -- --hostile N`.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { readFilterWasm } from "../../tools/cases/filter-decision.ts";
import type { CaseRequest } from "../../tools/model/case-file.ts";
import type { AuthorizationPolicy } from "../../tools/model/policy.ts";
import { newStats, runScenario } from "./differential.ts";
import { hostileScenarioArb, MAX_HEADER_BYTES, MAX_HEADERS, wellFormed } from "./hostile-requests.ts";
import { normalizeBase } from "./normalize.ts";

const wasm = readFilterWasm();
const MESH = { rootNamespace: "istio-system", trustDomain: "cluster.local", trustDomainAliases: [] };
const WL = { namespace: "shop", labels: { app: "cart" } };
const BASE: CaseRequest = {
  protocol: "HTTP", method: "GET", path: "/", host: "cart.shop:8080", headers: {}, source_principal: "spiffe://cluster.local/ns/shop/sa/web",
  source_ip: "10.0.0.1", remote_ip: "10.0.0.1", destination_ip: "10.0.0.2", destination_port: 8080, sni: null, jwt: null,
};
const policy = (name: string, spec: AuthorizationPolicy["spec"]): AuthorizationPolicy => ({
  apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name, namespace: "shop" }, spec,
});

async function decide(policies: AuthorizationPolicy[], requests: CaseRequest[]) {
  const stats = newStats();
  const ms = await runScenario(wasm, { mesh: MESH, policies, workloads: [WL], requests: requests.map((request) => ({ workload: 0, request })) }, stats);
  return { ms, stats };
}

describe("BASE path normalization (what Envoy hands the filter)", () => {
  test("dot segments, escapes, backslashes, fragments; %2F kept; %00 rejected", () => {
    const cases: Array<[string, string | null]> = [
      ["/public/../admin", "/admin"], ["/public/%2e%2e/admin", "/admin"], ["/./admin", "/admin"], ["/a/b/../../admin?x=/../", "/admin?x=/../"],
      ["/%61dmin", "/admin"], ["/admin%2fx", "/admin%2Fx"], ["/admin%5Cx", "/admin%5Cx"], ["/public\\..\\admin", "/admin"], ["//admin", "//admin"],
      ["/admin;x", "/admin;x"], ["/admin#frag", "/admin"], ["/public#/../admin", "/public"], ["/admin%00", null], ["admin", null], ["/..", "/"],
      ["/\u00e9", "/%C3%A9"], ["/a b", "/a%20b"],
    ];
    for (const [raw, want] of cases) assert.equal(normalizeBase(raw), want, raw);
  });
});

describe("hostile requests", () => {
  test("path confusion (CVE-2019-9901, CVE-2021-31920, CVE-2021-39156): the filter denies what Istio denies", async () => {
    const policies = [
      policy("deny-admin", { action: "DENY", rules: [{ to: [{ operation: { paths: ["/admin", "/admin/*"] } }] }] }),
      policy("allow-all", { rules: [{}] }),
    ];
    const denied = ["/public/../admin", "/public/%2e%2e/admin", "/./admin/", "/%61dmin", "/admin#x", "/admin?x=1", "/public\\..\\admin", "/api/%2E%2E/admin/users"];
    const notDenied = ["/ADMIN", "//admin", "/admin%2Fx", "/public#/../admin", "/administrator"];
    const req = (raw: string): CaseRequest => ({ ...BASE, path: raw, path_normalized: normalizeBase(raw)! });
    const { ms } = await decide(policies, [...denied, ...notDenied].map(req));
    assert.deepEqual(ms.map((m) => `${m.request.path}: ${m.problems.join("; ")}`), []);
    // and the outcomes themselves (the reference could be wrong too)
    const { evaluateReference } = await import("../reference/evaluate.ts");
    for (const p of denied) assert.equal(evaluateReference(policies, WL, req(p), MESH).decision, "DENY", p);
    for (const p of notDenied) assert.equal(evaluateReference(policies, WL, req(p), MESH).decision, "ALLOW", p);
  });

  test("Envoy's limits: 100 headers and 60 KiB of headers, ill-formed UTF-16 values, 64 KiB SAN; NUL values never reach the filter", async () => {
    const policies = [
      policy("allow", { rules: [{ when: [{ key: "request.headers[x-user]", values: ["alice*"] }], from: [{ source: { principals: ["*/sa/web"] } }] }] }),
      policy("deny", { action: "DENY", rules: [{ when: [{ key: "request.headers[x-99]", values: ["*"] }] }] }),
    ];
    const many: Record<string, string> = {};
    for (let i = 0; i < MAX_HEADERS - 6; i++) many[`x-${i}`] = "v".repeat(Math.floor((MAX_HEADER_BYTES - 8192) / MAX_HEADERS));
    const raw: CaseRequest[] = [
      { ...BASE, headers: { ...many, "x-user": "alice" } },
      { ...BASE, headers: { "x-user": "alice\0bob" } },
      { ...BASE, headers: { "x-user": ["alice", "\0", "\ud800"] } },
      { ...BASE, headers: { "x-user": "\ud800alice" } },
      { ...BASE, headers: { "x-user": "alice" }, source_principal: `spiffe://cluster.local/ns/shop/sa/${"w".repeat(64 * 1024)}/sa/web` },
      { ...BASE, headers: { "x-user": "alice", "x-99": "" } },
    ];
    const reqs = raw.map((r) => wellFormed(r));
    const { ms, stats } = await decide(policies, reqs);
    assert.deepEqual(ms.map((m) => m.problems.join("; ")), []);
    assert.equal(stats.traps, 0);
    assert.equal(stats.undeliverable, 2); // a NUL in a header value: the codec answers 400 before any filter
    assert.equal(stats.allow, 2);
  });

  test("IPv6 edge forms and odd X-Forwarded-For values", async () => {
    const policies = [
      policy("allow-v6", { rules: [{ from: [{ source: { remoteIpBlocks: ["2001:db8::/32", "::ffff:10.1.2.3/128"] } }] }] }),
      policy("deny-ip", { action: "DENY", rules: [{ from: [{ source: { ipBlocks: ["192.168.0.0/16"] } }] }] }),
    ];
    const xff = (v: string, remote: string): CaseRequest => ({ ...BASE, headers: { "x-forwarded-for": v }, remote_ip: remote });
    const reqs: CaseRequest[] = [
      { ...BASE, source_ip: "2001:DB8::1", remote_ip: "2001:DB8::1" },
      { ...BASE, source_ip: "2001:0db8:0000:0000:0000:0000:0000:0001", remote_ip: "2001:0db8:0000:0000:0000:0000:0000:0001" },
      { ...BASE, source_ip: "::ffff:10.1.2.3", remote_ip: "::ffff:10.1.2.3" },
      { ...BASE, source_ip: "::", remote_ip: "::", destination_ip: "::1" },
      xff("2001:db8::5", "2001:db8::5"),
      xff("10.0.0.9, 2001:db8::5", "2001:db8::5"),
      xff("::ffff:10.1.2.3", "::ffff:10.1.2.3"),
      xff("fe80::1%eth0", BASE.source_ip!), // a zone does not parse: Envoy keeps the peer
      xff("2001:db8::5,garbage", BASE.source_ip!),
      xff("", BASE.source_ip!),
      xff(Array.from({ length: 1000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join(","), "10.0.3.231"),
      { ...BASE, source_ip: "192.168.1.1", remote_ip: "192.168.1.1" },
      { ...xff("2001:db8::5", "2001:db8::5"), source_ip: "10.9.9.9" },
    ];
    const { ms, stats } = await decide(policies, reqs);
    assert.deepEqual(ms.map((m) => `${JSON.stringify(m.request.headers)} ${m.request.source_ip}: ${m.problems.join("; ")}`), []);
    assert.equal(stats.cases, reqs.length);
  });

  test("fixed-seed sample: 1000+ hostile requests equal the reference, no trap", async (t) => {
    const stats = newStats();
    const problems: string[] = [];
    for (const sc of fc.sample(hostileScenarioArb(20), { seed: 9901, numRuns: 170 })) {
      for (const m of await runScenario(wasm, sc, stats)) problems.push(`${m.signature}: ${m.problems.join("; ")} ${JSON.stringify(m.request).slice(0, 300)}`);
    }
    t.diagnostic(JSON.stringify({ cases: stats.cases, xff: stats.xff_cases, deny: stats.deny, rule_decided: stats.rule_decided, undeliverable: stats.undeliverable, deviations: stats.deviations }));
    assert.deepEqual(problems.slice(0, 5), []);
    assert.equal(stats.traps, 0);
    assert.ok(stats.cases >= 1000, `only ${stats.cases} cases`);
  });
});

test("source.port 0 without X-Forwarded-For: the direct peer IP is unknown too (blob-format §3.3)", async () => {
  const { compilePolicyObjects } = await import("../../tools/pipeline/policy-set.ts");
  const { startFilter, decisionFromStream } = await import("../../tools/cases/filter-decision.ts");
  const { streamForRequest } = await import("../../tools/cases/request-stream.ts");
  const { evaluateReference } = await import("../reference/evaluate.ts");
  const sets: AuthorizationPolicy[][] = [
    [policy("deny-ip", { action: "DENY", rules: [{ from: [{ source: { ipBlocks: ["192.168.0.0/16"] } }] }] })],
    [policy("allow-ip", { rules: [{ from: [{ source: { ipBlocks: ["10.0.0.0/8"] } }] }] })],
    [policy("deny-not-ip", { action: "DENY", rules: [{ when: [{ key: "source.ip", notValues: ["10.0.0.0/8"] }] }] })],
  ];
  for (const policies of sets) {
    const f = await startFilter(wasm, compilePolicyObjects(policies, MESH).blob!, WL);
    const spec = streamForRequest(BASE);
    const port0 = f.host.request({ ...spec, downstreamRemote: "10.0.0.1:0" });
    const normal = f.host.request(spec);
    const d0 = decisionFromStream(port0, null);
    const d1 = decisionFromStream(normal, null);
    const ref0 = evaluateReference(policies, WL, BASE, MESH, { directPeerIpUnknown: true });
    const ref1 = evaluateReference(policies, WL, BASE, MESH);
    assert.equal(port0.trap, null);
    assert.deepEqual([d0.decision, d0.policy], [ref0.decision, ref0.policy], `${policies[0]!.metadata.name} with port 0`);
    assert.deepEqual([d1.decision, d1.policy], [ref1.decision, ref1.policy], `${policies[0]!.metadata.name} with a real port`);
  }
  // and the deviation does change these outcomes (the test is not vacuous)
  assert.notEqual(
    evaluateReference(sets[0]!, WL, BASE, MESH, { directPeerIpUnknown: true }).decision,
    evaluateReference(sets[0]!, WL, BASE, MESH).decision,
  );
});
