// Generated, realistic policy sets for the benchmark.
// "mesh": N policies spread over N/10 namespaces, most selecting other workloads, a few
// mesh-wide ones in the root namespace; the benchmarked sidecar (ns-0, app=svc-0) keeps its own.
// "one-workload": every rule applies to the benchmarked sidecar (the worst case for a scan).
import type { CaseRequest, Workload } from "../model/case-file.ts";
import type { AuthorizationPolicy, Rule } from "../model/policy.ts";

export const BENCH_WORKLOAD: Workload = { namespace: "ns-0", labels: { app: "svc-0", version: "v1" } };

/** A small deterministic PRNG so every run benchmarks the same policies. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"];

function policy(ns: string, name: string, spec: AuthorizationPolicy["spec"]): AuthorizationPolicy {
  return { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name, namespace: ns }, spec };
}

function serviceRule(rand: () => number, ns: string, svc: number, i: number): Rule {
  const callerNs = `ns-${Math.floor(rand() * 50)}`;
  const rule: Rule = {
    from: [{ source: { principals: [`cluster.local/ns/${callerNs}/sa/caller-${svc}-${i}`, `cluster.local/ns/${ns}/sa/peer-${i}`] } }],
    to: [{ operation: { methods: [METHODS[i % METHODS.length], "GET"], paths: [`/api/v${1 + (i % 3)}/svc-${svc}/res-${i}/*`, `/health-${i}`] } }],
  };
  if (i % 4 === 3) rule.when = [{ key: "request.headers[x-tenant]", values: [`tenant-${i}`, `team-${svc}-*`] }];
  return rule;
}

/** N policies, most for other workloads. */
export function meshPolicies(n: number, seed = 1, namespaces = Math.max(1, Math.floor(n / 10))): AuthorizationPolicy[] {
  const rand = prng(seed);
  const out: AuthorizationPolicy[] = [
    policy("istio-system", "deny-debug-paths", { action: "DENY", rules: [{ to: [{ operation: { paths: ["/debug/*", "/admin/*"] } }] }] }),
  ];
  for (let k = 0; out.length < n; k++) {
    const ns = `ns-${k % namespaces}`;
    const svc = Math.floor(k / namespaces);
    const rules = Array.from({ length: 1 + (k % 3) }, (_, i) => serviceRule(rand, ns, svc, i));
    const action = k % 7 === 6 ? "DENY" : "ALLOW";
    out.push(policy(ns, `svc-${svc}-${action.toLowerCase()}-${k}`, { selector: { matchLabels: { app: `svc-${svc}` } }, action, rules }));
  }
  return out;
}

/** `rules` rules, all applying to BENCH_WORKLOAD, 10 per policy. */
export function oneWorkloadPolicies(rules: number, seed = 2): AuthorizationPolicy[] {
  const rand = prng(seed);
  const out: AuthorizationPolicy[] = [];
  for (let p = 0; p * 10 < rules; p++) {
    out.push(
      policy("ns-0", `svc-0-allow-${p}`, {
        selector: { matchLabels: { app: "svc-0" } },
        rules: Array.from({ length: Math.min(10, rules - p * 10) }, (_, i) => serviceRule(rand, "ns-0", 0, p * 10 + i)),
      }),
    );
  }
  return out;
}

/** Requests to BENCH_WORKLOAD: allowed by an early rule, by a late rule, and denied after a full miss. */
export function benchRequests(ruleCount: number): CaseRequest[] {
  const make = (i: number, path: string, method = "GET"): CaseRequest => ({
    method,
    path,
    host: "svc-0.ns-0.svc.cluster.local:8080",
    headers: { "x-tenant": `tenant-${i}`, "user-agent": "bench/1.0", "x-request-id": "5b8f2c1e-1111-2222-3333-444455556666" },
    source_principal: `spiffe://cluster.local/ns/ns-0/sa/peer-${i}`,
    source_ip: "10.244.1.10",
    destination_ip: "10.244.2.20",
    destination_port: 8080,
    sni: "outbound_.8080_._.svc-0.ns-0.svc.cluster.local",
  });
  const last = Math.max(0, ruleCount - 1);
  return [
    make(0, "/api/v1/svc-0/res-0/items?page=2"),
    make(last, `/api/v${1 + (last % 3)}/svc-0/res-${last}/items`),
    make(ruleCount + 7, "/api/v9/nowhere", "POST"),
  ];
}
