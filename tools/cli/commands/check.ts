// meshauthz check (--policies PATH... | --blob FILE) --request FILE [-o json]
import { readFileSync } from "node:fs";
import { CaseFileError, type RequestFile, meshSettings, readRequestFileChecked } from "../../cases/case-file.ts";
import { type Decision, readFilterWasm, startFilter } from "../../cases/filter-decision.ts";
import { modeForRequest, pluginConfigJson } from "../../pipeline/plugin-config.ts";
import { statusText } from "../../explain/explain.ts";
import { compileSources } from "../../pipeline/policy-set.ts";
import { UsageError, UserError } from "../errors.ts";
import { type CliValues, istioVersionFromFlags, printDiagnostics, readStdin, wantsJson } from "../options.ts";

/** A request file read strictly (unknown keys, bad values: errors with file:line:col); notes go to stderr. */
export function readRequestFile(path: string): RequestFile {
  try {
    const r = readRequestFileChecked(path, readStdin);
    for (const n of r.notes) process.stderr.write(`${n}\n`);
    return r.value;
  } catch (e) {
    if (e instanceof CaseFileError) throw new UserError(e.message);
    throw e;
  }
}

export function describeDecision(d: Decision): string {
  const lines = [`${d.decision} (${statusText(d)})${d.policy ? ` by ${d.policy}` : " (no enforced ALLOW policy applies)"}`];
  if (d.config_error) lines.push(`  the filter rejected its configuration: ${d.config_error}`);
  if (d.audit) lines.push("  audited (an AUDIT rule matched)");
  for (const [kind, s] of Object.entries(d.shadow)) {
    lines.push(`  dry-run ${kind.toUpperCase()} policies would have ${s.result} the request${s.policy ? ` (${s.policy})` : ""}`);
  }
  return lines.join("\n");
}

export async function checkCommand(positionals: string[], v: CliValues): Promise<number> {
  if (positionals.length > 0) throw new UsageError(`check takes no positional arguments (got ${positionals.join(" ")})`);
  if (!v.request) throw new UsageError("check needs --request FILE");
  if (!v.policies === !v.blob) throw new UsageError("check needs exactly one of --policies PATH... or --blob FILE");
  const req = readRequestFile(v.request);
  let blob: Uint8Array;
  if (v.blob) {
    try {
      blob = readFileSync(v.blob);
    } catch (e) {
      throw new UserError(`cannot read ${v.blob}: ${(e as Error).message}`);
    }
  } else {
    const mesh = meshSettings(req.mesh, {
      root_namespace: v["root-namespace"],
      trust_domain: v["trust-domain"],
      trust_domain_aliases: v["trust-domain-alias"],
    });
    const compiled = compileSources(v.policies ?? [], mesh, { readStdin, namespace: v.namespace, istioVersion: istioVersionFromFlags(v) });
    printDiagnostics(compiled.diagnostics, v.quiet);
    if (!compiled.blob) return 1;
    blob = compiled.blob;
  }
  const mode = modeForRequest(req.request);
  const filter = await startFilter(readFilterWasm(v.wasm), pluginConfigJson(blob, undefined, { mode }), req.workload, mode === "network");
  const d = filter.decide(req.request);
  process.stdout.write(wantsJson(v) ? `${JSON.stringify(d)}\n` : `${describeDecision(d)}\n`);
  return 0;
}
