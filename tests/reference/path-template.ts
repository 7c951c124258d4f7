// Path templates, spec §5.2.5.
// Istio (matcher/template.go) replaces `{*}` -> `*` and `{**}` -> `**` and hands the result to Envoy's
// uri_template matcher, which parses it (uri_template_internal.cc parsePathPatternSyntax) and full-matches
// the regex against the path with query and fragment removed:
//   `*`  -> [a-zA-Z0-9-._~%!$&'()+,;:@=]+   (one or more pchars, no `/`)
//   `**` -> [a-zA-Z0-9-._~%!$&'()+,;:@=/]*  (zero or more, may contain `/`)
//   literal segments matched exactly; segments joined with `/`; a trailing `/` stays a literal `/`.

const LITERAL_CHARS = "a-zA-Z0-9\\-._~%!$&'()+,;:@=";
const PATH_GLOB = `[${LITERAL_CHARS}]+`;
const TEXT_GLOB = `[${LITERAL_CHARS}/]*`;
const VALID_LITERAL = new RegExp(`^[${LITERAL_CHARS}]+$`);

/** Istio security.ContainsPathTemplate. */
export function containsPathTemplate(v: string): boolean {
  return v.includes("{*}") || v.includes("{**}");
}

/** Istio sanitizePathTemplate: `{*}` -> `*`, `{**}` -> `**` (other `*` left as is). */
export function istioToEnvoyTemplate(v: string): string {
  return v.replace(/\{\*\*\}|\{\*\}/g, (m) => (m === "{**}" ? "**" : "*"));
}

type Op = "*" | "**";
type Segment = { op: Op } | { lit: string } | { varName: string; match: Array<{ op: Op } | { lit: string }> };

/** Envoy toRegexPattern(Literal): only `$ ( ) + .` are escaped; other pchars are not regex-special. */
function literalRegex(l: string): string {
  return l.replace(/[$()+.]/g, "\\$&");
}

function segRegex(s: { op: Op } | { lit: string }): string {
  if ("op" in s) return s.op === "*" ? PATH_GLOB : TEXT_GLOB;
  return literalRegex(s.lit);
}

/**
 * Parse an Envoy path template into a full-match RegExp, or null when Envoy would reject it
 * (Envoy would NACK the whole RBAC config; here such a value simply never matches).
 */
export function envoyTemplateRegex(template: string): RegExp | null {
  if (!/^\/[\x21-\x7e]*$/.test(template)) return null; // ^/[[:graph:]]*$
  let path = template.slice(1);
  const segments: Segment[] = [];
  let suffix = "";

  const parseLiteral = (): string | null => {
    const idx = path.indexOf("/");
    const lit = idx < 0 ? path : path.slice(0, idx);
    if (!VALID_LITERAL.test(lit)) return null;
    path = path.slice(lit.length);
    return lit;
  };
  const parseOperator = (): Op => {
    if (path.startsWith("**")) {
      path = path.slice(2);
      return "**";
    }
    path = path.slice(1);
    return "*";
  };
  const parseVariable = (): Segment | null => {
    const close = path.indexOf("}");
    if (path.length < 2 || close < 0) return null;
    const body = path.slice(1, close);
    path = path.slice(close + 1);
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    if (!/^[a-zA-Z][a-zA-Z0-9_]*$/.test(name)) return null;
    if (eq < 0) return { varName: name, match: [] };
    let item = body.slice(eq + 1);
    if (item === "") return null;
    const match: Array<{ op: Op } | { lit: string }> = [];
    while (item !== "") {
      if (item[0] === "*") {
        const op: Op = item.startsWith("**") ? "**" : "*";
        item = item.slice(op.length);
        match.push({ op });
      } else {
        const idx = item.indexOf("/");
        const lit = idx < 0 ? item : item.slice(0, idx);
        if (!VALID_LITERAL.test(lit)) return null;
        item = item.slice(lit.length);
        match.push({ lit });
      }
      if (item !== "") {
        if (item[0] !== "/" || item.length === 1) return null;
        item = item.slice(1);
      }
    }
    return { varName: name, match };
  };

  while (path !== "") {
    let seg: Segment | null;
    if (path[0] === "*") seg = { op: parseOperator() };
    else if (path[0] === "{") seg = parseVariable();
    else {
      const lit = parseLiteral();
      seg = lit === null ? null : { lit };
    }
    if (seg === null) return null;
    segments.push(seg);
    if (path !== "") {
      if (path === "/") {
        segments.push({ lit: "" }); // single trailing '/'
        break;
      } else if (path[0] === "/") {
        path = path.slice(1);
      } else {
        const lit = parseLiteral(); // suffix after an operator/variable in the same segment
        if (lit === null || path !== "") return null;
        suffix = lit;
        break;
      }
    }
  }

  // Variable limits and "no operator after a text glob".
  const names = new Set<string>();
  let seenTextGlob = false;
  for (const s of segments) {
    if ("varName" in s) {
      if (names.size >= 5 || s.varName.length > 16 || names.has(s.varName)) return null;
      names.add(s.varName);
      const ops = s.match.length === 0 ? [{ op: "*" as Op }] : s.match.filter((m) => "op" in m);
      for (const m of ops) {
        if (seenTextGlob) return null;
        seenTextGlob = (m as { op: Op }).op === "**";
      }
    } else if ("op" in s) {
      if (seenTextGlob) return null;
      seenTextGlob = s.op === "**";
    }
  }

  const body = segments
    .map((s) => {
      if ("varName" in s) return `(${s.match.length === 0 ? PATH_GLOB : s.match.map(segRegex).join("/")})`;
      return segRegex(s);
    })
    .join("/");
  return new RegExp(`^/${body}${literalRegex(suffix)}$`);
}

/** Envoy PathUtil::removeQueryAndFragment: drop everything from the first `?` or `#`. */
export function stripQueryAndFragment(path: string): string {
  const i = path.search(/[?#]/);
  return i < 0 ? path : path.slice(0, i);
}

/** Match an Istio `paths` value that contains a template against a request path. */
export function matchPathTemplate(istioValue: string, path: string | null | undefined): boolean {
  if (typeof path !== "string") return false;
  const re = envoyTemplateRegex(istioToEnvoyTemplate(istioValue));
  return re !== null && re.test(stripQueryAndFragment(path));
}
