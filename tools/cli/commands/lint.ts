// meshauthz lint PATH... [--workloads PATH...] [-o json|sarif] [-q] [--allow-empty] [--namespace NS] [--istio-version X.Y]
// Runs the same validation path as compile (pipeline/policy-set.ts compileSources), so everything compile
// rejects is reported here too, then the findings about surprising interactions (lint/findings.ts) and,
// with --workloads, about selectors and workloads (lint/workloads.ts).
import { GENERATOR } from "../../compile/compile.ts";
import { type Finding, lintPolicies } from "../../lint/findings.ts";
import { lintWorkloads, loadWorkloads, type WorkloadFinding } from "../../lint/workloads.ts";
import type { Diagnostic } from "../../model/diagnostic.ts";
import { emptySetProblem } from "../../pipeline/empty-set.ts";
import { compileSources, hasErrors } from "../../pipeline/policy-set.ts";
import { UsageError, UserError } from "../errors.ts";
import { type CliValues, istioVersionFromFlags, meshFromFlags, readStdin, wantsJson } from "../options.ts";
import { type GroupedItem, diagnosticItem, writeGrouped } from "../report.ts";

export async function lintCommand(paths: string[], v: CliValues): Promise<number> {
  if (paths.length === 0) throw new UsageError("lint needs at least one PATH");
  const json = v.output === "sarif" ? false : wantsJson(v);
  const mesh = meshFromFlags(v);
  const result = compileSources(paths, mesh, { readStdin, namespace: v.namespace, istioVersion: istioVersionFromFlags(v), keepGoing: true });
  const diagnostics: Diagnostic[] = [...result.diagnostics];
  const loaded = result.loaded?.policies ?? [];
  const empty = result.loaded && !hasErrors(diagnostics) ? emptySetProblem(result.loaded) : null;
  if (empty && !v["allow-empty"]) {
    diagnostics.push({ severity: "error", stage: "compile", code: "empty-policy-set", message: empty, path: "" });
  }
  const clean = !hasErrors(diagnostics);
  const findings: Array<Finding | WorkloadFinding> = clean ? lintPolicies(loaded.map((p) => p.policy), mesh) : [];
  if (v.workloads?.length) {
    const w = loadWorkloads(v.workloads);
    if (w.errors.length) throw new UserError(`--workloads: ${w.errors.join("\n")}`);
    if (w.workloads.length === 0) throw new UserError(`--workloads: no Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or Pod in ${v.workloads.join(", ")}`);
    if (clean) findings.push(...lintWorkloads(loaded.map((p) => p.policy), w.workloads, mesh));
  }
  const byName = new Map(loaded.map((l) => [`${l.policy.metadata.namespace ?? "default"}/${l.policy.metadata.name}`, l]));
  const locate = (f: Finding | WorkloadFinding) => ("location" in f && f.location) || byName.get(f.policy)?.locate(f.path);
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  if (v.output === "sarif") {
    const { sarifLog } = await import("../../ci-formats/sarif.ts");
    const located = findings.map((f) => ({ ...f, location: locate(f) }));
    process.stdout.write(`${JSON.stringify(sarifLog({ diagnostics, findings: located, version: GENERATOR.split(" ")[1] }), null, 2)}\n`);
  } else if (json) {
    const summary: Record<string, number> = {};
    for (const d of diagnostics) summary[d.code ?? d.message] = (summary[d.code ?? d.message] ?? 0) + 1;
    for (const f of findings) summary[f.code] = (summary[f.code] ?? 0) + 1;
    const located = findings.map((f) => ({ ...f, location: locate(f) }));
    process.stdout.write(`${JSON.stringify({ diagnostics, findings: located, summary })}\n`);
  } else {
    const out = (line: string) => process.stdout.write(`${line}\n`);
    const err = (line: string) => process.stderr.write(`${line}\n`);
    for (const d of diagnostics) if (d.severity === "error") err(diagnosticItem(d).full);
    writeGrouped(diagnostics.filter((d) => d.severity !== "error").map(diagnosticItem), err, Boolean(v.quiet));
    const items: GroupedItem[] = findings.map((f) => {
      const at = locate(f);
      const where = at ? `${at.file}:${at.line}:${at.column}: ` : "";
      return {
        kind: f.code,
        full: `${where}warning: ${f.policy}: ${f.path}: [${f.code}] ${f.message}`,
        short: `${where}${f.policy}: ${f.path}: ${f.message}`,
        title: `warning: [${f.code}]`,
      };
    });
    writeGrouped(items, out, Boolean(v.quiet));
    out(`${findings.length} finding(s), ${warnings} warning(s), ${errors} error(s)`);
  }
  return errors > 0 ? 1 : 0;
}
