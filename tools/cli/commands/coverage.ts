// meshauthz coverage --policies PATH... CASEFILE... [-o json] [--lcov FILE] [--fail-under PCT] [--allow-empty]
import { writeFileSync } from "node:fs";
import { readCaseFile } from "../../cases/case-file.ts";
import { readFilterWasm } from "../../cases/filter-decision.ts";
import { customProviderNames, syntheticProviders } from "../../cases/ext-authz-responder.ts";
import { coverageLcov, type CoverageCase, describeCoverage, measureCoverage } from "../../coverage/coverage.ts";
import { type LoadedPolicy, loadPolicies } from "../../parse/index.ts";
import { dirname, resolve } from "node:path";
import { compilePolicyObjects, hasErrors } from "../../pipeline/policy-set.ts";
import { UsageError, UserError } from "../errors.ts";
import { type CliValues, istioVersionFromFlags, meshFromFlags, printDiagnostics, readStdin, wantsJson } from "../options.ts";

export async function coverageCommand(positionals: string[], v: CliValues): Promise<number> {
  if (!v.policies?.length) throw new UsageError("coverage needs --policies PATH...");
  if (positionals.length === 0) throw new UsageError("coverage needs at least one CASEFILE");
  let failUnder: number | undefined;
  if (v["fail-under"] !== undefined) {
    failUnder = Number(v["fail-under"]);
    if (!Number.isFinite(failUnder) || failUnder < 0 || failUnder > 100) throw new UsageError(`--fail-under takes a percentage, not "${v["fail-under"]}"`);
  }
  const json = wantsJson(v);
  // -n and --istio-version as compile reads them.
  const loaded = loadPolicies(v.policies, { readStdin, namespace: v.namespace });
  printDiagnostics(loaded.diagnostics);
  if (hasErrors(loaded.diagnostics)) return 1;
  const mesh = meshFromFlags(v);
  const names = customProviderNames(loaded.policies.map((p) => p.policy));
  if (mesh.extensionProviders === undefined && names.length > 0) {
    // As in case files: without a mesh config, the named providers exist and answer ext_authz_decision.
    mesh.extensionProviders = syntheticProviders(names);
  }
  const compiled = compilePolicyObjects(loaded.policies.map((p) => p.policy), mesh, loaded.policies.map((p) => (path: string) => p.locate(path)), undefined, istioVersionFromFlags(v));
  if (!compiled.blob) {
    printDiagnostics(compiled.diagnostics);
    return 1;
  }
  const cases: CoverageCase[] = [];
  for (const file of positionals) {
    let cf;
    try {
      cf = readCaseFile(file);
    } catch (e) {
      throw new UserError((e as Error).message);
    }
    for (const c of cf.cases ?? []) {
      let policies: LoadedPolicy[] | null = loaded.policies;
      if (c.policies) policies = null;
      else if (c.policy_files) {
        const own = loadPolicies(c.policy_files.map((f) => resolve(dirname(file), f)));
        if (hasErrors(own.diagnostics)) {
          printDiagnostics(own.diagnostics);
          throw new UserError(`${file}: case ${c.id}: its policy_files do not load`);
        }
        policies = own.policies;
      }
      cases.push({ origin: `${file}: case ${c.id}`, case: c, policies });
    }
  }
  const report = await measureCoverage(readFilterWasm(v.wasm), loaded.policies, cases, mesh);
  if (v.lcov) writeFileSync(v.lcov, coverageLcov(report));
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${describeCoverage(report)}\n`);
  // No rule to measure (a wrong --policies path, a folder of Deployments): 0 of 0 is not 100%.
  if (report.rules.length === 0 && !v["allow-empty"]) {
    process.stderr.write(`meshauthz: --policies ${v.policies.join(" ")} has no AuthorizationPolicy rule to measure (--allow-empty accepts this)\n`);
    return 1;
  }
  if (failUnder !== undefined) {
    const n = report.rules.length;
    const pct = n ? (100 * report.rules.filter((r) => r.matched > 0).length) / n : 100;
    if (pct < failUnder) {
      process.stderr.write(`meshauthz: ${pct.toFixed(1)}% of rules matched by a case, under --fail-under ${failUnder}\n`);
      return 1;
    }
  }
  return 0;
}
