// CUSTOM case files through the .wasm (`meshauthz test`'s runner, real loopback ext_authz servers)
// and through the independent reference evaluator: both must give every expected decision.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { load } from "js-yaml";
import type { CaseFile } from "../../tools/model/case-file.ts";
import { readFilterWasm } from "../../tools/cases/filter-decision.ts";
import { runCaseFile } from "../../tools/cases/run-cases.ts";
import { resolveExtensionProviders } from "../../tools/meshconfig/providers.ts";
import { checkCase } from "../reference/conformance.ts";
import { evaluateReference } from "../reference/evaluate.ts";
import { meshFor } from "../reference/conformance.ts";

const FILE = load(readFileSync(new URL("./custom-cases.yaml", import.meta.url), "utf8")) as CaseFile;

test("CUSTOM cases: the filter, asking real ext_authz servers", async () => {
  const report = await runCaseFile(FILE, { wasm: readFilterWasm() });
  const bad = report.results.filter((r) => r.status !== "pass").map((r) => `${r.id}: ${r.reason}`);
  assert.deepEqual(bad, []);
  assert.equal(report.passed, FILE.cases!.length);
});

test("CUSTOM cases: the reference evaluator", () => {
  const mismatches = FILE.cases!.flatMap((c) => checkCase(c, FILE.meta));
  assert.deepEqual(mismatches, []);
});

test("with a mesh config that lacks the provider, filter and reference both deny as istiod does", async () => {
  const c = FILE.cases!.find((x) => x.id === "cu-x-provider-allows-allow-policy-allows")!;
  const one: CaseFile = { meta: FILE.meta, cases: [{ ...c, expected: { decision: "DENY", decided_by: "istio-ext-authz-authz-ns[istio-system]-policy[ext]-rule[0]-deny-due-to-bad-CUSTOM-action" } }] };
  const providers = resolveExtensionProviders([{ name: "other", envoyExtAuthzHttp: { service: "o.foo.svc.cluster.local", port: 80 } }]);
  const report = await runCaseFile(one, { wasm: readFilterWasm(), extensionProviders: providers });
  assert.equal(report.passed, 1, JSON.stringify(report.results));
  const r = evaluateReference(c.policies!, c.workload, c.request, { ...meshFor(FILE.meta, undefined), extAuthzProviders: [...providers.valid.keys()] });
  assert.equal(r.policy, one.cases![0].expected.decided_by);
});

test("a case whose CUSTOM rule matches but that gives no ext_authz_decision fails, naming why", async () => {
  const c = FILE.cases![0];
  const { ext_authz_decision: _, ...request } = c.request;
  const report = await runCaseFile({ meta: FILE.meta, cases: [{ ...c, request }] }, { wasm: readFilterWasm() });
  assert.equal(report.failed, 1);
  assert.match(report.results[0].reason, /no request\.ext_authz_decision/);
});
