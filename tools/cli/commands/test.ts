// meshauthz test CASEFILE [--policies PATH...] [-o json] [--allow-skip] [--namespace NS] [--junit FILE]
import { writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { CaseFileError, readCaseFileChecked } from "../../cases/case-file.ts";
import { readFilterWasm } from "../../cases/filter-decision.ts";
import { runCaseFile } from "../../cases/run-cases.ts";
import { loadPolicies } from "../../parse/index.ts";
import { hasErrors } from "../../pipeline/policy-set.ts";
import { UsageError, UserError } from "../errors.ts";
import { type CliValues, istioVersionFromFlags, printDiagnostics, providersFromFlags, readStdin, wantsJson } from "../options.ts";

function describeActual(actual: unknown): string {
  const a = actual as { decision?: string; status?: number; decided_by?: string; valid?: boolean } | null;
  if (!a) return "";
  if (a.decision) return `${a.decision} (${a.status === 0 ? (a.decision === "DENY" ? "connection closed" : "connection") : a.status}) ${a.decided_by === "no-enforced-allow-policy" ? "no enforced ALLOW policy applies" : `by ${a.decided_by}`}`;
  return a.valid ? "valid" : "rejected";
}

export async function testCommand(positionals: string[], v: CliValues): Promise<number> {
  if (positionals.length !== 1) throw new UsageError("test needs exactly one CASEFILE");
  let file;
  let locate;
  try {
    const read = readCaseFileChecked(positionals[0]);
    for (const n of read.notes) process.stderr.write(`${n}\n`);
    file = read.value;
    locate = read.locate;
  } catch (e) {
    if (e instanceof CaseFileError) throw new UserError(e.message);
    throw e;
  }
  let policies;
  if (v.policies) {
    const loaded = loadPolicies(v.policies, { readStdin, namespace: v.namespace });
    printDiagnostics(loaded.diagnostics);
    if (hasErrors(loaded.diagnostics)) return 1;
    policies = loaded.policies.map((p) => p.policy);
  }
  const report = await runCaseFile(file, {
    wasm: readFilterWasm(v.wasm),
    policies,
    baseDir: dirname(resolve(positionals[0])),
    namespace: v.namespace,
    locate,
    istioVersion: istioVersionFromFlags(v),
    extensionProviders: providersFromFlags(v),
  });
  if (v.junit) {
    const { junitXml } = await import("../../ci-formats/junit.ts");
    try {
      writeFileSync(v.junit, junitXml(positionals[0], report));
    } catch (e) {
      throw new UserError(`cannot write ${v.junit}: ${(e as Error).message}`);
    }
  }
  if (wantsJson(v)) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    for (const r of report.results) {
      if (r.status === "pass" && !v.verbose) continue;
      process.stdout.write(`${r.status.toUpperCase().padEnd(4)} ${r.id}: ${r.status === "pass" ? describeActual(r.actual) : r.reason}\n`);
    }
    process.stdout.write(`${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped\n`);
  }
  // A CI gate must not go green on what it did not check.
  if (report.skipped > 0 && !v["allow-skip"]) {
    process.stderr.write(
      `meshauthz: ${report.skipped} case(s) skipped: their expectations were not checked (each SKIP line says why); ` +
        `pass --allow-skip to accept that\n`,
    );
    return 1;
  }
  return report.failed === 0 ? 0 : 1;
}
