// YAML stream -> JS documents + a position tree per document, built from js-yaml 5's event stream
// (js-yaml 5.5.0 has no `listener` option; `parseEvents` gives every node with its source offsets, and
// `constructFromEvents` builds the values from the same events, so positions and values agree).
//
// Resource bounds, checked before any value is built:
//  - nesting depth (js-yaml's parser, maxDepth),
//  - alias expansion: the number of nodes a document would have with every alias expanded
//    (a "billion laughs" document is a few hundred bytes and expands exponentially),
//  - recursive aliases (an alias to an anchor whose node is still open would make a cyclic object).

import {
  Schema,
  YAMLException,
  EVENT_ID,
  boolYaml11Tag,
  constructFromEvents,
  floatYaml11Tag,
  getScalarValue,
  intYaml11Tag,
  mapTag,
  mergeTag,
  nullYaml11Tag,
  parseEvents,
  seqTag,
  strTag,
} from "js-yaml";
import type { Event } from "js-yaml";

/**
 * kubectl reads YAML with sigs.k8s.io/yaml (a go-yaml v2 fork): YAML 1.1 scalars (`yes`/`on` are booleans,
 * `0777` is octal), merge keys, and timestamps kept as strings. Mirror that, so that a value kubectl would
 * turn into a boolean or a number is seen as one here too (and then rejected by the schema check).
 */
export const KUBE_YAML_SCHEMA = new Schema([
  strTag,
  seqTag,
  mapTag,
  nullYaml11Tag,
  boolYaml11Tag,
  intYaml11Tag,
  floatYaml11Tag,
  mergeTag,
]);

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
}

export interface YamlOptions {
  filename?: string;
  maxExpandedNodes?: number;
  maxDepth?: number;
}

interface Frame {
  kind: "doc" | "map" | "seq";
  node: PosNode | null;
  /** Expanded node count of this collection so far. */
  size: number;
  anchor: string | null;
  index: number;
  /** map: whether the next event is a key. */
  expectKey: boolean;
  keyName: string | null;
  keyOffset: number;
}

function eventOffset(source: string, e: Event): number {
  switch (e.type) {
    case EVENT_ID.SCALAR: {
      let off = e.valueStart;
      // Quoted scalars: point at the opening quote.
      if (off >= 0 && (e.style === 2 || e.style === 3) && off > 0) off -= 1;
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

function anchorName(source: string, e: { anchorStart: number; anchorEnd: number }): string | null {
  return e.anchorStart >= 0 ? source.slice(e.anchorStart, e.anchorEnd) : null;
}

function errorFrom(e: unknown): { message: string; offset?: number } {
  if (e instanceof YAMLException) {
    return { message: e.reason || "YAML error", offset: e.mark?.position };
  }
  if (e instanceof RangeError) return { message: "document is too deeply nested" };
  return { message: e instanceof Error ? e.message : String(e) };
}

/** Parses a YAML (or JSON) stream into documents with position trees. Never throws. */
export function parseYamlStream(source: string, opts: YamlOptions = {}): YamlStreamResult {
  const maxExpanded = opts.maxExpandedNodes ?? DEFAULT_MAX_EXPANDED_NODES;
  const errors: YamlError[] = [];
  const documents: YamlDocument[] = [];

  let events: Event[];
  try {
    events = parseEvents(source, { filename: opts.filename ?? "", maxDepth: opts.maxDepth ?? DEFAULT_MAX_DEPTH });
  } catch (e) {
    errors.push(errorFrom(e));
    return { documents, errors };
  }

  // Split into documents: [start, end) event ranges, each a DOCUMENT event through its matching POP.
  const ranges: Array<[number, number]> = [];
  {
    let depth = 0;
    let start = -1;
    for (let k = 0; k < events.length; k++) {
      const t = events[k].type;
      if (t === EVENT_ID.DOCUMENT || t === EVENT_ID.MAPPING || t === EVENT_ID.SEQUENCE) {
        if (depth === 0) start = k;
        depth++;
      } else if (t === EVENT_ID.POP) {
        depth--;
        if (depth === 0 && start >= 0) ranges.push([start, k + 1]);
      }
    }
  }

  ranges.forEach(([start, end], docIndex) => {
    const scan = scanDocument(source, events, start, end, maxExpanded);
    if (scan.failure) {
      errors.push({ ...scan.failure, documentIndex: docIndex });
      return;
    }
    try {
      const values = constructFromEvents(events.slice(start, end), {
        source,
        filename: opts.filename,
        schema: KUBE_YAML_SCHEMA,
        json: false,
      });
      documents.push({ index: docIndex, offset: scan.root.offset, value: values[0] ?? null, positions: scan.root });
    } catch (e) {
      errors.push({ ...errorFrom(e), documentIndex: docIndex });
    }
  });
  return { documents, errors };
}

/**
 * One pass over a document's events: builds the position tree and counts the nodes the document has
 * with aliases expanded, stopping at the first violation of the bounds.
 */
function scanDocument(
  source: string,
  events: Event[],
  start: number,
  end: number,
  maxExpanded: number,
): { root: PosNode; failure: { message: string; offset?: number } | null } {
  const stack: Frame[] = [];
  const anchorSizes = new Map<string, number>();
  const openAnchors = new Set<string>();
  let root: PosNode = { offset: -1 };
  for (let j = start; j < end; j++) {
    const e = events[j];
    if (e.type === EVENT_ID.DOCUMENT) {
      stack.push({ kind: "doc", node: null, size: 0, anchor: null, index: 0, expectKey: false, keyName: null, keyOffset: -1 });
      continue;
    }
    if (e.type === EVENT_ID.POP) {
      const f = stack.pop()!;
      if (f.anchor !== null) {
        openAnchors.delete(f.anchor);
        anchorSizes.set(f.anchor, f.size);
      }
      attachSize(stack, f.size);
      continue;
    }
    const parent = stack[stack.length - 1];
    const offset = eventOffset(source, e);
    let size = 1;
    if (e.type === EVENT_ID.ALIAS) {
      const name = anchorName(source, e) ?? "";
      if (openAnchors.has(name)) {
        return { root, failure: { message: `recursive alias "*${name}" (an anchor referenced inside itself) is not supported`, offset } };
      }
      const s = anchorSizes.get(name);
      if (s === undefined) return { root, failure: { message: `unidentified alias "${name}"`, offset } };
      size = s;
    }
    // Which child of the parent is this node?
    let node: PosNode | null = null;
    if (parent.kind === "doc") {
      node = { offset };
      root = node;
    } else if (parent.kind === "seq") {
      if (parent.node) {
        node = { offset };
        (parent.node.children ??= new Map()).set(String(parent.index), node);
      }
      parent.index++;
    } else if (parent.expectKey) {
      // A key: a scalar key names the next value; complex keys and aliased keys are not addressable.
      parent.expectKey = false;
      parent.keyOffset = offset;
      parent.keyName = e.type === EVENT_ID.SCALAR ? getScalarValue(source, e) : null;
    } else {
      parent.expectKey = true;
      if (parent.node && parent.keyName !== null) {
        node = { offset: parent.keyOffset };
        (parent.node.children ??= new Map()).set(parent.keyName, node);
      }
    }
    if (e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) {
      const anchor = anchorName(source, e);
      if (anchor !== null) openAnchors.add(anchor);
      stack.push({
        kind: e.type === EVENT_ID.MAPPING ? "map" : "seq",
        node,
        size: 1,
        anchor,
        index: 0,
        expectKey: true,
        keyName: null,
        keyOffset: -1,
      });
    } else {
      if (e.type === EVENT_ID.SCALAR) {
        const anchor = anchorName(source, e);
        if (anchor !== null) anchorSizes.set(anchor, 1);
      }
      attachSize(stack, size);
    }
    // Checked at every node, so that an exponential expansion is refused while the numbers are small.
    if (currentTotal(stack) > maxExpanded) {
      return {
        root,
        failure: {
          message:
            `document expands to more than ${maxExpanded} YAML nodes through aliases ` +
            `(possible "billion laughs" YAML bomb); refusing to load it`,
          offset,
        },
      };
    }
  }
  return { root, failure: null };
}

function attachSize(stack: Frame[], size: number): void {
  const top = stack[stack.length - 1];
  if (top) top.size += size;
}

function currentTotal(stack: Frame[]): number {
  let t = 0;
  for (const f of stack) t += f.size;
  return t;
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
