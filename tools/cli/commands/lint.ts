// meshauthz lint PATH... [-o json]
import { lintPolicies } from "../../lint/findings.ts";
import { loadPolicies } from "../../parse/index.ts";
import { hasErrors } from "../../pipeline/policy-set.ts";
import { validatePolicy } from "../../validate/index.ts";
import { UsageError } from "../errors.ts";
import { type CliValues, meshFromFlags, printDiagnostics, readStdin, wantsJson } from "../options.ts";

export function lintCommand(paths: string[], v: CliValues): number {
  if (paths.length === 0) throw new UsageError("lint needs at least one PATH");
  const loaded = loadPolicies(paths, { readStdin });
  const diagnostics = [...loaded.diagnostics];
  for (const p of loaded.policies) diagnostics.push(...validatePolicy(p.policy, { locate: (path) => p.locate(path), file: p.file }));
  const findings = hasErrors(loaded.diagnostics) ? [] : lintPolicies(loaded.policies.map((p) => p.policy), meshFromFlags(v));
  if (wantsJson(v)) {
    process.stdout.write(`${JSON.stringify({ diagnostics, findings })}\n`);
  } else {
    printDiagnostics(diagnostics);
    for (const f of findings) process.stdout.write(`warning: ${f.policy}: ${f.path}: [${f.code}] ${f.message}\n`);
    process.stdout.write(`${findings.length} finding(s), ${diagnostics.filter((d) => d.severity === "error").length} error(s)\n`);
  }
  return hasErrors(diagnostics) ? 1 : 0;
}
