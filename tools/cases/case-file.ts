// Reading case files (the format of ../shared/conformance/istio-cases.yaml) and request files the way
// kubectl reads YAML (tools/parse/yaml.ts), checked strictly against the format (case-schema.ts).
import { readFileSync } from "node:fs";
import type { CaseFile, CaseMeta, CaseRequest, Workload } from "../model/case-file.ts";
import { DEFAULT_MESH, type MeshSettings } from "../model/policy.ts";
import { LineIndex, findPosition, parseYamlStream, type PosNode } from "../parse/yaml.ts";
import { splitPath } from "../parse/path.ts";
import { CASE_FILE, REQUEST_FILE, checkAgainst, decodeJwtPayload, type Spec } from "./case-schema.ts";

/** Bad case or request file: the message lists every problem, one per line, with file:line:col. */
export class CaseFileError extends Error {}

export interface RequestFile {
  workload: Workload;
  request: CaseRequest;
  mesh?: CaseMeta;
}

export interface ReadResult<T> {
  value: T;
  /** Things the reader did that the user should know (e.g. a JWT decoded without verification). */
  notes: string[];
  /** Source position of a field path (Diagnostic path syntax), for later stages. */
  locate(path: string): { file: string; line: number; column: number } | undefined;
}

function readText(path: string, readStdin?: () => string): string {
  if (path === "-" && readStdin) return readStdin();
  let bytes: Buffer;
  try {
    bytes = readFileSync(path === "-" ? 0 : path);
  } catch (e) {
    throw new CaseFileError(`${path}: cannot read: ${(e as Error).message}`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new CaseFileError(`${path}:1:1: error: the file is not valid UTF-8`);
  }
}

/** Parses one YAML document and checks it against `spec`; throws CaseFileError listing every problem. */
export function readChecked<T>(path: string, text: string, spec: Spec, what: string): ReadResult<T> {
  const name = path === "-" ? "<stdin>" : path;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = new LineIndex(body);
  const at = (offset: number | undefined) => {
    const p = offset !== undefined && offset >= 0 ? lines.locate(offset) : { line: 1, column: 1 };
    return `${name}:${p.line}:${p.column}`;
  };
  const parsed = parseYamlStream(body, { filename: name, letterBools: false, binaryAsBytes: true });
  const problems = parsed.errors.map((e) => `${at(e.offset)}: error: YAML: ${e.message}`);
  const notes = parsed.warnings.map((w) => `${at(w.offset)}: warning: YAML: ${w.message}`);
  if (problems.length) throw new CaseFileError(problems.join("\n"));
  const docs = parsed.documents.filter((d) => d.value !== null);
  if (docs.length !== 1) {
    throw new CaseFileError(`${name}:1:1: error: ${what} is one YAML document (a mapping); found ${docs.length}`);
  }
  const doc = docs[0];
  const positions: PosNode = doc.positions;
  const locateOffset = (p: string): number => {
    const segs = splitPath(p);
    return segs ? findPosition(positions, segs).offset : positions.offset;
  };
  const checked = checkAgainst(spec, doc.value);
  for (const i of checked.issues) problems.push(`${at(locateOffset(i.path))}: error: ${i.path || what}: ${i.message}`);
  if (problems.length) throw new CaseFileError(problems.join("\n"));
  for (const n of checked.notes) notes.push(`${at(locateOffset(n.path))}: note: ${n.path}: ${n.message}`);
  decodeJwtStrings(doc.value);
  return {
    value: doc.value as T,
    notes,
    locate(p: string) {
      const m = /^(.*):(\d+):(\d+)$/.exec(at(locateOffset(p)));
      return m ? { file: m[1], line: Number(m[2]), column: Number(m[3]) } : undefined;
    },
  };
}

/** Replaces every `request.jwt` given as a token string by its (unverified) payload; the schema checked it. */
function decodeJwtStrings(doc: unknown): void {
  const requests: unknown[] = [];
  const d = doc as { request?: unknown; cases?: Array<{ request?: unknown }> };
  if (d.request) requests.push(d.request);
  for (const c of Array.isArray(d.cases) ? d.cases : []) requests.push(c.request);
  for (const r of requests) {
    const req = r as { jwt?: unknown } | undefined;
    if (req && typeof req.jwt === "string") req.jwt = decodeJwtPayload(req.jwt) as Record<string, unknown>;
  }
}

export function readCaseFileChecked(path: string): ReadResult<CaseFile> {
  const r = readChecked<CaseFile>(path, readText(path), CASE_FILE, "a case file");
  if (!r.value.cases && !r.value.validation_cases) {
    throw new CaseFileError(`${path}:1:1: error: a case file has \`cases\` and/or \`validation_cases\``);
  }
  return r;
}

export function readCaseFile(path: string): CaseFile {
  return readCaseFileChecked(path).value;
}

export function readRequestFileChecked(path: string, readStdin?: () => string): ReadResult<RequestFile> {
  return readChecked<RequestFile>(path, readText(path, readStdin), REQUEST_FILE, "a request file");
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
