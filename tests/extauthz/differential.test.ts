// CUSTOM in the differential: the fuzz generator's policy sets plus generated CUSTOM policies (one
// or two providers, sometimes undefined in the mesh config), each request answered allow/deny by a
// real loopback ext_authz server; the filter must agree with the independent reference evaluator.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { readFilterWasm, startFilter } from "../../tools/cases/filter-decision.ts";
import { CaseAuthorizer, syntheticProviders } from "../../tools/cases/ext-authz-responder.ts";
import type { AuthorizationPolicy, MeshSettings } from "../../tools/model/policy.ts";
import type { CaseRequest } from "../../tools/model/case-file.ts";
import { compilePolicyObjects } from "../../tools/pipeline/policy-set.ts";
import { pluginConfigJson } from "../../tools/pipeline/plugin-config.ts";
import { scenarioArb } from "../fuzz/arbitraries.ts";
import { judge } from "../fuzz/differential.ts";

const wasm = readFilterWasm();

// The fuzz generator also makes requests Envoy's connection manager rejects before any filter runs
// (no :authority, no :path or one not starting with /, whitespace or control bytes in the path, a
// method or header name that is not an HTTP token, CR/LF/NUL in a value): the provider can never be
// asked about those, so they are left out here (the HTTP differential covers them).
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
function deliverable(r: CaseRequest): boolean {
  if (r.path === undefined || !r.path.startsWith("/") || /[\s\x00-\x1f\x7f]/.test(r.path) || !r.host || (r.method !== undefined && !TOKEN.test(r.method))) return false;
  for (const [k, v] of Object.entries(r.headers ?? {})) {
    if (!TOKEN.test(k)) return false;
    for (const x of Array.isArray(v) ? v : [v]) if (/[\r\n\0]/.test(String(x))) return false;
  }
  return true;
}

interface CustomGen {
  namespace: number;
  provider: "authz" | "zz-authz";
  /** Each rule is built from one of the scenario's requests (so that CUSTOM rules do match), using
   *  some of its fields, possibly negated. */
  rules: Array<{ request: number; fields: Array<"methods" | "paths" | "prefix" | "ports" | "notPaths"> }>;
}

const customArb: fc.Arbitrary<CustomGen[]> = fc.array(
  fc.record({
    namespace: fc.nat(3),
    provider: fc.constantFrom<CustomGen["provider"]>("authz", "authz", "authz", "authz", "zz-authz"),
    rules: fc.array(
      fc.record({ request: fc.nat(10), fields: fc.subarray(["methods", "paths", "prefix", "ports", "notPaths"] as const) }),
      { minLength: 1, maxLength: 3 },
    ),
  }),
  { minLength: 1, maxLength: 2 },
);

function ruleFrom(req: CaseRequest, fields: CustomGen["rules"][number]["fields"]): Record<string, unknown> {
  const path = (req.path_normalized ?? req.path ?? "/").split(/[?#]/)[0];
  const op: Record<string, unknown> = {};
  for (const f of fields) {
    if (f === "methods" && req.method) op.methods = [req.method];
    if (f === "paths" && path) op.paths = [path];
    if (f === "prefix" && path.length > 1) op.paths = [`${path.slice(0, Math.ceil(path.length / 2))}*`];
    if (f === "ports" && req.destination_port) op.ports = [String(req.destination_port)];
    if (f === "notPaths") op.notPaths = ["/never-requested"];
  }
  return Object.keys(op).length === 0 ? {} : { to: [{ operation: op }] };
}

test("CUSTOM differential (fixed seed): filter with real ext_authz servers vs reference", async (t) => {
  let cases = 0;
  let consulted = 0;
  let badCustom = 0;
  const mismatches: string[] = [];
  await fc.assert(
    fc.asyncProperty(
      scenarioArb({ maxPolicies: 4, requests: 6 }),
      customArb,
      fc.boolean(),
      fc.array(fc.constantFrom<"allow" | "deny">("allow", "deny"), { minLength: 6, maxLength: 6 }),
      async (sc, customs, zzDefined, decisions) => {
        const namespaces = [...new Set([...sc.workloads.map((w) => w.namespace), sc.mesh.rootNamespace])].filter((n) => n !== "");
        const custom: AuthorizationPolicy[] = customs.map((c, i) => ({
          apiVersion: "security.istio.io/v1",
          kind: "AuthorizationPolicy",
          metadata: { name: `custom-${i}`, namespace: namespaces.length > 0 ? namespaces[c.namespace % namespaces.length] : "default" },
          spec: { action: "CUSTOM", provider: { name: c.provider }, rules: c.rules.map((r) => ruleFrom(sc.requests[r.request % sc.requests.length].request, r.fields)) },
        }) as AuthorizationPolicy);
        const policies = [...sc.policies, ...custom];
        const defined = zzDefined ? ["authz", "zz-authz"] : ["authz"];
        const providers = syntheticProviders(defined);
        const compiled = compilePolicyObjects(policies, { ...sc.mesh, extensionProviders: providers });
        assert.ok(compiled.blob, compiled.diagnostics.filter((d) => d.severity === "error").map((d) => d.message).join("; "));
        const authorizer = await CaseAuthorizer.start([...providers.valid.values()]);
        try {
          for (let w = 0; w < sc.workloads.length; w++) {
            const workload = sc.workloads[w];
            const filter = await startFilter(wasm, pluginConfigJson(compiled.blob!), workload, false, { clusters: authorizer.clusters });
            for (const [k, g] of sc.requests.entries()) {
              if (g.workload % sc.workloads.length !== w || !deliverable(g.request)) continue;
              const request = { ...g.request, ext_authz_decision: decisions[k % decisions.length] };
              authorizer.decision = request.ext_authz_decision;
              const before = authorizer.consulted;
              const d = await filter.decideAsync(request);
              const mesh = { ...sc.mesh, extAuthzProviders: defined } as MeshSettings;
              const obs = { decision: d.decision, policy: d.policy, shadow: d.shadow, audit: d.audit, status: d.status, details: "", trap: null };
              // judge: Istio's decision, or one of the filter's documented deviations (tests/fuzz/differential.ts).
              const v = judge(policies, workload, request, mesh, obs);
              const ref = v.reference;
              cases++;
              if (authorizer.consulted > before) consulted++;
              if (ref.policy?.endsWith("-deny-due-to-bad-CUSTOM-action")) badCustom++;
              const problems = v.deviation ? [] : v.problems.filter((p) => !p.startsWith("status "));
              if (problems.length > 0) mismatches.push(`${JSON.stringify({ policies, workload, request })}: ${problems.join("; ")}`);
            }
          }
        } finally {
          await authorizer.close();
        }
      },
    ),
    { seed: 20261205, numRuns: 80 },
  );
  t.diagnostic(JSON.stringify({ cases, consulted, badCustom }));
  assert.deepEqual(mismatches.slice(0, 3), []);
  assert.ok(consulted > cases / 10, `the provider was consulted in only ${consulted} of ${cases} cases`);
  assert.ok(badCustom > 0, "no bad-CUSTOM denial exercised");
});
