// YAML stream -> JS documents + a position tree per document, read the way kubectl reads YAML
// (sigs.k8s.io/yaml YAMLToJSON over go-yaml v2; docs/decisions.md "YAML as kubectl reads it").
// js-yaml 5's `parseEvents` does the syntax (every node with its source offsets); the values are built
// here from those events with go-yaml v2's rules, so values and positions come from one pass:
//  - scalars: goyaml-scalar.ts (YAML 1.1 words, Go number syntax, no sexagesimal, timestamps as strings);
//  - merge keys `<<` (a mapping, an alias to one, or a sequence of them) applied **where the key stands**,
//    as go-yaml v2's decoder does (decode.go `mapping`/`merge`): a key written before `<<` is overwritten
//    by the merged value (reported as a warning, since YAML's merge spec says the opposite), a key written
//    after it wins; in a sequence of maps, earlier maps win;
//  - a key written twice in one mapping is an error naming both places: go-yaml v2 silently keeps the
//    last one, kubectl 1.20-1.21 refused it (`mapping key "x" already defined at line N`); a policy gate
//    should not pick one of two readings silently;
//  - non-string keys become strings as YAMLToJSON writes them (`yes:` -> "true", `1e3:` -> "1000").
//
// Resource bounds, checked while building:
//  - nesting depth (js-yaml's parser, maxDepth),
//  - alias expansion: the number of nodes a document has with every alias expanded
//    (a "billion laughs" document is a few hundred bytes and expands exponentially),
//  - recursive aliases (an alias to an anchor whose node is still open would make a cyclic object).

import { YAMLException, EVENT_ID, getScalarValue, parseEvents } from "js-yaml";
import type { Event } from "js-yaml";
import { ScalarError, keyString, resolveScalar, shortTag } from "./goyaml-scalar.ts";

export const DEFAULT_MAX_EXPANDED_NODES = 1_000_000;
export const DEFAULT_MAX_DEPTH = 100;

/** A node of the position tree: where it starts, and its children by key (mapping) or index (sequence). */
export interface PosNode {
  offset: number;
  children?: Map<string, PosNode>;
}

export interface YamlDocument {
  index: number;
  /** Offset of the document's first node (or of its start marker). */
  offset: number;
  /** null for an empty document. */
  value: unknown;
  positions: PosNode;
}

export interface YamlError {
  message: string;
  offset?: number;
  /** The document it belongs to, when the error is confined to one. */
  documentIndex?: number;
}

export interface YamlStreamResult {
  documents: YamlDocument[];
  errors: YamlError[];
  /** Accepted, but read differently by other YAML readers (a merge key overriding an explicit key). */
  warnings: YamlError[];
}

export interface YamlOptions {
  filename?: string;
  /**
   * go-yaml v2 reads unquoted y/Y/n/N as booleans (kubectl does: policy manifests keep the default true).
   * Case files are meshauthz's own format, written like the conformance corpus (`name: n` is a policy named
   * "n"): their reader passes false. Every other kubectl rule applies to both.
   */
  letterBools?: boolean;
  /** `!!binary` as raw bytes (a Uint8Array) instead of go-yaml's string: case files, which may carry bytes
   *  that are not UTF-8 (header values, SNI); kubectl's reading (a string) stays the default. */
  binaryAsBytes?: boolean;
  maxExpandedNodes?: number;
  maxDepth?: number;
}

function errorFrom(e: unknown): { message: string; offset?: number } {
  if (e instanceof YAMLException) {
    return { message: e.reason || "YAML error", offset: e.mark?.position };
  }
  if (e instanceof RangeError) return { message: "document is too deeply nested" };
  return { message: e instanceof Error ? e.message : String(e) };
}

class BuildError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** A built node: its value, position subtree and expanded size (in YAML nodes). */
interface Built {
  value: unknown;
  pos: PosNode;
  size: number;
}

const SCALAR_PLAIN = 1;
/** First characters with which go-yaml v2 may read a plain scalar as something other than a string
 *  (resolve.go resolveTable: signs, digits, `.`, and the first letters of the words it knows). */
const MAY_RESOLVE = new Uint8Array(128);
for (const c of "+-0123456789.yYnNtTfFoO~") MAY_RESOLVE[c.charCodeAt(0)] = 1;

function isPlainMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** Deep copy: an alias is decoded afresh each time in go-yaml, so no two places share one object. */
function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (v instanceof Uint8Array) return v.slice();
  if (isPlainMap(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) setKey(out, k, clone(v[k]));
    return out;
  }
  return v;
}

class DocumentBuilder {
  private k: number;
  private readonly anchors = new Map<string, Built>();
  private readonly open = new Set<string>();
  private total = 0;

  constructor(
    private readonly source: string,
    private readonly events: Event[],
    start: number,
    private readonly maxExpanded: number,
    private readonly warn: (message: string, offset: number) => void,
    private readonly where: (offset: number) => string,
    private readonly letterBools: boolean,
    private readonly binaryAsBytes: boolean,
    /** Offset of `source` (one chunk of the stream) in the whole text. */
    private readonly base: number,
  ) {
    this.k = start;
  }

  private count(n: number, offset: number): void {
    this.total += n;
    if (this.total > this.maxExpanded) {
      throw new BuildError(
        `document expands to more than ${this.maxExpanded} YAML nodes through aliases ` +
          `(possible "billion laughs" YAML bomb); refusing to load it`,
        offset,
      );
    }
  }

  private anchorOf(e: { anchorStart: number; anchorEnd: number }): string | null {
    return e.anchorStart >= 0 ? this.source.slice(e.anchorStart, e.anchorEnd) : null;
  }

  private tagOf(e: { tagStart: number; tagEnd: number }): string {
    return e.tagStart >= 0 ? this.source.slice(e.tagStart, e.tagEnd) : "";
  }

  offsetOf(e: Event): number {
    const off = this.chunkOffset(e);
    return off >= 0 ? off + this.base : off;
  }

  private chunkOffset(e: Event): number {
    switch (e.type) {
      case EVENT_ID.SCALAR: {
        let off = e.valueStart;
        if (off > 0 && (e.style === 2 || e.style === 3)) off -= 1; // point at the opening quote
        if (e.anchorStart >= 0 && (off < 0 || e.anchorStart - 1 < off)) off = e.anchorStart - 1;
        if (e.tagStart >= 0 && (off < 0 || e.tagStart < off)) off = e.tagStart;
        return off;
      }
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        let off = e.start;
        if (e.anchorStart >= 0 && e.anchorStart - 1 < off) off = e.anchorStart - 1;
        if (e.tagStart >= 0 && e.tagStart < off) off = e.tagStart;
        return off;
      }
      case EVENT_ID.ALIAS:
        return e.anchorStart - 1;
      default:
        return -1;
    }
  }

  /** Position tree of the node just built (the document's root after the first node()). */
  rootPos(): PosNode {
    return this.lastPos ?? { offset: this.lastOffset };
  }

  // Out-parameters of node() and key(), so that building a node allocates only what the result keeps.
  /** Position subtree of the last node (null for a scalar: its offset is lastOffset). */
  private lastPos: PosNode | null = null;
  private lastOffset = -1;
  private lastSize = 0;
  /** The last node was an alias, or a sequence written in place. */
  private lastAlias = false;
  private lastSeq = false;
  private keyName: string | null = null;
  private keyOffset = -1;

  /** A scalar's value: the common string case without allocation, the rest via resolveScalar. */
  private scalar(e: Event & { type: typeof EVENT_ID.SCALAR }, offset: number): unknown {
    const text = getScalarValue(this.source, e);
    if (e.tagStart < 0 && (e.style !== SCALAR_PLAIN || (text.length > 0 && !MAY_RESOLVE[text.charCodeAt(0)]))) return text;
    if (this.binaryAsBytes && shortTag(this.tagOf(e)) === "!!binary") {
      const clean = text.replace(/[\r\n ]/g, "");
      if (!/^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(clean)) {
        throw new BuildError("!!binary value contains invalid base64 data", offset);
      }
      return new Uint8Array(Buffer.from(clean, "base64"));
    }
    try {
      return resolveScalar(text, e.style === SCALAR_PLAIN, this.tagOf(e), this.letterBools).value;
    } catch (err) {
      if (err instanceof ScalarError) throw new BuildError(err.message, offset);
      throw err;
    }
  }

  /** Builds the node at the cursor, moves past it, and returns its value (position: lastPos/lastOffset). */
  node(): unknown {
    const e = this.events[this.k++];
    const offset = this.offsetOf(e);
    this.lastAlias = false;
    this.lastSeq = false;
    if (e.type === EVENT_ID.ALIAS) {
      const name = this.anchorOf(e) ?? "";
      if (this.open.has(name)) {
        throw new BuildError(`recursive alias "*${name}" (an anchor referenced inside itself) is not supported`, offset);
      }
      const target = this.anchors.get(name);
      if (!target) throw new BuildError(`unidentified alias "${name}"`, offset);
      this.count(target.size, offset);
      this.lastPos = target.pos;
      this.lastOffset = offset;
      this.lastSize = target.size;
      this.lastAlias = true;
      return clone(target.value);
    }
    const anchor = e.type === EVENT_ID.DOCUMENT || e.type === EVENT_ID.POP ? null : this.anchorOf(e);
    if (anchor !== null) this.open.add(anchor);
    let value: unknown;
    if (e.type === EVENT_ID.SCALAR) {
      this.count(1, offset);
      value = this.scalar(e, offset);
      this.lastPos = null;
      this.lastSize = 1;
    } else if (e.type === EVENT_ID.SEQUENCE) {
      value = this.sequence(offset);
      this.lastSeq = true;
    } else if (e.type === EVENT_ID.MAPPING) {
      value = this.mapping(offset);
    } else {
      throw new BuildError("unexpected YAML event", offset);
    }
    this.lastOffset = offset;
    if (anchor !== null) {
      this.open.delete(anchor);
      this.anchors.set(anchor, { value, pos: this.lastPos ?? { offset }, size: this.lastSize });
    }
    return value;
  }

  private sequence(offset: number): unknown[] {
    this.count(1, offset);
    const items: unknown[] = [];
    const children = new Map<string, PosNode>();
    let size = 1;
    while (this.events[this.k].type !== EVENT_ID.POP) {
      const v = this.node();
      children.set(String(items.length), this.lastPos ?? { offset: this.lastOffset });
      items.push(v);
      size += this.lastSize;
    }
    this.k++; // POP
    this.lastPos = { offset, children };
    this.lastSize = size;
    return items;
  }

  /** Reads the key of a mapping entry into keyName (as YAMLToJSON writes it; null for `<<`) and keyOffset. */
  private key(): void {
    const e = this.events[this.k];
    const offset = this.offsetOf(e);
    this.keyOffset = offset;
    if (e.type === EVENT_ID.SCALAR) {
      this.k++;
      this.count(1, offset);
      const text = getScalarValue(this.source, e);
      if (e.tagStart < 0 && text !== "<<" && (e.style !== SCALAR_PLAIN || (text.length > 0 && !MAY_RESOLVE[text.charCodeAt(0)]))) {
        this.keyName = text;
        return;
      }
      const tag = this.tagOf(e);
      // decode.go isMerge: a `<<` that is plain (implicit) or tagged !!merge.
      if (text === "<<" && ((e.style === SCALAR_PLAIN && tag === "") || tag === "!!merge" || tag === "!<tag:yaml.org,2002:merge>")) {
        this.keyName = null;
        return;
      }
      try {
        this.keyName = keyString(resolveScalar(text, e.style === SCALAR_PLAIN, tag, this.letterBools));
      } catch (err) {
        if (err instanceof ScalarError) throw new BuildError(err.message, offset);
        throw err;
      }
      return;
    }
    const v = this.node();
    if (this.lastAlias && !isPlainMap(v) && !Array.isArray(v)) {
      this.keyName = keyString(resolveScalar(String(v ?? ""), true, ""));
      this.keyOffset = offset;
      return;
    }
    throw new BuildError("invalid map key: a mapping or sequence cannot be a key (kubectl: invalid map key)", offset);
  }

  private mapping(offset: number): Record<string, unknown> {
    this.count(1, offset);
    const obj: Record<string, unknown> = {};
    const children = new Map<string, PosNode>();
    /** Keys whose current value came from a merge (every other key in `children` was written explicitly). */
    let merged: Set<string> | null = null;
    let size = 1;
    while (this.events[this.k].type !== EVENT_ID.POP) {
      this.key();
      const name = this.keyName;
      const keyOffset = this.keyOffset;
      const value = this.node();
      size += 1 + this.lastSize;
      if (name === null) {
        merged ??= new Set();
        this.merge(value, obj, children, merged, keyOffset);
        continue;
      }
      const first = children.get(name);
      if (first !== undefined && !merged?.has(name)) {
        throw new BuildError(
          `mapping key ${JSON.stringify(name)} already defined at ${this.where(first.offset)}; kubectl would silently keep ` +
            `this second value, other tools the first: remove one`,
          keyOffset,
        );
      }
      merged?.delete(name);
      setKey(obj, name, value);
      const pos: PosNode = { offset: keyOffset };
      if (this.lastPos?.children) pos.children = this.lastPos.children;
      children.set(name, pos);
    }
    this.k++; // POP
    this.lastPos = { offset, children };
    this.lastSize = size;
    return obj;
  }

  /** decode.go `merge`: a mapping or an alias to one, or a sequence of those (earlier ones win). */
  private merge(
    value: unknown,
    obj: Record<string, unknown>,
    children: Map<string, PosNode>,
    merged: Set<string>,
    mergeOffset: number,
  ): void {
    const bad = () => new BuildError("map merge requires map or sequence of maps as the value", mergeOffset);
    const pos = this.lastPos ?? { offset: this.lastOffset };
    let sources: Array<{ value: Record<string, unknown>; pos: PosNode }>;
    if (isPlainMap(value)) {
      sources = [{ value, pos }];
    } else if (Array.isArray(value) && this.lastSeq) {
      sources = value.map((v, i) => {
        if (!isPlainMap(v)) throw bad();
        return { value: v, pos: pos.children?.get(String(i)) ?? { offset: mergeOffset } };
      });
      sources.reverse(); // applied last to first, so that the first one's keys stay
    } else {
      throw bad();
    }
    for (const src of sources) {
      for (const k of Object.keys(src.value)) {
        const earlier = children.get(k);
        if (earlier !== undefined && !merged.has(k)) {
          this.warn(
            `merge key overrides ${JSON.stringify(k)} written above it at ${this.where(earlier.offset)}: kubectl (go-yaml v2) ` +
              `applies \`<<\` where it stands, so the merged value wins; YAML's merge rule says the opposite. ` +
              `Put \`<<\` first`,
            mergeOffset,
          );
        }
        merged.add(k);
        setKey(obj, k, src.value[k]);
        const p = src.pos.children?.get(k);
        children.set(k, p ?? { offset: mergeOffset });
      }
    }
  }
}

/**
 * Where the stream can be cut into documents without changing its meaning: before each `---` that starts a
 * line (a document marker: YAML forbids it inside any scalar). Parsing one document at a time keeps the
 * event arrays small (most of the cost at 10,000 policies was collecting one array of a million events).
 * A stream with directives (`%YAML`, `%TAG`, which belong to the next document) is parsed whole.
 */
function chunks(source: string): number[] {
  if (/^%/m.test(source)) return [0];
  const starts = [0];
  const marker = /^---(?=[ \t\r\n]|$)/gm;
  for (let m = marker.exec(source); m; m = marker.exec(source)) if (m.index > 0) starts.push(m.index);
  return starts;
}

/** Parses a YAML (or JSON) stream into documents with position trees. Never throws. */
export function parseYamlStream(source: string, opts: YamlOptions = {}): YamlStreamResult {
  const maxExpanded = opts.maxExpandedNodes ?? DEFAULT_MAX_EXPANDED_NODES;
  const errors: YamlError[] = [];
  const warnings: YamlError[] = [];
  const documents: YamlDocument[] = [];
  let lines: LineIndex | null = null;
  const where = (offset: number): string => {
    lines ??= new LineIndex(source);
    const p = lines.locate(offset);
    return `line ${p.line}, column ${p.column}`;
  };

  const starts = chunks(source);
  let docIndex = 0;
  for (let c = 0; c < starts.length; c++) {
    const base = starts[c];
    const chunk = starts.length === 1 ? source : source.slice(base, c + 1 < starts.length ? starts[c + 1] : source.length);
    let events: Event[];
    try {
      events = parseEvents(chunk, { filename: opts.filename ?? "", maxDepth: opts.maxDepth ?? DEFAULT_MAX_DEPTH });
    } catch (e) {
      const err = errorFrom(e);
      if (err.offset !== undefined) err.offset += base;
      errors.push(starts.length === 1 ? err : { ...err, documentIndex: docIndex });
      if (starts.length === 1) return { documents, errors, warnings };
      docIndex++;
      continue;
    }
    for (let k = 0; k < events.length; k++) {
      if (events[k].type !== EVENT_ID.DOCUMENT) continue;
      const index = docIndex++;
      // The document's extent: up to its POP.
      let end = k + 1;
      for (let depth = 1; end < events.length && depth > 0; end++) {
        const t = events[end].type;
        if (t === EVENT_ID.DOCUMENT || t === EVENT_ID.MAPPING || t === EVENT_ID.SEQUENCE) depth++;
        else if (t === EVENT_ID.POP) depth--;
      }
      if (k + 1 >= end - 1) {
        k = end - 1;
        continue; // empty document: no node
      }
      const builder = new DocumentBuilder(
        chunk,
        events,
        k + 1,
        maxExpanded,
        (message, offset) => warnings.push({ message, offset, documentIndex: index }),
        where,
        opts.letterBools ?? true,
        opts.binaryAsBytes ?? false,
        base,
      );
      try {
        const value = builder.node();
        const positions = builder.rootPos();
        documents.push({ index, offset: positions.offset, value, positions });
      } catch (e) {
        if (e instanceof BuildError) errors.push({ message: e.message, offset: e.offset >= 0 ? e.offset : undefined, documentIndex: index });
        else errors.push({ ...errorFrom(e), documentIndex: index });
      }
      k = end - 1;
    }
  }
  return { documents, errors, warnings };
}

/** 1-based line/column lookup for offsets in one source text (\n, \r\n and lone \r end lines). */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(source: string) {
    for (let k = 0; k < source.length; k++) {
      const c = source.charCodeAt(k);
      if (c === 10) this.starts.push(k + 1);
      else if (c === 13) {
        if (source.charCodeAt(k + 1) === 10) k++;
        this.starts.push(k + 1);
      }
    }
  }

  locate(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo] + 1 };
  }
}

/** Deepest node of the position tree along `segments` (the nearest existing ancestor). */
export function findPosition(root: PosNode, segments: string[]): PosNode {
  let node = root;
  let best = root;
  for (const seg of segments) {
    const next = node.children?.get(seg);
    if (!next) break;
    node = next;
    if (node.offset >= 0) best = node;
  }
  return best;
}
