// meshauthz package PATH... --url URL [--sha256 HEX] [-o FILE] [--oci-layout DIR [--tag T] [--variant compat|artifact]]
//                   [--name N] [--max-object-bytes N]
// Writes the delivery plan (tools/package/plan.ts, docs/delivery.md) in apply order.
import { writeFileSync } from "node:fs";
import { readFilterWasm, WasmMissingError } from "../../cases/filter-decision.ts";
import { IMAGE_VARIANTS, type ImageVariant } from "../../package/oci-layout.ts";
import { type ModuleSource, moduleSource, PinError } from "../../package/oci-pin.ts";
import * as yaml from "js-yaml";
import { CLIENT_SIDE_APPLY_LIMIT, limitWarnings, PlanError, planDelivery } from "../../package/plan.ts";
import { renderDeliveryPlan } from "../../package/wasmplugin.ts";
import { networkPluginManifest, parseTcpPorts, TcpPortsError } from "../../package/network-plugin.ts";
import { compileSources } from "../../pipeline/policy-set.ts";
import { UsageError, UserError } from "../errors.ts";
import { type CliValues, istioVersionFromFlags, meshFromFlags, observabilityFromFlags, printDiagnostics, readStdin } from "../options.ts";
import { emptySetProblem } from "../../pipeline/empty-set.ts";

function maxObjectBytes(v: CliValues): number | undefined {
  const raw = v["max-object-bytes"];
  if (raw === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(raw)) throw new UsageError(`--max-object-bytes takes a positive number of bytes, not "${raw}"`);
  return Number(raw);
}

/** spec.url and spec.sha256 for the module (tools/package/oci-pin.ts); with --oci-layout, writes the image first. */
function pinnedModule(v: CliValues): ModuleSource {
  if (v.variant !== undefined && !IMAGE_VARIANTS.includes(v.variant as ImageVariant)) {
    throw new UsageError(`--variant takes ${IMAGE_VARIANTS.join(" or ")}, not "${v.variant}"`);
  }
  if ((v.variant !== undefined || v.tag !== undefined) && !v["oci-layout"]) throw new UsageError("--variant and --tag describe the image written by --oci-layout DIR");
  try {
    const source = moduleSource({
      url: v.url as string,
      sha256: v.sha256,
      wasm: readFilterWasm(v.wasm),
      ociLayout: v["oci-layout"],
      tag: v.tag,
      variant: v.variant as ImageVariant | undefined,
    });
    if (source.image) {
      const { variant, tag, manifestDigest, push } = source.image;
      process.stderr.write(`meshauthz: wrote the ${variant} image to ${v["oci-layout"]} (tag ${tag}, manifest sha256:${manifestDigest}); push it unchanged with\n  ${push}\n`);
    }
    return source;
  } catch (e) {
    if (e instanceof PinError || e instanceof WasmMissingError) throw new UserError(e.message);
    throw e;
  }
}

export function packageCommand(paths: string[], v: CliValues): number {
  if (paths.length === 0) throw new UsageError("package needs at least one PATH with policies");
  if (!v.url) {
    throw new UsageError("package needs --url: where Istio pulls the module (oci://REGISTRY/REPOSITORY:TAG with --oci-layout DIR, oci://...@sha256:DIGEST, https://..., file:///...)");
  }
  if (v.selector?.length) {
    throw new UsageError("package writes one WasmPlugin per namespace plus one for the root namespace, each reaching every workload it covers; a --selector would leave workloads enforced without their namespace's policies (docs/delivery.md)");
  }
  if (v.namespace !== undefined) {
    throw new UsageError("package places each WasmPlugin in the namespace of its policies (docs/delivery.md); for documents without metadata.namespace use --policy-namespace NS");
  }
  const limit = maxObjectBytes(v);
  for (const w of limitWarnings(limit)) process.stderr.write(`meshauthz: warning: ${w}\n`);
  if (v.network && !v["tcp-ports"]) throw new UsageError("--network needs --tcp-ports PORT,... (the ports Istio serves as TCP; docs/tcp.md)");
  let tcpPorts: number[] = [];
  try {
    if (v["tcp-ports"]) tcpPorts = parseTcpPorts(v["tcp-ports"]);
  } catch (e) {
    throw e instanceof TcpPortsError ? new UsageError(e.message) : e;
  }
  // --policy-namespace is kubectl's -n for the policies; each WasmPlugin goes to its policies' namespace.
  const result = compileSources(paths, meshFromFlags(v), { readStdin, namespace: v["policy-namespace"], istioVersion: istioVersionFromFlags(v) });
  printDiagnostics(result.diagnostics, v.quiet);
  if (!result.blob) return 1;
  const empty = result.loaded ? emptySetProblem(result.loaded) : null;
  if (empty && !v["allow-empty"]) {
    process.stderr.write(`meshauthz: error: ${empty}; nothing written\n`);
    return 1;
  }
  const pin = pinnedModule(v);
  let manifest: string;
  try {
    const plan = planDelivery(result.mesh!, { name: v.name ?? "meshauthz", url: pin.url, sha256: pin.sha256, maxObjectBytes: limit, observability: observabilityFromFlags(v) });
    manifest = renderDeliveryPlan(plan);
  } catch (e) {
    if (e instanceof PlanError) throw new UserError(e.message);
    throw e;
  }
  // --network: a further WasmPlugin, type NETWORK, for the TCP ports (tools/package/network-plugin.ts),
  // in the root namespace with the whole mesh's blob (its delivery is not split per namespace).
  if (v.network) {
    const net = networkPluginManifest(result.blob, { name: v.name ?? "meshauthz", namespace: meshFromFlags(v).rootNamespace, url: pin.url, sha256: pin.sha256 }, tcpPorts, observabilityFromFlags(v));
    // The same size rule as every other object (tools/package/plan.ts).
    const bytes = Buffer.byteLength(JSON.stringify(yaml.load(net)));
    const max = limit ?? CLIENT_SIDE_APPLY_LIMIT;
    if (bytes > max) {
      throw new UserError(
        `the NETWORK WasmPlugin (--network) carries the whole mesh's ${result.policyCount} policies and is ${bytes} bytes as JSON, over the ${max}-byte limit. Nothing was written. ` +
          `Package the TCP policies separately, or raise the limit with --max-object-bytes and apply with \`kubectl apply --server-side\`.`,
      );
    }
    manifest += `---\n${net}`;
  }
  if (!v.output || v.output === "-") process.stdout.write(manifest);
  else writeFileSync(v.output, manifest);
  return 0;
}
