// Matchers on the HTTP request and the connection: hosts, methods, paths (incl. templates),
// headers, ports, SNI and Envoy dynamic metadata.
import { Attribute, GapClass, MatchKind, type MatchNode, type PatternPiece } from "../ir.ts";
import { anyOf, classify, leaf, stringMatcher } from "./string-form.ts";

/** hosts: :authority as received (port included), case-insensitive; `*` = header present. */
export function hostMatcher(value: string): MatchNode {
  return stringMatcher(Attribute.Host, value, MatchKind.Present, { ignoreCase: true });
}

/** methods: :method, case-sensitive; `*` = header present. */
export function methodMatcher(value: string): MatchNode {
  return stringMatcher(Attribute.Method, value, MatchKind.Present);
}

export function isPathTemplate(value: string): boolean {
  return value.includes("{*}") || value.includes("{**}");
}

/** paths: url_path (query and fragment removed); `*` = regex `.+`; `{*}`/`{**}` = Envoy uri_template. */
export function pathMatcher(value: string): MatchNode {
  if (isPathTemplate(value)) {
    return leaf({ attribute: Attribute.UrlPath, kind: MatchKind.Pattern, pattern: uriTemplatePieces(value) });
  }
  return stringMatcher(Attribute.UrlPath, value, MatchKind.NonEmpty);
}

/** Envoy's uri template regex: `*` = one or more pchars, `**` = zero or more pchars or `/`. */
export function uriTemplatePieces(template: string): PatternPiece[] {
  const pieces: PatternPiece[] = [];
  let text = "";
  for (let i = 0; i < template.length; ) {
    if (template.startsWith("{**}", i)) {
      if (text) pieces.push({ kind: "literal", text });
      text = "";
      pieces.push({ kind: "gap", cls: GapClass.PcharOrSlash, min: 0 });
      i += 4;
    } else if (template.startsWith("{*}", i)) {
      if (text) pieces.push({ kind: "literal", text });
      text = "";
      pieces.push({ kind: "gap", cls: GapClass.Pchar, min: 1 });
      i += 3;
    } else {
      text += template[i];
      i += 1;
    }
  }
  if (text) pieces.push({ kind: "literal", text });
  return pieces;
}

/** request.headers[<name>]: value of the (lower-cased) header, repeated values joined with `,`.
 *  Pseudo-headers with a dedicated attribute read that attribute. */
export function headerMatcher(name: string, value: string): MatchNode {
  const lower = name.toLowerCase();
  if (lower === ":authority") return stringMatcher(Attribute.Host, value, MatchKind.Present);
  if (lower === ":method") return stringMatcher(Attribute.Method, value, MatchKind.Present);
  return stringMatcher(Attribute.Header, value, MatchKind.Present, { key: lower });
}

export function portMatcher(value: string): MatchNode {
  return leaf({ attribute: Attribute.DestinationPort, kind: MatchKind.Port, port: Number(value) });
}

/** connection.sni: `*` = regex `.+`. */
export function sniMatcher(value: string): MatchNode {
  return stringMatcher(Attribute.Sni, value, MatchKind.NonEmpty);
}

/**
 * experimental.envoy.filters.<filter>[<key>] (Istio envoyFilterGenerator, generator.go): the key is
 * split once, so `<key>` is one literal struct key (`a[payload][sub]` is filter `a`, key
 * `payload][sub`). A value `[v]` is a ListMatcher one_of on strings.Trim(v, "[]") (every leading
 * and trailing bracket removed): lists only; any other value is a string matcher: strings only.
 */
export function metadataMatcher(filter: string, key: string, value: string): MatchNode {
  const path = [filter, key];
  if (value.startsWith("[") && value.endsWith("]")) {
    return stringMatcher(Attribute.DynamicMetadata, trimBrackets(value), MatchKind.NonEmpty, { path, listOnly: true });
  }
  return stringMatcher(Attribute.DynamicMetadata, value, MatchKind.NonEmpty, { path });
}

/** Go's strings.Trim(v, "[]"). */
export function trimBrackets(v: string): string {
  return v.replace(/^[[\]]+/, "").replace(/[[\]]+$/, "");
}

/** `experimental.envoy.filters.a.b[c]` -> ["envoy.filters.a.b", "c"] as Istio's
 *  strings.SplitN(strings.TrimSuffix(strings.TrimPrefix(key, "experimental."), "]"), "[", 2). */
export function splitMetadataKey(key: string): [string, string] | null {
  let k = key.startsWith("experimental.") ? key.slice("experimental.".length) : key;
  if (k.endsWith("]")) k = k.slice(0, -1);
  const open = k.indexOf("[");
  if (open < 0) return null;
  return [k.slice(0, open), k.slice(open + 1)];
}

// request.experimental.inline.headers[<name>]: some comma-separated element of the header matches
// (Istio's InlineHeaderMatcher regex `^R$|^R,.*|.*,R,.*|.*,R$`, R = the quoted value with `*` as
// `.*`), an RE2 full match: every `.*` is an ANY gap (no `\n`, UTF-8 only), never a byte prefix.
export function inlineHeaderMatcher(name: string, value: string): MatchNode {
  const key = name.toLowerCase();
  const any: PatternPiece = { kind: "gap", cls: GapClass.Any, min: 0 };
  const lit = (text: string): PatternPiece => ({ kind: "literal", text });
  const pattern = (pieces: PatternPiece[]) =>
    leaf({ attribute: Attribute.Header, kind: MatchKind.Pattern, key, pattern: pieces.filter((p) => p.kind !== "literal" || p.text !== "") });
  const f = classify(value);
  switch (f.form) {
    case "presence":
      return leaf({ attribute: Attribute.Header, kind: MatchKind.Present, key });
    case "prefix": // p.* | .*,p.*  (the other alternatives are contained in these)
      return anyOf([pattern([lit(f.text), any]), pattern([any, lit(`,${f.text}`), any])]);
    case "suffix": // .*s | .*s,.*
      return anyOf([pattern([any, lit(f.text)]), pattern([any, lit(`${f.text},`), any])]);
    case "exact":
      return anyOf([
        leaf({ attribute: Attribute.Header, kind: MatchKind.Exact, key, value: f.text }),
        pattern([lit(`${f.text},`), any]),
        pattern([any, lit(`,${f.text},`), any]),
        pattern([any, lit(`,${f.text}`)]),
      ]);
  }
}
