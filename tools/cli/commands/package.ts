// meshauthz package PATH... --url URL [-o FILE] [--oci-layout DIR] [--name N] [--namespace NS] [--selector k=v]...
import { writeFileSync } from "node:fs";
import { readFilterWasm } from "../../cases/filter-decision.ts";
import { writeOciLayout } from "../../package/oci-layout.ts";
import { wasmPluginManifest } from "../../package/wasmplugin.ts";
import { compileSources } from "../../pipeline/policy-set.ts";
import { UsageError } from "../errors.ts";
import { type CliValues, istioVersionFromFlags, meshFromFlags, printDiagnostics, readStdin } from "../options.ts";
import { emptySetProblem } from "../../pipeline/empty-set.ts";

function parseSelector(items: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items ?? []) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`--selector takes key=value, not "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

export function packageCommand(paths: string[], v: CliValues): number {
  if (paths.length === 0) throw new UsageError("package needs at least one PATH with policies");
  if (!v.url && !v["oci-layout"]) throw new UsageError("package needs --url (where Istio pulls the module) and/or --oci-layout DIR");
  // --namespace is the WasmPlugin's here; --policy-namespace is kubectl's -n for the policies.
  const result = compileSources(paths, meshFromFlags(v), { readStdin, namespace: v["policy-namespace"], istioVersion: istioVersionFromFlags(v) });
  printDiagnostics(result.diagnostics, v.quiet);
  if (!result.blob) return 1;
  const empty = result.loaded ? emptySetProblem(result.loaded) : null;
  if (empty && !v["allow-empty"]) {
    process.stderr.write(`meshauthz: error: ${empty}; nothing written\n`);
    return 1;
  }
  let sha256: string | undefined;
  if (v["oci-layout"]) {
    const tag = v.tag ?? "latest";
    const image = writeOciLayout(v["oci-layout"], readFilterWasm(v.wasm), tag);
    sha256 = image.wasmSha256;
    process.stderr.write(`meshauthz: OCI image layout in ${v["oci-layout"]} (tag ${tag}, manifest ${image.manifestDigest})\n`);
  }
  const manifest = wasmPluginManifest(result.blob, {
    name: v.name ?? "meshauthz",
    namespace: v.namespace ?? meshFromFlags(v).rootNamespace,
    url: v.url ?? "oci://REGISTRY/meshauthz:latest",
    sha256,
    selector: parseSelector(v.selector),
  });
  if (!v.output || v.output === "-") process.stdout.write(manifest);
  else writeFileSync(v.output, manifest);
  return 0;
}
