// The rollout order of `meshauthz package` (docs/delivery.md): namespace plugins, then the root
// plugin, then deletions. After every single object, on every workload's sidecar (real filter,
// both instances in one chain), each workload is enforced at least as strictly as one complete
// policy set, the old or the new: over-deny is allowed, under-enforcement is not. At the end the
// decisions are exactly the new set's (Istio's, by the reference evaluator).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { EnvoyChainHost } from "../../tools/host/chain-host.ts";
import type { CaseRequest, Workload } from "../../tools/model/case-file.ts";
import type { AuthorizationPolicy } from "../../tools/model/policy.ts";
import type { DeliveryPlan } from "../../tools/package/plan.ts";
import { evaluateReference } from "../reference/evaluate.ts";
import { chainPlugins, decide, MESH, MESH_POLICIES, plan, policy, REQUESTS, sidecar } from "./mesh.ts";

const WORKLOADS: Workload[] = [
  { namespace: "ns-a", labels: { app: "backend" } },
  { namespace: "ns-a", labels: { app: "payments" } },
  { namespace: "ns-b", labels: { app: "backend" } },
  { namespace: "ns-c", labels: { app: "x" } },
  { namespace: "ns-new", labels: { app: "payments" } },
  { namespace: "istio-system", labels: { app: "gateway" } },
];

const [denyDebug, paymentsFromOps, backendFromFrontend, noAdminWrites] = MESH_POLICIES;

/** Old: a root DENY for /admin, ns-a's two policies, a DENY-POST namespace ns-c. */
const P1: AuthorizationPolicy[] = [
  denyDebug!,
  paymentsFromOps!,
  policy("istio-system", "deny-admin", { action: "DENY", rules: [{ to: [{ operation: { paths: ["/admin/*"] } }] }] }),
  backendFromFrontend!,
  noAdminWrites!,
  policy("ns-c", "deny-post", { action: "DENY", rules: [{ to: [{ operation: { methods: ["POST"] } }] }] }),
];

/** New: the root set changes (no /admin DENY, a new POST /api DENY), ns-a loses a policy, ns-b
 *  gets its first one, ns-c loses all of its own. */
const P2: AuthorizationPolicy[] = [
  denyDebug!,
  paymentsFromOps!,
  policy("istio-system", "deny-api-writes", { action: "DENY", rules: [{ to: [{ operation: { methods: ["POST"], paths: ["/api/*"] } }] }] }),
  backendFromFrontend!,
  policy("ns-b", "backend-get-only", {
    selector: { matchLabels: { app: "backend" } },
    rules: [{ from: [{ source: { principals: ["cluster.local/ns/ns-b/sa/frontend"] } }], to: [{ operation: { methods: ["GET"] } }] }],
  }),
];

type Op = { label: string; run: (h: EnvoyChainHost) => Promise<void> };

/** The objects of `to` as operations in the documented order (from = what is applied now). */
function documentedSteps(from: DeliveryPlan | null, to: DeliveryPlan): Op[] {
  const before = new Set((from?.plugins ?? []).map((p) => p.namespace));
  const plugins = chainPlugins(to);
  const ops: Op[] = plugins.map((p) => ({
    label: `${before.has(p.namespace) ? "update" : "create"} ${p.namespace}/${p.name}`,
    run: async (h) => {
      if (before.has(p.namespace)) assert.equal(h.updatePlugin(p.namespace, p.name, p.configuration), null);
      else assert.equal(await h.addPlugin(p), null);
    },
  }));
  const after = new Set(to.plugins.map((p) => p.namespace));
  for (const p of from?.plugins ?? []) {
    if (!after.has(p.namespace)) ops.push({ label: `delete ${p.namespace}/${p.name}`, run: async (h) => h.removePlugin(p.namespace, p.name) });
  }
  return ops;
}

/** Reference decisions of a policy set; null = nothing installed yet (every request passes). */
function expected(policies: AuthorizationPolicy[] | null, w: Workload, r: CaseRequest): "ALLOW" | "DENY" {
  return policies === null ? "ALLOW" : evaluateReference(policies, w, r, MESH).decision;
}

/** Runs the ops on one sidecar per workload; after each op returns the workloads enforced less
 *  strictly than both the old and the new policy set. */
async function rollout(start: DeliveryPlan | null, ops: Op[], oldSet: AuthorizationPolicy[] | null, newSet: AuthorizationPolicy[]) {
  const hosts = await Promise.all(WORKLOADS.map((w) => sidecar(w, start ? chainPlugins(start) : [])));
  const violations: string[] = [];
  for (const op of ops) {
    for (const h of hosts) await op.run(h);
    WORKLOADS.forEach((w, i) => {
      const allowed = REQUESTS.filter((r) => decide(hosts[i]!, r).decision === "ALLOW");
      const within = (set: AuthorizationPolicy[] | null) => allowed.every((r) => expected(set, w, r) === "ALLOW");
      // Installing (no old set): a sidecar with no instance yet is as before; one with any instance
      // must already enforce at least the new set.
      const ok = oldSet === null ? hosts[i]!.chainOrder().length === 0 || within(newSet) : within(oldSet) || within(newSet);
      if (!ok) {
        const leak = allowed.find((r) => expected(newSet, w, r) === "DENY")!;
        violations.push(`after "${op.label}": ${w.namespace}/${w.labels?.app} allows ${leak.method} ${leak.path} from ${leak.source_principal}`);
      }
    });
  }
  return { hosts, violations };
}

function assertExactly(hosts: EnvoyChainHost[], set: AuthorizationPolicy[]): void {
  WORKLOADS.forEach((w, i) => {
    for (const r of REQUESTS) {
      const ref = evaluateReference(set, w, r, MESH);
      const got = decide(hosts[i]!, r);
      assert.equal(got.decision, ref.decision, `${w.namespace}/${w.labels?.app} ${r.method} ${r.path} ${r.source_principal}`);
      assert.equal(got.policy, ref.decision === "DENY" ? (ref.policy ?? "none") : ref.policy);
    }
  });
}

test("fresh install in the documented order: never less than the new set where enforced, then exactly it", async () => {
  const p = plan(P1);
  const ops = documentedSteps(null, p);
  assert.deepEqual(ops.map((o) => o.label), ["create ns-a/meshauthz", "create ns-c/meshauthz", "create istio-system/meshauthz"]);
  const { hosts, violations } = await rollout(null, ops, null, P1);
  assert.deepEqual(violations, []);
  assertExactly(hosts, P1);
  // Root first would enforce ns-a's and ns-c's workloads with the root policies only for a while.
  const rootFirst = await rollout(null, [ops[2]!, ops[0]!, ops[1]!], null, P1);
  assert.ok(rootFirst.violations.some((v) => v.startsWith('after "create istio-system/meshauthz": ns-c/x allows POST')), rootFirst.violations.join("\n"));
});

test("update P1 -> P2 in the documented order: every step within the old or the new set, then exactly P2", async () => {
  const from = plan(P1);
  const to = plan(P2);
  assert.notEqual(from.rootDigest, to.rootDigest);
  const ops = documentedSteps(from, to);
  assert.deepEqual(ops.map((o) => o.label), ["update ns-a/meshauthz", "create ns-b/meshauthz", "update istio-system/meshauthz", "delete ns-c/meshauthz"]);
  const { hosts, violations } = await rollout(from, ops, P1, P2);
  assert.deepEqual(violations, []);
  assertExactly(hosts, P2);
  // A namespace created after the rollout is covered by the root instance alone.
  const later = await sidecar({ namespace: "ns-later", labels: { app: "payments" } }, chainPlugins(to));
  assert.deepEqual(later.chainOrder(), ["istio-system/meshauthz"]);
  for (const r of REQUESTS) assert.equal(decide(later, r).decision, evaluateReference(P2, { namespace: "ns-later", labels: { app: "payments" } }, r, MESH).decision);
});

test("the check bites: the root plugin before a new namespace plugin, or a deletion first, under-enforces", async () => {
  const from = plan(P1);
  const to = plan(P2);
  const ops = documentedSteps(from, to);
  const byLabel = (l: string) => ops.find((o) => o.label === l)!;
  const rootFirst = [byLabel("update istio-system/meshauthz"), byLabel("update ns-a/meshauthz"), byLabel("create ns-b/meshauthz"), byLabel("delete ns-c/meshauthz")];
  const a = await rollout(from, rootFirst, P1, P2);
  assert.ok(a.violations.some((v) => v.startsWith('after "update istio-system/meshauthz": ns-b/backend allows')), a.violations.join("\n"));
  const deleteFirst = [byLabel("delete ns-c/meshauthz"), ...ops.filter((o) => !o.label.startsWith("delete"))];
  const b = await rollout(from, deleteFirst, P1, P2);
  assert.ok(b.violations.some((v) => v.startsWith('after "delete ns-c/meshauthz": ns-c/x allows POST')), b.violations.join("\n"));
});
