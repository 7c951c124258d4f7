// meshauthz package PATH... --url URL [-o FILE] [--oci-layout DIR] [--name N] [--max-object-bytes N]
// Writes the delivery plan (tools/package/plan.ts, docs/delivery.md) in apply order.
import { writeFileSync } from "node:fs";
import { readFilterWasm } from "../../cases/filter-decision.ts";
import { writeOciLayout } from "../../package/oci-layout.ts";
import { limitWarnings, PlanError, planDelivery } from "../../package/plan.ts";
import { renderDeliveryPlan } from "../../package/wasmplugin.ts";
import { compileSources } from "../../pipeline/policy-set.ts";
import { UsageError, UserError } from "../errors.ts";
import { type CliValues, meshFromFlags, printDiagnostics, readStdin } from "../options.ts";

function maxObjectBytes(v: CliValues): number | undefined {
  const raw = v["max-object-bytes"];
  if (raw === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(raw)) throw new UsageError(`--max-object-bytes takes a positive number of bytes, not "${raw}"`);
  return Number(raw);
}

export function packageCommand(paths: string[], v: CliValues): number {
  if (paths.length === 0) throw new UsageError("package needs at least one PATH with policies");
  if (!v.url && !v["oci-layout"]) throw new UsageError("package needs --url (where Istio pulls the module) and/or --oci-layout DIR");
  if (v.selector?.length) {
    throw new UsageError("package writes one WasmPlugin per namespace plus one for the root namespace, each reaching every workload it covers; a --selector would leave workloads enforced without their namespace's policies (docs/delivery.md)");
  }
  const limit = maxObjectBytes(v);
  for (const w of limitWarnings(limit)) process.stderr.write(`meshauthz: warning: ${w}\n`);
  const result = compileSources(paths, meshFromFlags(v), readStdin);
  printDiagnostics(result.diagnostics);
  if (!result.blob) return 1;
  let sha256: string | undefined;
  if (v["oci-layout"]) {
    const tag = v.tag ?? "latest";
    const image = writeOciLayout(v["oci-layout"], readFilterWasm(v.wasm), tag);
    sha256 = image.wasmSha256;
    process.stderr.write(`meshauthz: OCI image layout in ${v["oci-layout"]} (tag ${tag}, manifest ${image.manifestDigest})\n`);
  }
  let manifest: string;
  try {
    const plan = planDelivery(result.mesh!, {
      name: v.name ?? "meshauthz",
      url: v.url ?? "oci://REGISTRY/meshauthz:latest",
      sha256,
      maxObjectBytes: limit,
    });
    manifest = renderDeliveryPlan(plan);
  } catch (e) {
    if (e instanceof PlanError) throw new UserError(e.message);
    throw e;
  }
  if (!v.output || v.output === "-") process.stdout.write(manifest);
  else writeFileSync(v.output, manifest);
  return 0;
}
