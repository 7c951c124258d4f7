// meshauthz lint PATH... [-o json]
import { type Finding, lintPolicies } from "../../lint/findings.ts";
import { lintWorkloads, loadWorkloads, type WorkloadFinding } from "../../lint/workloads.ts";
import { loadPolicies } from "../../parse/index.ts";
import { hasErrors } from "../../pipeline/policy-set.ts";
import { validatePolicy } from "../../validate/index.ts";
import { UsageError, UserError } from "../errors.ts";
import { type CliValues, meshFromFlags, printDiagnostics, readStdin, wantsJson } from "../options.ts";

export function lintCommand(paths: string[], v: CliValues): number {
  if (paths.length === 0) throw new UsageError("lint needs at least one PATH");
  const loaded = loadPolicies(paths, { readStdin });
  const diagnostics = [...loaded.diagnostics];
  for (const p of loaded.policies) diagnostics.push(...validatePolicy(p.policy, { locate: (path) => p.locate(path), file: p.file }));
  const policies = loaded.policies;
  const findings: Array<Finding | WorkloadFinding> = hasErrors(loaded.diagnostics) ? [] : lintPolicies(loaded.policies.map((p) => p.policy), meshFromFlags(v));
  if (v.workloads?.length) {
    const w = loadWorkloads(v.workloads);
    if (w.errors.length) throw new UserError(`--workloads: ${w.errors.join("\n")}`);
    if (w.workloads.length === 0) throw new UserError(`--workloads: no Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or Pod in ${v.workloads.join(", ")}`);
    if (!hasErrors(loaded.diagnostics)) findings.push(...lintWorkloads(loaded.policies.map((p) => p.policy), w.workloads, meshFromFlags(v)));
  }
  if (wantsJson(v)) {
    process.stdout.write(`${JSON.stringify({ diagnostics, findings })}\n`);
  } else {
    printDiagnostics(diagnostics);
    for (const f of findings) {
      const loaded = policies.find((p) => `${p.policy.metadata.namespace ?? "default"}/${p.policy.metadata.name}` === f.policy);
      const at = ("location" in f && f.location) || loaded?.locate(f.path);
      const where = at ? `${at.file}:${at.line}:${at.column}: ` : "";
      process.stdout.write(`${where}warning: ${f.policy}: ${f.path}: [${f.code}] ${f.message}\n`);
    }
    process.stdout.write(`${findings.length} finding(s), ${diagnostics.filter((d) => d.severity === "error").length} error(s)\n`);
  }
  return hasErrors(diagnostics) ? 1 : 0;
}
