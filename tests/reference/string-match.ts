// Envoy StringMatcher / HeaderMatcher semantics and Istio's translation of the four value forms
// (exact `abc`, prefix `abc*`, suffix `*abc`, presence `*`) into them. Spec §4.
//
// Envoy matches BYTES (absl::string_view): exact/prefix/suffix compare bytes (ignore_case folds ASCII only,
// absl::EqualsIgnoreCase), regexes are RE2 full matches over bytes (./re2.ts). Values may be JS strings (their
// UTF-8) or Uint8Array (raw bytes, which need not be UTF-8: header values, SNI, SANs).

import { re2, type Re2 } from "./re2.ts";

export type Bytes = string | Uint8Array;

export type StringMatcher =
  | { kind: "exact"; value: string; ignoreCase?: boolean }
  | { kind: "prefix"; value: string; ignoreCase?: boolean }
  | { kind: "suffix"; value: string; ignoreCase?: boolean }
  | { kind: "regex"; source: string; re: Re2 };

/** Envoy header matcher as Istio emits it: `present_match: true` or a string match on the value. */
export type HeaderMatcher = { kind: "present" } | { kind: "string"; m: StringMatcher };

const encoder = new TextEncoder();

/** The bytes Envoy holds for a value (a JS string stands for its UTF-8). */
export function toBytes(v: Bytes): Uint8Array {
  return typeof v === "string" ? encoder.encode(v) : v;
}

/** Quote literal text for an RE2 regex, like Go's regexp.QuoteMeta. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");
}

/** Full-match regex matcher (RE2 semantics over bytes). */
export function regexMatcher(re2Source: string): StringMatcher {
  return { kind: "regex", source: re2Source, re: re2(re2Source) };
}

/** ASCII-only lower-casing, as absl::AsciiStrToLower / EqualsIgnoreCase do. */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 32));
}

function lowerBytes(b: Uint8Array): Uint8Array {
  return b.map((x) => (x >= 0x41 && x <= 0x5a ? x + 32 : x));
}

function bytesEqual(a: Uint8Array, b: Uint8Array, at = 0): boolean {
  for (let i = 0; i < b.length; i++) if (a[at + i] !== b[i]) return false;
  return true;
}

/** Envoy StringMatcher::match over bytes. A missing value (null/undefined) never matches. */
export function matchString(m: StringMatcher, value: Bytes | null | undefined): boolean {
  if (value === null || value === undefined) return false;
  let v = toBytes(value);
  if (m.kind === "regex") return m.re.fullMatch(v);
  let p = toBytes(m.value);
  if (m.ignoreCase) {
    v = lowerBytes(v);
    p = lowerBytes(p);
  }
  if (p.length > v.length) return false;
  switch (m.kind) {
    case "exact":
      return p.length === v.length && bytesEqual(v, p);
    case "prefix":
      return bytesEqual(v, p);
    case "suffix":
      return bytesEqual(v, p, v.length - p.length);
  }
}

/**
 * Istio matcher.StringMatcherWithPrefix(v, prefix) (spec §4, §5.1.1):
 * `*` -> regex `.+` (prefix ignored); `*x` -> suffix x (no prefix) or regex `<prefix>.*<quoted x>`;
 * `x*` -> prefix `<prefix>x`; else exact `<prefix>v`. Classification order: `*`, leading `*`, trailing `*`.
 */
export function istioStringMatcher(v: string, prefix = ""): StringMatcher {
  if (v === "*") return regexMatcher(".+");
  if (v.startsWith("*")) {
    if (prefix === "") return { kind: "suffix", value: v.slice(1) };
    // Spec §4 table / §5.1.1 (1.31+): the suffix is regex-quoted. (Older Istio left it unquoted.)
    return regexMatcher(quoteMeta(prefix) + ".*" + quoteMeta(v.slice(1)));
  }
  if (v.endsWith("*")) return { kind: "prefix", value: prefix + v.slice(0, -1) };
  return { kind: "exact", value: prefix + v };
}

/**
 * Istio matcher.HeaderMatcher (ignoreCase=false) and matcher.HostMatcher (ignoreCase=true):
 * `*` -> present_match (header exists, even with an empty value); `*x` -> suffix; `x*` -> prefix; else exact.
 */
export function istioHeaderMatcher(v: string, ignoreCase: boolean): HeaderMatcher {
  if (v === "*") return { kind: "present" };
  if (v.startsWith("*")) return { kind: "string", m: { kind: "suffix", value: v.slice(1), ignoreCase } };
  if (v.endsWith("*")) return { kind: "string", m: { kind: "prefix", value: v.slice(0, -1), ignoreCase } };
  return { kind: "string", m: { kind: "exact", value: v, ignoreCase } };
}

/**
 * Istio matcher.HeaderMatcherWithRegex (key `request.experimental.inline.headers[...]`): matches any
 * comma-separated element of the (comma-joined) header value.
 */
export function istioInlineHeaderMatcher(v: string): HeaderMatcher {
  if (v === "*") return { kind: "present" };
  let r: string;
  if (v.startsWith("*")) r = ".*" + quoteMeta(v.slice(1));
  else if (v.endsWith("*")) r = quoteMeta(v.slice(0, -1)) + ".*";
  else r = quoteMeta(v);
  // RE2 full match of `^R$|^R,.*|.*,R,.*|.*,R$`; the anchors are redundant under full match.
  return { kind: "string", m: regexMatcher(`${r}|${r},.*|.*,${r},.*|.*,${r}`) };
}

/** Envoy HeaderUtility::matchHeaders for one matcher. `value` undefined = header absent. */
export function matchHeader(m: HeaderMatcher, value: Bytes | undefined): boolean {
  if (value === undefined) return false;
  if (m.kind === "present") return true;
  return matchString(m.m, value);
}
