// parse: files, directories and stdin -> AuthorizationPolicy objects with source positions.
//
// - inputs: files (any extension), directories (recursively, *.yaml / *.yml / *.json, sorted), "-" for stdin;
// - YAML multi-document streams, JSON, and `kind: List` (or `<Kind>List`) wrappers as kubectl prints them;
// - other kinds are skipped (reported in `skipped`), empty documents are ignored;
// - errors are Diagnostics with file:line:col (never exceptions).

import * as fs from "node:fs";
import * as path from "node:path";
import type { AuthorizationPolicy } from "../model/policy.ts";
import type { Diagnostic, SourceLocation } from "../model/diagnostic.ts";
import { LineIndex, findPosition, parseYamlStream } from "./yaml.ts";
import type { PosNode } from "./yaml.ts";
import { joinIndex, splitPath } from "./path.ts";
import { isMeshConfigDocument } from "../meshconfig/source.ts";

export { joinIndex, joinKey, splitPath } from "./path.ts";

export const SUPPORTED_API_VERSIONS = ["security.istio.io/v1", "security.istio.io/v1beta1"] as const;
export const DEFAULT_NAMESPACE = "default";
/** Files (and stdin) larger than this are refused. */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;
export const STDIN_NAME = "<stdin>";

export interface LoadedPolicy {
  policy: AuthorizationPolicy;
  file: string;
  /** 0-based index of the YAML document in the file. */
  documentIndex: number;
  /** 0-based index inside a `kind: List` document's `items`, when the policy came from one. */
  itemIndex?: number;
  /** True when `metadata.namespace` was absent and filled in (from --namespace, else "default"). */
  namespaceDefaulted: boolean;
  /** 1-based line/column of the node at `path` (Diagnostic path syntax), or of its nearest existing ancestor. */
  locate(path: string): SourceLocation | undefined;
}

export interface SkippedDocument {
  file: string;
  documentIndex: number;
  itemIndex?: number;
  kind: string;
  apiVersion?: string;
  name?: string;
  location?: SourceLocation;
}

export interface LoadOptions {
  /** Reads standard input for the "-" input. Defaults to reading file descriptor 0. */
  readStdin?: () => string;
  /** Alias expansion bound per document (YAML nodes). */
  maxExpandedNodes?: number;
  /** File size bound in bytes. */
  maxFileBytes?: number;
  /**
   * kubectl's `-n NS`: the namespace of documents that have none; a document whose namespace differs is
   * an error, as in kubectl (cli-runtime resource.SetNamespace with enforceNamespace). Without it, such
   * documents get "default" and a warning (kubectl would use the kube context's namespace).
   */
  namespace?: string;
}

export interface LoadResult {
  policies: LoadedPolicy[];
  skipped: SkippedDocument[];
  diagnostics: Diagnostic[];
  /** Mesh config documents among the inputs (`kind: MeshConfig`, the istio ConfigMap), also in `skipped`. */
  meshConfigs?: Array<{ file: string; value: unknown }>;
  /** Inputs read (files and stdin) and the YAML documents in them that were not empty. */
  files: number;
  documents: number;
}

const WALK_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

function parseError(message: string, location?: SourceLocation, pathStr = ""): Diagnostic {
  const d: Diagnostic = { severity: "error", stage: "parse", message, path: pathStr };
  if (location) d.location = location;
  return d;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Expands the inputs into the list of files to read, in order. */
export function expandInputs(inputs: string[], diagnostics: Diagnostic[]): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    if (input === "-") {
      out.push(input);
      continue;
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(input);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      diagnostics.push(
        parseError(code === "ENOENT" ? `no such file or directory` : `cannot read: ${(e as Error).message}`, {
          file: input,
          line: 1,
          column: 1,
        }),
      );
      continue;
    }
    if (st.isDirectory()) {
      walkDirectory(input, out, new Set(), diagnostics);
    } else {
      out.push(input);
    }
  }
  return out;
}

function walkDirectory(dir: string, out: string[], seen: Set<string>, diagnostics: Diagnostic[]): void {
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch {
    real = dir;
  }
  if (seen.has(real)) return; // symlink loop
  seen.add(real);
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (e) {
    diagnostics.push(parseError(`cannot read directory: ${(e as Error).message}`, { file: dir, line: 1, column: 1 }));
    return;
  }
  entries.sort(byteCompare);
  for (const name of entries) {
    const full = path.join(dir, name);
    let st: fs.Stats;
    try {
      st = fs.statSync(full);
    } catch {
      continue; // dangling symlink
    }
    if (st.isDirectory()) walkDirectory(full, out, seen, diagnostics);
    else if (st.isFile() && WALK_EXTENSIONS.has(path.extname(name).toLowerCase())) out.push(full);
  }
}

function readInput(
  file: string,
  opts: LoadOptions,
  maxBytes: number,
): { name: string; text?: string; error?: string } {
  if (file === "-") {
    let text: string;
    try {
      text = opts.readStdin ? opts.readStdin() : fs.readFileSync(0, "utf8");
    } catch (e) {
      return { name: STDIN_NAME, error: `cannot read standard input: ${(e as Error).message}` };
    }
    if (Buffer.byteLength(text, "utf8") > maxBytes) {
      return { name: STDIN_NAME, error: `input is larger than ${maxBytes} bytes; refusing to load it` };
    }
    return { name: STDIN_NAME, text };
  }
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (e) {
    return { name: file, error: `cannot read: ${(e as Error).message}` };
  }
  if (size > maxBytes) {
    return { name: file, error: `file is larger than ${maxBytes} bytes (${size}); refusing to load it` };
  }
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    return { name: file, error: `cannot read: ${(e as Error).message}` };
  }
  if (buf.length > maxBytes) {
    return { name: file, error: `file is larger than ${maxBytes} bytes; refusing to load it` };
  }
  try {
    return { name: file, text: new TextDecoder("utf-8", { fatal: true }).decode(buf) };
  } catch {
    return { name: file, error: "file is not valid UTF-8" };
  }
}

/** Loads AuthorizationPolicies from files, directories and stdin ("-"). Never throws. */
export function loadPolicies(inputs: string[], opts: LoadOptions = {}): LoadResult {
  const result: LoadResult = { policies: [], skipped: [], diagnostics: [], files: 0, documents: 0 };
  const maxBytes = opts.maxFileBytes ?? MAX_FILE_BYTES;
  for (const file of expandInputs(inputs, result.diagnostics)) {
    const read = readInput(file, opts, maxBytes);
    if (read.error !== undefined || read.text === undefined) {
      result.diagnostics.push(parseError(read.error ?? "cannot read", { file: read.name, line: 1, column: 1 }));
      continue;
    }
    loadText(read.text, read.name, result, opts);
  }
  return result;
}

/** Loads the documents of one source text (exported for callers that already hold the text). */
export function loadPolicyText(text: string, file: string, opts: LoadOptions = {}): LoadResult {
  const result: LoadResult = { policies: [], skipped: [], diagnostics: [], files: 0, documents: 0 };
  loadText(text, file, result, opts);
  return result;
}

function loadText(rawText: string, file: string, result: LoadResult, opts: LoadOptions): void {
  // A UTF-8 byte order mark is invisible; drop it so columns on line 1 are right.
  const text = rawText.charCodeAt(0) === 0xfeff ? rawText.slice(1) : rawText;
  result.files++;
  const lines = new LineIndex(text);
  const at = (offset: number | undefined): SourceLocation =>
    offset !== undefined && offset >= 0 ? { file, ...lines.locate(offset) } : { file, line: 1, column: 1 };

  const parsed = parseYamlStream(text, { filename: file, maxExpandedNodes: opts.maxExpandedNodes });
  for (const err of parsed.errors) {
    const where = err.documentIndex !== undefined ? ` (document ${err.documentIndex})` : "";
    result.diagnostics.push(parseError(`YAML error${where}: ${err.message}`, at(err.offset)));
  }
  for (const w of parsed.warnings) {
    result.diagnostics.push({ ...parseError(`YAML: ${w.message}`, at(w.offset)), severity: "warning", code: "yaml-merge-override" });
  }
  for (const doc of parsed.documents) {
    if (doc.value === null || doc.value === undefined) continue; // empty document
    result.documents++;
    handleObject(doc.value, doc.positions, "", file, doc.index, undefined, at, result, 0, opts.namespace);
  }
}

function handleObject(
  value: unknown,
  positions: PosNode,
  prefix: string,
  file: string,
  documentIndex: number,
  itemIndex: number | undefined,
  at: (offset: number | undefined) => SourceLocation,
  result: LoadResult,
  depth: number,
  cliNamespace?: string,
): void {
  const segmentsOf = (p: string): string[] | undefined => splitPath(prefix === "" ? p : p === "" ? prefix : p.startsWith("[") ? prefix + p : `${prefix}.${p}`);
  const locate = (p: string): SourceLocation | undefined => {
    const segs = segmentsOf(p);
    if (!segs) return undefined;
    const node = findPosition(positions, segs);
    return node.offset >= 0 ? at(node.offset) : undefined;
  };
  const docLoc = locate("");
  const docLabel = itemIndex === undefined ? `document ${documentIndex}` : `document ${documentIndex}, item ${itemIndex}`;

  if (!isPlainObject(value)) {
    const what = Array.isArray(value) ? "a sequence" : `a ${typeof value}`;
    result.diagnostics.push(parseError(`${docLabel}: expected a mapping (a Kubernetes object), found ${what}`, docLoc));
    return;
  }
  const kind = value.kind;
  const apiVersion = value.apiVersion;
  if (kind === undefined || kind === null || kind === "") {
    result.diagnostics.push(parseError(`${docLabel}: Object 'Kind' is missing`, docLoc));
    return;
  }
  if (typeof kind !== "string") {
    result.diagnostics.push(parseError(`${docLabel}: kind must be a string`, locate("kind")));
    return;
  }

  // kubectl's list wrapper: `kind: List` (or a typed `FooList`) with `items`.
  if ((kind === "List" || kind.endsWith("List")) && Array.isArray(value.items) && itemIndex === undefined) {
    if (depth > 0) return;
    value.items.forEach((item, k) => {
      const itemPrefix = joinIndex(prefix === "" ? "items" : `${prefix}.items`, k);
      handleObject(item, positions, itemPrefix, file, documentIndex, k, at, result, depth + 1, cliNamespace);
    });
    return;
  }

  const name = isPlainObject(value.metadata) && typeof value.metadata.name === "string" ? value.metadata.name : undefined;
  if (kind !== "AuthorizationPolicy") {
    if (isMeshConfigDocument(value)) (result.meshConfigs ??= []).push({ file, value });
    const skipped: SkippedDocument = { file, documentIndex, kind };
    if (itemIndex !== undefined) skipped.itemIndex = itemIndex;
    if (typeof apiVersion === "string") skipped.apiVersion = apiVersion;
    if (name !== undefined) skipped.name = name;
    if (docLoc) skipped.location = docLoc;
    result.skipped.push(skipped);
    return;
  }
  if (typeof apiVersion !== "string" || !(SUPPORTED_API_VERSIONS as readonly string[]).includes(apiVersion)) {
    const shown = apiVersion === undefined ? "no apiVersion" : `apiVersion ${JSON.stringify(apiVersion)}`;
    const who = name !== undefined ? ` ${name}` : "";
    const d = parseError(
      `${docLabel}: AuthorizationPolicy${who} has ${shown}; expected ${SUPPORTED_API_VERSIONS.join(" or ")}`,
      locate(apiVersion === undefined ? "" : "apiVersion"),
      apiVersion === undefined ? "" : "apiVersion",
    );
    if (name !== undefined) {
      const meta = value.metadata as Record<string, unknown>;
      const ns = typeof meta.namespace === "string" && meta.namespace !== "" ? meta.namespace : DEFAULT_NAMESPACE;
      d.policy = `${ns}/${name}`;
    }
    result.diagnostics.push(d);
    return;
  }

  let namespaceDefaulted = false;
  const fill = cliNamespace ?? DEFAULT_NAMESPACE;
  if (value.metadata === undefined || value.metadata === null) {
    value.metadata = { namespace: fill };
    namespaceDefaulted = true;
  } else if (isPlainObject(value.metadata)) {
    const ns = value.metadata.namespace;
    if (ns === undefined || ns === null || ns === "") {
      value.metadata.namespace = fill;
      namespaceDefaulted = true;
    } else if (cliNamespace !== undefined && ns !== cliNamespace) {
      // kubectl -n: cli-runtime resource.SetNamespace (enforceNamespace).
      const d = parseError(
        `${docLabel}: the namespace from the provided object ${JSON.stringify(ns)} does not match the namespace ` +
          `${JSON.stringify(cliNamespace)}. You must pass '--namespace=${ns}' to perform this operation.`,
        locate("metadata.namespace"),
        "metadata.namespace",
      );
      if (name !== undefined) d.policy = `${ns}/${name}`;
      result.diagnostics.push(d);
      return;
    }
  }
  if (namespaceDefaulted && cliNamespace === undefined) {
    const d: Diagnostic = {
      severity: "warning",
      stage: "parse",
      code: "namespace-not-set",
      message:
        `metadata.namespace is not set: kubectl would put this policy in the namespace of its ` +
        `context (or -n); meshauthz assumes "${DEFAULT_NAMESPACE}". Set metadata.namespace, or pass --namespace NS`,
      path: "metadata.namespace",
      policy: `${DEFAULT_NAMESPACE}/${name ?? ""}`,
    };
    const loc = locate("metadata") ?? docLoc;
    if (loc) d.location = loc;
    result.diagnostics.push(d);
  }
  const loaded: LoadedPolicy = {
    policy: value as unknown as AuthorizationPolicy,
    file,
    documentIndex,
    namespaceDefaulted,
    locate,
  };
  if (itemIndex !== undefined) loaded.itemIndex = itemIndex;
  result.policies.push(loaded);
}
