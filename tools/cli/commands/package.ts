// meshauthz package PATH... --url URL [-o FILE] [--oci-layout DIR] [--name N] [--namespace NS] [--selector k=v]...
import { writeFileSync } from "node:fs";
import { readFilterWasm } from "../../cases/filter-decision.ts";
import { writeOciLayout } from "../../package/oci-layout.ts";
import { wasmPluginManifest } from "../../package/wasmplugin.ts";
import { networkPluginManifest, parseTcpPorts, TcpPortsError } from "../../package/network-plugin.ts";
import { compileSources } from "../../pipeline/policy-set.ts";
import { UsageError } from "../errors.ts";
import { type CliValues, meshFromFlags, printDiagnostics, readStdin } from "../options.ts";

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
  if (v.network && !v["tcp-ports"]) throw new UsageError("--network needs --tcp-ports PORT,... (the ports Istio serves as TCP; docs/tcp.md)");
  let tcpPorts: number[] = [];
  try {
    if (v["tcp-ports"]) tcpPorts = parseTcpPorts(v["tcp-ports"]);
  } catch (e) {
    throw e instanceof TcpPortsError ? new UsageError(e.message) : e;
  }
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
  const options = {
    name: v.name ?? "meshauthz",
    namespace: v.namespace ?? meshFromFlags(v).rootNamespace,
    url: v.url ?? "oci://REGISTRY/meshauthz:latest",
    sha256,
    selector: parseSelector(v.selector),
  };
  let manifest = wasmPluginManifest(result.blob, options);
  // --network: a second WasmPlugin, type NETWORK, for the TCP ports (tools/package/network-plugin.ts).
  if (v.network) manifest += `---\n${networkPluginManifest(result.blob, options, tcpPorts)}`;
  if (!v.output || v.output === "-") process.stdout.write(manifest);
  else writeFileSync(v.output, manifest);
  return 0;
}
