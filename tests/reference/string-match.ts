// Envoy StringMatcher / HeaderMatcher semantics and Istio's translation of the four value forms
// (exact `abc`, prefix `abc*`, suffix `*abc`, presence `*`) into them. Spec §4.
//
// Regexes mimic RE2 as Envoy uses it (safe_regex, always a FULL match; `.` matches any character
// except `\n`). We compile them to JS RegExp with the `u` flag, writing `.` as `[^\n]`.

export type StringMatcher =
  | { kind: "exact"; value: string; ignoreCase?: boolean }
  | { kind: "prefix"; value: string; ignoreCase?: boolean }
  | { kind: "suffix"; value: string; ignoreCase?: boolean }
  | { kind: "regex"; source: string; re: RegExp };

/** Envoy header matcher as Istio emits it: `present_match: true` or a string match on the value. */
export type HeaderMatcher = { kind: "present" } | { kind: "string"; m: StringMatcher };

/** RE2 `.` : any character but newline. */
export const ANY = "[^\\n]";

/** Quote literal text for use inside a JS (`u`-mode) regex, like Go's regexp.QuoteMeta. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
}

/** Full-match regex matcher from an RE2-style source that uses `.` for "any char". */
export function regexMatcher(re2Source: string): StringMatcher {
  return { kind: "regex", source: re2Source, re: compileRe2(re2Source) };
}

/**
 * Compile an RE2 source to a JS full-match RegExp. Only the constructs Istio emits are needed:
 * `.`, `*`, `+`, `?`, groups, alternation, escapes, and the character classes we write ourselves.
 * Unescaped `.` outside a class is rewritten to `[^\n]`.
 */
export function compileRe2(src: string): RegExp {
  let out = "";
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === "\\") {
      out += c + (src[i + 1] ?? "");
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      out += c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      continue;
    }
    out += c === "." ? ANY : c;
  }
  return new RegExp(`^(?:${out})$`, "u");
}

/** ASCII-only lower-casing, as absl::AsciiStrToLower / EqualsIgnoreCase do. */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 32));
}

/** Envoy StringMatcher::match. A missing value (null/undefined) never matches. */
export function matchString(m: StringMatcher, value: string | null | undefined): boolean {
  if (value === null || value === undefined) return false;
  switch (m.kind) {
    case "exact":
      return m.ignoreCase ? asciiLower(value) === asciiLower(m.value) : value === m.value;
    case "prefix":
      return m.ignoreCase ? asciiLower(value).startsWith(asciiLower(m.value)) : value.startsWith(m.value);
    case "suffix":
      return m.ignoreCase ? asciiLower(value).endsWith(asciiLower(m.value)) : value.endsWith(m.value);
    case "regex":
      return m.re.test(value);
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
export function matchHeader(m: HeaderMatcher, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (m.kind === "present") return true;
  return matchString(m.m, value);
}
