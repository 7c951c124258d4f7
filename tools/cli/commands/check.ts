// meshauthz check (--policies PATH... | --blob FILE) --request FILE [-o json]
import { readFileSync } from "node:fs";
import { CaseFileError, type RequestFile, meshSettings, readRequestFileChecked } from "../../cases/case-file.ts";
import { type Decision, readFilterWasm, startFilter } from "../../cases/filter-decision.ts";
import { modeForRequest, pluginConfigJson } from "../../pipeline/plugin-config.ts";
import { statusText } from "../../explain/explain.ts";
import { compileSources } from "../../pipeline/policy-set.ts";
import { UsageError, UserError } from "../errors.ts";
import { type CliValues, istioVersionFromFlags, printDiagnostics, providersFromFlags, readStdin, wantsJson } from "../options.ts";
import { decideWithProviders, syntheticProviders } from "../../cases/ext-authz-responder.ts";
import type { ExtAuthzProvider } from "../../meshconfig/providers.ts";

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
  let providers: ExtAuthzProvider[] = [];
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
    mesh.extensionProviders = providersFromFlags(v);
    const opts = { readStdin, namespace: v.namespace, istioVersion: istioVersionFromFlags(v) };
    let compiled = compileSources(v.policies ?? [], mesh, opts);
    const names = [...new Set((compiled.mesh?.policies ?? []).filter((p) => p.action === "CUSTOM").map((p) => p.provider ?? ""))];
    if (mesh.extensionProviders === undefined && compiled.mesh?.providers?.length === 0 && names.length > 0 && req.request.ext_authz_decision !== undefined) {
      // No mesh config at all: the request file's ext_authz_decision stands for providers that exist.
      compiled = compileSources(v.policies ?? [], { ...mesh, extensionProviders: syntheticProviders(names) }, opts);
    }
    printDiagnostics(compiled.diagnostics, v.quiet);
    if (!compiled.blob) return 1;
    blob = compiled.blob;
    providers = (compiled.mesh?.providers ?? []).filter((p) => names.includes(p.name));
  }
  const mode = modeForRequest(req.request);
  // Each provider the policies use answers request.ext_authz_decision from a loopback server.
  const wasm = readFilterWasm(v.wasm);
  const { decision: d, unexpected } = await decideWithProviders(
    (clusters) => startFilter(wasm, pluginConfigJson(blob, undefined, { mode }), req.workload, mode === "network", { clusters }),
    providers,
    req.request,
  );
  if (unexpected) process.stderr.write("meshauthz: the ext_authz provider was consulted but the request file gives no request.ext_authz_decision (answered as an error)\n");
  process.stdout.write(wantsJson(v) ? `${JSON.stringify(d)}\n` : `${describeDecision(d)}\n`);
  return 0;
}
