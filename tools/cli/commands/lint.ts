// meshauthz lint PATH... [-o json|sarif]
import { GENERATOR } from "../../compile/compile.ts";
import { lintPolicies } from "../../lint/findings.ts";
import { loadPolicies } from "../../parse/index.ts";
import { hasErrors } from "../../pipeline/policy-set.ts";
import { validatePolicy } from "../../validate/index.ts";
import { UsageError } from "../errors.ts";
import { type CliValues, meshFromFlags, printDiagnostics, readStdin, wantsJson } from "../options.ts";

const policyId = (p: { metadata: { namespace?: string; name: string } }) => `${p.metadata.namespace ?? "default"}/${p.metadata.name}`;

export async function lintCommand(paths: string[], v: CliValues): Promise<number> {
  if (paths.length === 0) throw new UsageError("lint needs at least one PATH");
  const loaded = loadPolicies(paths, { readStdin });
  const diagnostics = [...loaded.diagnostics];
  for (const p of loaded.policies) diagnostics.push(...validatePolicy(p.policy, { locate: (path) => p.locate(path), file: p.file }));
  const policies = loaded.policies;
  const findings = hasErrors(loaded.diagnostics) ? [] : lintPolicies(loaded.policies.map((p) => p.policy), meshFromFlags(v));
  if (v.output === "sarif") {
    const located = findings.map((f) => ({ ...f, location: policies.find((p) => policyId(p.policy) === f.policy)?.locate(f.path) }));
    const { sarifLog } = await import("../../ci-formats/sarif.ts");
    process.stdout.write(`${JSON.stringify(sarifLog({ diagnostics, findings: located, version: GENERATOR.split(" ")[1] }), null, 2)}\n`);
  } else if (wantsJson(v)) {
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
