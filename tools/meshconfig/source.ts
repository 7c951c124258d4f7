// Where a mesh config comes from: `--mesh-config FILE` (a MeshConfig YAML, or the `istio`
// ConfigMap as `kubectl get cm istio -n istio-system -o yaml` prints it), or a document among the
// policy inputs (`kind: MeshConfig`, or a ConfigMap named `istio` / `istio-<revision>` whose
// `data.mesh` is the MeshConfig YAML, as istiod reads it).
import { readFileSync } from "node:fs";
import * as yaml from "js-yaml";
import { resolveExtensionProviders, type ResolvedProviders } from "./providers.ts";

export class MeshConfigError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The ConfigMap istiod reads its mesh config from (`istio`, or `istio-<revision>`). */
export function isMeshConfigMap(doc: Obj): boolean {
  const name = isObj(doc.metadata) ? doc.metadata.name : undefined;
  return doc.kind === "ConfigMap" && typeof name === "string" && (name === "istio" || name.startsWith("istio-"));
}

/** A document that carries a mesh config (see the file comment). */
export function isMeshConfigDocument(doc: unknown): boolean {
  return isObj(doc) && (doc.kind === "MeshConfig" || (isMeshConfigMap(doc) && isObj(doc.data) && typeof doc.data.mesh === "string"));
}

/** The MeshConfig object of such a document, or of a bare MeshConfig YAML. */
export function meshConfigOf(doc: unknown, where: string): Obj {
  if (!isObj(doc)) throw new MeshConfigError(`${where}: expected a MeshConfig mapping`);
  if (doc.kind === "ConfigMap") {
    const mesh = isObj(doc.data) ? doc.data.mesh : undefined;
    if (typeof mesh !== "string") throw new MeshConfigError(`${where}: ConfigMap has no data.mesh string`);
    let parsed: unknown;
    try {
      parsed = yaml.load(mesh);
    } catch (e) {
      throw new MeshConfigError(`${where}: data.mesh: ${(e as Error).message.split("\n")[0]}`);
    }
    if (parsed === undefined || parsed === null) return {};
    if (!isObj(parsed)) throw new MeshConfigError(`${where}: data.mesh is not a mapping`);
    return parsed;
  }
  if (doc.kind === "MeshConfig" && isObj(doc.spec)) return doc.spec;
  return doc;
}

/** The ext_authz providers of a mesh config object. */
export function providersOf(meshConfig: Obj): ResolvedProviders {
  return resolveExtensionProviders(meshConfig.extensionProviders);
}

/** `--mesh-config FILE`. */
export function loadMeshConfigFile(path: string): ResolvedProviders {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new MeshConfigError(`cannot read mesh config ${path}: ${(e as Error).message}`);
  }
  let docs: unknown[];
  try {
    docs = yaml.loadAll(text).filter((d) => d !== null && d !== undefined);
  } catch (e) {
    throw new MeshConfigError(`${path}: ${(e as Error).message.split("\n")[0]}`);
  }
  if (docs.length !== 1) throw new MeshConfigError(`${path}: expected one YAML document (a MeshConfig or the istio ConfigMap), found ${docs.length}`);
  return providersOf(meshConfigOf(docs[0], path));
}
