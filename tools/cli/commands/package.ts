// meshauthz package PATH... --url URL [--sha256 HEX] [-o FILE] [--oci-layout DIR [--tag T] [--variant compat|artifact]]
//                   [--name N] [--namespace NS] [--selector k=v]...
import { writeFileSync } from "node:fs";
import { readFilterWasm, WasmMissingError } from "../../cases/filter-decision.ts";
import { IMAGE_VARIANTS, type ImageVariant } from "../../package/oci-layout.ts";
import { type ModuleSource, moduleSource, PinError } from "../../package/oci-pin.ts";
import { wasmPluginManifest } from "../../package/wasmplugin.ts";
import { networkPluginManifest, parseTcpPorts, TcpPortsError } from "../../package/network-plugin.ts";
import { compileSources } from "../../pipeline/policy-set.ts";
import { UsageError, UserError } from "../errors.ts";
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
  if (v.network && !v["tcp-ports"]) throw new UsageError("--network needs --tcp-ports PORT,... (the ports Istio serves as TCP; docs/tcp.md)");
  let tcpPorts: number[] = [];
  try {
    if (v["tcp-ports"]) tcpPorts = parseTcpPorts(v["tcp-ports"]);
  } catch (e) {
    throw e instanceof TcpPortsError ? new UsageError(e.message) : e;
  }
  // --namespace is the WasmPlugin's here; --policy-namespace is kubectl's -n for the policies.
  const result = compileSources(paths, meshFromFlags(v), { readStdin, namespace: v["policy-namespace"], istioVersion: istioVersionFromFlags(v) });
  printDiagnostics(result.diagnostics, v.quiet);
  if (!result.blob) return 1;
  const empty = result.loaded ? emptySetProblem(result.loaded) : null;
  if (empty && !v["allow-empty"]) {
    process.stderr.write(`meshauthz: error: ${empty}; nothing written\n`);
    return 1;
  }
  const pin = pinnedModule(v);
  const options = {
    name: v.name ?? "meshauthz",
    namespace: v.namespace ?? meshFromFlags(v).rootNamespace,
    url: pin.url,
    sha256: pin.sha256,
    selector: parseSelector(v.selector),
  };
  let manifest = wasmPluginManifest(result.blob, options);
  // --network: a second WasmPlugin, type NETWORK, for the TCP ports (tools/package/network-plugin.ts).
  if (v.network) manifest += `---\n${networkPluginManifest(result.blob, options, tcpPorts)}`;
  if (!v.output || v.output === "-") process.stdout.write(manifest);
  else writeFileSync(v.output, manifest);
  return 0;
}
