// meshauthz compile PATH... -o FILE [--plugin-config] [--allow-empty] [--namespace NS] [--istio-version X.Y] [-q]
import { writeFileSync } from "node:fs";
import { pluginConfigJson } from "../../pipeline/plugin-config.ts";
import { emptySetProblem, skippedSummary } from "../../pipeline/empty-set.ts";
import { compileSources } from "../../pipeline/policy-set.ts";
import { UsageError, UserError } from "../errors.ts";
import { type CliValues, istioVersionFromFlags, meshFromFlags, observabilityFromFlags, printDiagnostics, readStdin } from "../options.ts";

export function compileCommand(paths: string[], v: CliValues): number {
  if (paths.length === 0) throw new UsageError("compile needs at least one PATH (file, folder, or - for stdin)");
  if (!v.output) throw new UsageError("compile needs -o FILE (- for stdout)");
  const observability = observabilityFromFlags(v);
  if (Object.keys(observability).length && !v["plugin-config"]) {
    throw new UsageError("--policy-counters, --decision-log and --deny-header are pluginConfig options: add --plugin-config");
  }
  const result = compileSources(paths, meshFromFlags(v), { readStdin, namespace: v.namespace, istioVersion: istioVersionFromFlags(v) });
  printDiagnostics(result.diagnostics, v.quiet);
  if (!result.blob) {
    const n = result.diagnostics.filter((d) => d.severity === "error").length;
    process.stderr.write(`meshauthz: ${n} error(s); nothing written\n`);
    return 1;
  }
  const empty = result.loaded ? emptySetProblem(result.loaded) : null;
  if (empty && !v["allow-empty"]) {
    process.stderr.write(`meshauthz: error: ${empty}; nothing written\n`);
    return 1;
  }
  const bytes = v["plugin-config"] ? Buffer.from(pluginConfigJson(result.blob, undefined, observability) + "\n") : result.blob;
  try {
    if (v.output === "-") process.stdout.write(bytes);
    else writeFileSync(v.output, bytes);
  } catch (e) {
    throw new UserError(`cannot write ${v.output}: ${(e as Error).message}`);
  }
  const rules = result.mesh?.policies.reduce((n, p) => n + p.rules.length, 0) ?? 0;
  const skipped = result.loaded ? skippedSummary(result.loaded) : "";
  process.stderr.write(
    `meshauthz: compiled ${result.mesh?.policies.length ?? 0} policies (${rules} rules) into ${result.blob.length} bytes` +
      (v.output === "-" ? "" : ` -> ${v.output}`) +
      (skipped ? `; ${skipped}` : "") +
      (empty ? " (--allow-empty: this blob allows every request)" : "") +
      "\n",
  );
  return 0;
}
