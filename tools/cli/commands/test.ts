// meshauthz test CASEFILE [--policies PATH...] [-o json]
import { dirname, resolve } from "node:path";
import { CaseFileError, readCaseFile } from "../../cases/case-file.ts";
import { readFilterWasm } from "../../cases/filter-decision.ts";
import { runCaseFile } from "../../cases/run-cases.ts";
import { loadPolicies } from "../../parse/index.ts";
import { hasErrors } from "../../pipeline/policy-set.ts";
import { UsageError, UserError } from "../errors.ts";
import { type CliValues, printDiagnostics, readStdin, wantsJson } from "../options.ts";

function describeActual(actual: unknown): string {
  const a = actual as { decision?: string; status?: number; decided_by?: string; valid?: boolean } | null;
  if (!a) return "";
  if (a.decision) return `${a.decision} (${a.status === 0 ? (a.decision === "DENY" ? "connection closed" : "connection") : a.status}) ${a.decided_by === "no-enforced-allow-policy" ? "no enforced ALLOW policy applies" : `by ${a.decided_by}`}`;
  return a.valid ? "valid" : "rejected";
}

export async function testCommand(positionals: string[], v: CliValues): Promise<number> {
  if (positionals.length !== 1) throw new UsageError("test needs exactly one CASEFILE");
  let file;
  try {
    file = readCaseFile(positionals[0]);
  } catch (e) {
    if (e instanceof CaseFileError) throw new UserError(e.message);
    throw e;
  }
  let policies;
  if (v.policies) {
    const loaded = loadPolicies(v.policies, { readStdin });
    printDiagnostics(loaded.diagnostics);
    if (hasErrors(loaded.diagnostics)) return 1;
    policies = loaded.policies.map((p) => p.policy);
  }
  const report = await runCaseFile(file, { wasm: readFilterWasm(v.wasm), policies, baseDir: dirname(resolve(positionals[0])) });
  if (wantsJson(v)) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    for (const r of report.results) {
      if (r.status === "pass" && !v.verbose) continue;
      process.stdout.write(`${r.status.toUpperCase().padEnd(4)} ${r.id}: ${r.status === "pass" ? describeActual(r.actual) : r.reason}\n`);
    }
    process.stdout.write(`${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped\n`);
  }
  return report.failed === 0 ? 0 : 1;
}
