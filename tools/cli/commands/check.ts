// meshauthz check (--policies PATH... | --blob FILE) --request FILE [-o json]
import { readFileSync } from "node:fs";
import * as yaml from "js-yaml";
import { meshSettings } from "../../cases/case-file.ts";
import { type Decision, readFilterWasm, startFilter } from "../../cases/filter-decision.ts";
import type { CaseMeta, CaseRequest, Workload } from "../../model/case-file.ts";
import { modeForRequest, pluginConfigJson } from "../../pipeline/plugin-config.ts";
import { statusText } from "../../explain/explain.ts";
import { compileSources } from "../../pipeline/policy-set.ts";
import { UsageError, UserError } from "../errors.ts";
import { type CliValues, printDiagnostics, readStdin, wantsJson } from "../options.ts";

interface RequestFile {
  workload: Workload;
  request: CaseRequest;
  mesh?: CaseMeta;
}

export function readRequestFile(path: string): RequestFile {
  let doc: unknown;
  try {
    doc = yaml.load(path === "-" ? readStdin() : readFileSync(path, "utf8"), { filename: path });
  } catch (e) {
    const err = e as { mark?: { line: number; column: number }; reason?: string; message: string };
    if (err.mark) throw new UserError(`${path}:${err.mark.line + 1}:${err.mark.column + 1}: ${err.reason ?? err.message}`);
    throw new UserError(`${path}: ${err.message}`);
  }
  const f = doc as Partial<RequestFile> | null;
  if (!f || typeof f !== "object") throw new UserError(`${path}: a request file is a mapping with workload and request`);
  if (!f.workload || typeof f.workload.namespace !== "string") {
    throw new UserError(`${path}: workload.namespace (string) is required`);
  }
  if (!f.request || typeof f.request !== "object") throw new UserError(`${path}: request (mapping) is required`);
  return f as RequestFile;
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
    const compiled = compileSources(v.policies ?? [], mesh, readStdin);
    printDiagnostics(compiled.diagnostics);
    if (!compiled.blob) return 1;
    blob = compiled.blob;
  }
  const mode = modeForRequest(req.request);
  const filter = await startFilter(readFilterWasm(v.wasm), pluginConfigJson(blob, undefined, { mode }), req.workload, mode === "network");
  const d = filter.decide(req.request);
  process.stdout.write(wantsJson(v) ? `${JSON.stringify(d)}\n` : `${describeDecision(d)}\n`);
  return 0;
}
