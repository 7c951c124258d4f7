// Istio's four string forms (exact, `prefix*`, `*suffix`, `*`), classified in Istio's order:
// `*` first, then a leading `*`, then a trailing `*`; any other `*` is a literal character.
import { Attribute, MatchKind, type Leaf, type MatchNode } from "../ir.ts";

export type StringForm =
  | { form: "presence" }
  | { form: "suffix"; text: string }
  | { form: "prefix"; text: string }
  | { form: "exact"; text: string };

export function classify(value: string): StringForm {
  if (value === "*") return { form: "presence" };
  if (value.startsWith("*")) return { form: "suffix", text: value.slice(1) };
  if (value.endsWith("*")) return { form: "prefix", text: value.slice(0, -1) };
  return { form: "exact", text: value };
}

export function leaf(l: Leaf): MatchNode {
  return { op: "leaf", leaf: l };
}

/** How `*` is enforced for a field: Envoy `present_match` (header fields) or regex `.+`. */
export type Presence = MatchKind.Present | MatchKind.NonEmpty;

/** A plain string matcher (Istio StringMatcherWithPrefix with an empty prefix, or HeaderMatcher). */
export function stringMatcher(
  attribute: Attribute,
  value: string,
  presence: Presence,
  extra: Partial<Leaf> = {},
): MatchNode {
  const f = classify(value);
  switch (f.form) {
    case "presence": {
      // Case folding means nothing for a presence test.
      const { ignoreCase: _, ...rest } = extra;
      return leaf({ ...rest, attribute, kind: presence });
    }
    case "suffix":
      return leaf({ ...extra, attribute, kind: MatchKind.Suffix, value: f.text });
    case "prefix":
      return leaf({ ...extra, attribute, kind: MatchKind.Prefix, value: f.text });
    case "exact":
      return leaf({ ...extra, attribute, kind: MatchKind.Exact, value: f.text });
  }
}

/** `values` as OR; a single value needs no OR node. */
export function anyOf(nodes: MatchNode[]): MatchNode {
  return nodes.length === 1 ? nodes[0] : { op: "or", children: nodes };
}

export function allOf(nodes: MatchNode[]): MatchNode {
  if (nodes.length === 0) return { op: "any" };
  return nodes.length === 1 ? nodes[0] : { op: "and", children: nodes };
}

export function not(node: MatchNode): MatchNode {
  return { op: "not", child: node };
}
