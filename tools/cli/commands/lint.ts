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
  const policies = loaded.policies;
  const findings = hasErrors(loaded.diagnostics) ? [] : lintPolicies(loaded.policies.map((p) => p.policy), meshFromFlags(v));
  if (wantsJson(v)) {
    process.stdout.write(`${JSON.stringify({ diagnostics, findings })}\n`);
  } else {
    printDiagnostics(diagnostics);
    for (const f of findings) {
      const loaded = policies.find((p) => `${p.policy.metadata.namespace ?? "default"}/${p.policy.metadata.name}` === f.policy);
      const at = loaded?.locate(f.path);
      const where = at ? `${at.file}:${at.line}:${at.column}: ` : "";
      process.stdout.write(`${where}warning: ${f.policy}: ${f.path}: [${f.code}] ${f.message}\n`);
    }
    process.stdout.write(`${findings.length} finding(s), ${diagnostics.filter((d) => d.severity === "error").length} error(s)\n`);
  }
  return hasErrors(diagnostics) ? 1 : 0;
}
