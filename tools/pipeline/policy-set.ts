// The compile pipeline from sources to blob: parse -> validate -> compile -> encode.
// Each stage reports Diagnostics; any error stops the pipeline before encoding.
import { compilePolicies, type CompileInput } from "../compile/compile.ts";
import type { CompiledMesh } from "../compile/ir.ts";
import { encodeBlob } from "../encode/encode.ts";
import type { Diagnostic } from "../model/diagnostic.ts";
import type { AuthorizationPolicy, MeshSettings } from "../model/policy.ts";
import { type LoadResult, loadPolicies } from "../parse/index.ts";
import type { IstioVersion } from "../validate/istio-version.ts";
import { validatePolicy } from "../validate/index.ts";
import { MeshConfigError, meshConfigOf, providersOf } from "../meshconfig/source.ts";

export interface PolicySetResult {
  diagnostics: Diagnostic[];
  /** What was read (compileSources only): policies with positions, skipped documents. */
  loaded?: LoadResult;
  /** Undefined when an error stopped the pipeline. */
  mesh?: CompiledMesh;
  blob?: Uint8Array;
  policyCount: number;
  skippedDocuments: number;
}

export function hasErrors(diagnostics: Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Validate and compile policy objects that are already in memory (case files, tests). */
export function compilePolicyObjects(
  policies: AuthorizationPolicy[],
  mesh: MeshSettings,
  locate?: Array<CompileInput["locate"]>,
  file?: string,
  istioVersion?: IstioVersion,
): PolicySetResult {
  const diagnostics: Diagnostic[] = [];
  policies.forEach((policy, i) => {
    diagnostics.push(...validatePolicy(policy, { locate: locate?.[i], file, istioVersion }));
  });
  if (hasErrors(diagnostics)) return { diagnostics, policyCount: policies.length, skippedDocuments: 0 };
  const compiled = compilePolicies(
    policies.map((policy, i) => ({ policy, locate: locate?.[i] })),
    mesh,
  );
  diagnostics.push(...compiled.diagnostics);
  if (hasErrors(diagnostics)) return { diagnostics, policyCount: policies.length, skippedDocuments: 0 };
  return { diagnostics, mesh: compiled.mesh, blob: encodeBlob(compiled.mesh), policyCount: policies.length, skippedDocuments: 0 };
}

export interface SourceOptions {
  readStdin?: () => string;
  /** kubectl -n: the namespace of documents without one (parse/index.ts). */
  namespace?: string;
  istioVersion?: IstioVersion;
  /** Validate the policies that loaded even when some input failed to parse (lint); no blob then. */
  keepGoing?: boolean;
}

/**
 * Files, folders, `-` for stdin -> blob: the one validation path of compile, lint, check and package (lint
 * reports everything compile rejects because it runs this). Warnings include the CUSTOM warning.
 */
export function compileSources(inputs: string[], mesh: MeshSettings, o?: (() => string) | SourceOptions): PolicySetResult {
  const opts: SourceOptions = typeof o === "function" ? { readStdin: o } : (o ?? {});
  const loaded = loadPolicies(inputs, { readStdin: opts.readStdin, namespace: opts.namespace });
  const parseFailed = hasErrors(loaded.diagnostics);
  if (parseFailed && !opts.keepGoing) {
    return { diagnostics: loaded.diagnostics, loaded, policyCount: loaded.policies.length, skippedDocuments: loaded.skipped.length };
  }
  const meshDocs = loaded.meshConfigs ?? [];
  let settings = mesh;
  if (mesh.extensionProviders === undefined && meshDocs.length > 0) {
    // The istio ConfigMap (or a MeshConfig document) among the inputs; --mesh-config wins.
    try {
      settings = { ...mesh, extensionProviders: providersOf(meshConfigOf(meshDocs[0].value, meshDocs[0].file)) };
    } catch (e) {
      if (!(e instanceof MeshConfigError)) throw e;
      const d: Diagnostic = { severity: "error", stage: "parse", message: e.message, path: "data.mesh" };
      return { diagnostics: [...loaded.diagnostics, d], policyCount: loaded.policies.length, skippedDocuments: loaded.skipped.length };
    }
  }
  const result = compilePolicyObjects(
    loaded.policies.map((p) => p.policy),
    settings,
    loaded.policies.map((p) => (path: string) => p.locate(path)),
    undefined,
    opts.istioVersion,
  );
  const out: PolicySetResult = {
    ...result,
    diagnostics: [...loaded.diagnostics, ...result.diagnostics],
    loaded,
    skippedDocuments: loaded.skipped.length,
  };
  if (parseFailed) {
    delete out.blob;
    delete out.mesh;
  }
  return out;
}
