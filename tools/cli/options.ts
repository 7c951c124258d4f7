// Options shared by several commands.
import { readFileSync } from "node:fs";
import { DEFAULT_MESH, type MeshSettings } from "../model/policy.ts";
import { type Diagnostic, formatDiagnostic } from "../model/diagnostic.ts";
import { UsageError } from "./errors.ts";

export interface CliValues {
  output?: string;
  policies?: string[];
  blob?: string;
  request?: string;
  "plugin-config"?: boolean;
  "root-namespace"?: string;
  "trust-domain"?: string;
  "trust-domain-alias"?: string[];
  wasm?: string;
  verbose?: boolean;
  url?: string;
  name?: string;
  namespace?: string;
  selector?: string[];
  tag?: string;
  "oci-layout"?: string;
  "max-object-bytes"?: string;
}

export function meshFromFlags(v: CliValues): MeshSettings {
  return {
    rootNamespace: v["root-namespace"] ?? DEFAULT_MESH.rootNamespace,
    trustDomain: v["trust-domain"] ?? DEFAULT_MESH.trustDomain,
    trustDomainAliases: v["trust-domain-alias"] ?? [],
  };
}

export function wantsJson(v: CliValues): boolean {
  if (v.output === undefined || v.output === "text") return false;
  if (v.output === "json") return true;
  throw new UsageError(`-o takes "json" or "text" here, not "${v.output}"`);
}

export function readStdin(): string {
  return readFileSync(0, "utf8");
}

export function printDiagnostics(diagnostics: Diagnostic[]): void {
  for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
}
