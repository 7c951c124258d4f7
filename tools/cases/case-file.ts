// Reading a case file (the format of ../shared/conformance/istio-cases.yaml).
import { readFileSync } from "node:fs";
import * as yaml from "js-yaml";
import type { CaseFile, CaseMeta } from "../model/case-file.ts";
import { DEFAULT_MESH, type MeshSettings } from "../model/policy.ts";

export class CaseFileError extends Error {}

export function readCaseFile(path: string): CaseFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CaseFileError(`${path}: cannot read: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: path });
  } catch (e) {
    const err = e as { mark?: { line: number; column: number }; reason?: string; message: string };
    if (err.mark) throw new CaseFileError(`${path}:${err.mark.line + 1}:${err.mark.column + 1}: ${err.reason ?? err.message}`);
    throw new CaseFileError(`${path}: ${err.message}`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    throw new CaseFileError(`${path}: a case file is a mapping with \`cases\` and/or \`validation_cases\``);
  }
  const file = doc as CaseFile;
  if (!file.cases && !file.validation_cases) throw new CaseFileError(`${path}: no \`cases\` or \`validation_cases\``);
  return file;
}

export function meshSettings(...metas: Array<CaseMeta | undefined>): MeshSettings {
  const m = { ...DEFAULT_MESH };
  for (const meta of metas) {
    if (!meta) continue;
    if (meta.root_namespace !== undefined) m.rootNamespace = meta.root_namespace;
    if (meta.trust_domain !== undefined) m.trustDomain = meta.trust_domain;
    if (meta.trust_domain_aliases !== undefined) m.trustDomainAliases = [...meta.trust_domain_aliases];
  }
  return m;
}
