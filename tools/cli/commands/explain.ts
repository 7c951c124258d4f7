// meshauthz explain --policies PATH... --request FILE [--all] [-o json]
import { meshSettings } from "../../cases/case-file.ts";
import { readFilterWasm } from "../../cases/filter-decision.ts";
import { describeExplanation, explain } from "../../explain/explain.ts";
import { loadPolicies } from "../../parse/index.ts";
import { hasErrors } from "../../pipeline/policy-set.ts";
import { UsageError, UserError } from "../errors.ts";
import { type CliValues, printDiagnostics, providersFromFlags, readStdin, wantsJson } from "../options.ts";
import { MeshConfigError, meshConfigOf, providersOf } from "../../meshconfig/source.ts";
import { readRequestFile } from "./check.ts";

export async function explainCommand(positionals: string[], v: CliValues): Promise<number> {
  if (positionals.length > 0) throw new UsageError(`explain takes no positional arguments (got ${positionals.join(" ")})`);
  if (!v.request || !v.policies) throw new UsageError("explain needs --policies PATH... and --request FILE");
  const req = readRequestFile(v.request);
  const loaded = loadPolicies(v.policies, { readStdin, namespace: v.namespace });
  printDiagnostics(loaded.diagnostics);
  if (hasErrors(loaded.diagnostics)) return 1;
  const mesh = meshSettings(req.mesh, {
    root_namespace: v["root-namespace"],
    trust_domain: v["trust-domain"],
    trust_domain_aliases: v["trust-domain-alias"],
  });
  // CUSTOM providers: --mesh-config, else a mesh config document among the inputs.
  mesh.extensionProviders = providersFromFlags(v);
  const doc = loaded.meshConfigs?.[0];
  if (mesh.extensionProviders === undefined && doc) {
    try {
      mesh.extensionProviders = providersOf(meshConfigOf(doc.value, doc.file));
    } catch (err) {
      if (err instanceof MeshConfigError) throw new UserError(err.message);
      throw err;
    }
  }
  let e;
  try {
    e = await explain(readFilterWasm(v.wasm), loaded.policies.map((p) => p.policy), req.workload, req.request, mesh);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  process.stdout.write(wantsJson(v) ? `${JSON.stringify(e)}\n` : `${describeExplanation(e, { all: v.all })}\n`);
  return 0;
}
