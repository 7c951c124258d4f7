// meshauthz diff --before PATH... --after PATH... --requests FILE... [--workload NS/k=v] [-o json] [--fail-on KIND] [--allow-empty]
import { readFilterWasm } from "../../cases/filter-decision.ts";
import { type Change, describeDiff, diffDecisions } from "../../diff/diff.ts";
import { loadPolicies } from "../../parse/index.ts";
import { customProviderNames, syntheticProviders } from "../../cases/ext-authz-responder.ts";
import type { MeshSettings } from "../../model/policy.ts";
import { compilePolicyObjects, hasErrors } from "../../pipeline/policy-set.ts";
import { loadRequests, parseWorkloadFlag } from "../../requests/sources.ts";
import { UsageError } from "../errors.ts";
import { type CliValues, istioVersionFromFlags, meshFromFlags, printDiagnostics, readStdin, wantsJson } from "../options.ts";

const FAIL_ON = ["allow-to-deny", "deny-to-allow", "any"] as const;

function policySet(paths: string[], v: CliValues, label: string, mesh: MeshSettings) {
  // -n and --istio-version as compile reads them (they were accepted and ignored).
  const loaded = loadPolicies(paths, { readStdin, namespace: v.namespace });
  printDiagnostics(loaded.diagnostics);
  if (hasErrors(loaded.diagnostics)) return null;
  const policies = loaded.policies.map((p) => p.policy);
  const compiled = compilePolicyObjects(policies, mesh, loaded.policies.map((p) => (path: string) => p.locate(path)), undefined, istioVersionFromFlags(v));
  printDiagnostics(compiled.diagnostics.filter((d) => d.severity === "error"));
  if (!compiled.blob) {
    process.stderr.write(`meshauthz: the ${label} policies do not compile\n`);
    return null;
  }
  return { blob: compiled.blob, policies };
}

export async function diffCommand(positionals: string[], v: CliValues): Promise<number> {
  if (positionals.length > 0) throw new UsageError(`diff takes no positional arguments (got ${positionals.join(" ")}); use --requests FILE`);
  if (!v.before?.length || !v.after?.length) throw new UsageError("diff needs --before PATH... and --after PATH...");
  if (!v.requests?.length) throw new UsageError("diff needs --requests FILE... (case files, request files or access logs)");
  const failOn = v["fail-on"];
  if (failOn !== undefined && !(FAIL_ON as readonly string[]).includes(failOn)) {
    throw new UsageError(`--fail-on takes ${FAIL_ON.join(", ")}, not "${failOn}"`);
  }
  const json = wantsJson(v);
  // Empty policy sets are legitimate here: "before" may be a mesh without policies.
  const mesh = meshFromFlags(v);
  const names = customProviderNames([...loadPolicies(v.before, { readStdin }).policies, ...loadPolicies(v.after, { readStdin }).policies].map((p) => p.policy));
  if (mesh.extensionProviders === undefined && names.length > 0) {
    // Without a mesh config, the providers CUSTOM policies name are taken to exist (HTTP services).
    process.stderr.write(`meshauthz: no --mesh-config: CUSTOM providers ${names.join(", ")} are assumed to exist as HTTP ext_authz services\n`);
    mesh.extensionProviders = syntheticProviders(names);
  }
  const before = policySet(v.before, v, "--before", mesh);
  const after = policySet(v.after, v, "--after", mesh);
  if (!before || !after) return 1;
  const providers = [...(mesh.extensionProviders?.valid.values() ?? [])];
  // Read as replayed: a log of any size in bounded memory.
  const { requests, skipped } = loadRequests(v.requests, v.workload ? parseWorkloadFlag(v.workload) : undefined);
  const report = await diffDecisions({ wasm: readFilterWasm(v.wasm), before, after, mesh, requests, skipped, providers });
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${describeDiff(report)}\n`);
  // A gate that compared nothing must not pass: every log line skipped, a case file without cases.
  if (report.requests === 0 && !v["allow-empty"]) {
    process.stderr.write(
      `meshauthz: diff replayed no request${report.skippedLines ? ` (${report.skippedLines} log line(s) skipped, none an inbound HTTP request)` : ""}: ` +
        "nothing was compared (--allow-empty accepts this)\n",
    );
    return 1;
  }
  const failing = report.groups.filter((g) => failOn === "any" || g.change === failOn);
  return failOn !== undefined && failing.length > 0 ? 1 : 0;
}
