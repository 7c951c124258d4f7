// `meshauthz lint --workloads`: policies against the workloads they are meant for.
import assert from "node:assert/strict";
import { test } from "node:test";
import { lastJsonLine, meshauthz, tempFile } from "./cli-runner.ts";

const PODS = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: cart-5f7c, namespace: shop, labels: {app: cart, pod-template-hash: 5f7c}}
  spec: {containers: [{name: app, image: cart, ports: [{containerPort: 8080}]}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: web-1, namespace: shop, labels: {app: web}}
  spec: {containers: [{name: app, image: web}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: jobs}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: report}}
        spec: {containers: [{name: r, image: r, ports: [{containerPort: 9090}]}]}
`;

const policy = (name: string, ns: string, spec: string) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec}
---
`;

function lint(policies: string): Array<{ code: string; policy: string; workload?: string; message: string }> {
  const r = meshauthz(["lint", tempFile(`p-${Math.random()}.yaml`, policies), "--workloads", tempFile(`w-${Math.random()}.yaml`, PODS), "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  return lastJsonLine(r.stdout).findings;
}

const codes = (fs: Array<{ code: string }>) => fs.map((f) => f.code).sort();

test("a selector that matches no workload fires; one that matches does not", () => {
  const fs = lint(
    policy("typo", "shop", "  selector: {matchLabels: {app: kart}}\n  action: DENY\n  rules: [{}]") +
      policy("ok", "shop", "  selector: {matchLabels: {app: cart}}\n  action: DENY\n  rules: [{to: [{operation: {paths: [/admin]}}]}]") +
      policy("root-ok", "istio-system", "  selector: {matchLabels: {app: report}}\n  action: DENY\n  rules: [{to: [{operation: {paths: [/x]}}]}]"),
  );
  assert.deepEqual(codes(fs), ["selector-matches-no-workload"]);
  assert.equal(fs[0].policy, "shop/typo");
});

test("a policy in a namespace without workloads fires", () => {
  const fs = lint(policy("lost", "shpo", "  action: DENY\n  rules: [{}]") + policy("here", "jobs", "  action: DENY\n  rules: [{to: [{operation: {paths: [/x]}}]}]"));
  assert.deepEqual(codes(fs), ["namespace-without-workloads"]);
  assert.equal(fs[0].policy, "shpo/lost");
});

test("a workload no ALLOW policy covers beside one that is covered fires; an allow-nothing namespace policy silences it", () => {
  const allowCart = policy("allow-cart", "shop", "  selector: {matchLabels: {app: cart}}\n  rules: [{from: [{source: {namespaces: [shop]}}]}]");
  const fs = lint(allowCart);
  assert.deepEqual(codes(fs), ["workload-not-covered-by-allow"]);
  assert.equal(fs[0].workload, "Pod shop/web-1");
  assert.match(fs[0].message, /Istio allows every request to it/);
  assert.deepEqual(codes(lint(allowCart + policy("allow-nothing", "shop", "  {}"))), []);
});

test("ALLOW rules that cannot reach any port of the workload fire; a rule on its port does not", () => {
  const fs = lint(policy("wrong-port", "jobs", "  selector: {matchLabels: {app: report}}\n  rules: [{to: [{operation: {ports: [\"8080\"]}}]}]"));
  assert.deepEqual(codes(fs), ["workload-denied-everything"]);
  assert.match(fs[0].message, /CronJob jobs\/report.*ports \(9090\)/);
  assert.deepEqual(codes(lint(policy("right-port", "jobs", "  selector: {matchLabels: {app: report}}\n  rules: [{to: [{operation: {ports: [\"9090\"]}}]}]"))), []);
});

test("--workloads without workloads is a clear error", () => {
  const r = meshauthz(["lint", tempFile("p0.yaml", policy("x", "shop", "  action: DENY\n  rules: [{}]")), "--workloads", tempFile("empty-w.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--workloads: no Deployment, StatefulSet/);
});
