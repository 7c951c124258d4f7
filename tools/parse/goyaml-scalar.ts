// Scalars as kubectl reads them: sigs.k8s.io/yaml (YAMLToJSON) over go-yaml v2 (go.yaml.in/yaml/v2).
// The rules below restate go-yaml v2's resolve.go (`resolve`, `resolveTable`, `resolveMap`,
// `parseTimestamp`) and decode.go (`scalar`), and sigs.k8s.io/yaml yaml.go (`convertToJSONableObject`,
// then encoding/json); they are written from reading that source, not translated from it.
//
// What they say, in short:
//  - only an untagged *plain* scalar is resolved; quoted and block scalars are strings;
//  - exact words: `y Y yes Yes YES true True TRUE on On ON` -> true, `n N no No NO false False FALSE
//    off Off OFF` -> false, `"" ~ null Null NULL` -> null, `.nan .inf +.inf -.inf` (3 spellings) -> floats;
//  - a scalar starting with a digit or a sign: a timestamp (`2001-12-14...`) stays a string; then, with
//    every `_` removed, Go's strconv.ParseInt(s, 0, 64) (0x, 0o, 0b prefixes, a leading 0 = octal), then
//    ParseUint, then the float regex `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, then `0b`/`-0b`.
//    So `0777` = 511 (octal), `0800` and `080` are not octal but match the float regex: 800 and 80;
//    `1e3` = 1000; `1_000` = 1000; `10:30` matches nothing: the string "10:30" (no sexagesimal, on purpose);
//  - a scalar starting with `.`: Go's ParseFloat (`.5`);
//  - anything else is a string; a value out of float range (`1e400`) is a string too (ParseFloat fails);
//  - explicit tags: `!!str` keeps the text, `!!int`/`!!float`/`!!bool`/`!!null` must resolve to that type
//    (an int is accepted as a float) or the document fails (`cannot decode !!str `x` as a !!int`),
//    `!!binary` is base64; other tags (`!foo`) leave the text as a string;
//  - YAMLToJSON then marshals to JSON: NaN and infinities fail (`json: unsupported value`).

export type Resolved =
  | { kind: "null"; value: null }
  | { kind: "bool"; value: boolean }
  | { kind: "int"; value: number }
  | { kind: "float"; value: number }
  | { kind: "str"; value: string };

export class ScalarError extends Error {}

const TRUE_WORDS = ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"];
const FALSE_WORDS = ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"];
const WORDS = new Map<string, Resolved>();
for (const w of TRUE_WORDS) WORDS.set(w, { kind: "bool", value: true });
for (const w of FALSE_WORDS) WORDS.set(w, { kind: "bool", value: false });
for (const w of ["", "~", "null", "Null", "NULL"]) WORDS.set(w, { kind: "null", value: null });
for (const w of [".nan", ".NaN", ".NAN"]) WORDS.set(w, { kind: "float", value: NaN });
for (const w of [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"]) WORDS.set(w, { kind: "float", value: Infinity });
for (const w of ["-.inf", "-.Inf", "-.INF"]) WORDS.set(w, { kind: "float", value: -Infinity });

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** Go strconv.ParseInt(s, 0, 64) / ParseUint(s, 0, 64) on a string without underscores. */
function parseGoInt(s: string, signed: boolean): bigint | null {
  let i = 0;
  let neg = false;
  if (signed && (s[0] === "+" || s[0] === "-")) {
    neg = s[0] === "-";
    i = 1;
  }
  let base = 10;
  let digits = s.slice(i);
  if (digits.length >= 2 && digits[0] === "0") {
    const p = digits[1].toLowerCase();
    if (p === "x") base = 16;
    else if (p === "o") base = 8;
    else if (p === "b") base = 2;
    if (base !== 10) digits = digits.slice(2);
    else {
      base = 8;
      digits = digits.slice(1);
    }
  }
  if (digits.length === 0) return null;
  const valid = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!valid.test(digits)) return null;
  const prefix = base === 16 ? "0x" : base === 8 ? "0o" : base === 2 ? "0b" : "";
  let v = BigInt(prefix + digits);
  if (neg) v = -v;
  if (signed ? v < INT64_MIN || v > INT64_MAX : v > UINT64_MAX) return null;
  return v;
}

/** What go-yaml v2 makes of an untagged plain scalar (resolve.go with tag ""). */
function resolvePlain(text: string, letterBools = true): Resolved & { timestamp?: boolean } {
  const word = WORDS.get(text);
  if (word && (letterBools || text.length > 1)) return word;
  const c = text.charCodeAt(0);
  const isDigit = c >= 48 && c <= 57;
  if (text[0] === ".") {
    if (/^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(text)) {
      const f = Number(text);
      if (Number.isFinite(f)) return { kind: "float", value: f };
    }
    return { kind: "str", value: text };
  }
  if (!isDigit && text[0] !== "+" && text[0] !== "-") return { kind: "str", value: text };
  if (isTimestamp(text)) return { kind: "str", value: text, timestamp: true };
  const plain = text.replace(/_/g, "");
  const asInt = parseGoInt(plain, true) ?? parseGoInt(plain, false);
  if (asInt !== null) return { kind: "int", value: Number(asInt) };
  if (YAML_STYLE_FLOAT.test(plain)) {
    const f = Number(plain);
    if (Number.isFinite(f)) return { kind: "float", value: f };
  }
  // `0b`/`-0b` are already covered by ParseInt's base 0 (Go >= 1.13).
  return { kind: "str", value: text };
}

/** resolve.go parseTimestamp: YYYY-M-D, optionally followed by a time (only the formats go-yaml tries). */
function isTimestamp(s: string): boolean {
  return /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$/.test(s) || TIMESTAMP_WITH_TIME.test(s);
}
const TIMESTAMP_WITH_TIME =
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})| [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?)$/;

/** "!<tag:yaml.org,2002:int>" and "!!int" -> "!!int". */
export function shortTag(tag: string): string {
  const m = /^!<tag:yaml\.org,2002:(.*)>$/.exec(tag);
  return m ? `!!${m[1]}` : tag;
}

/**
 * A scalar as kubectl's YAMLToJSON reads it. `plain`: an unquoted flow scalar; `tag`: the explicit tag
 * text or "". Throws ScalarError where kubectl fails. `letterBools: false` keeps the one-letter words
 * y/Y/n/N as strings (case files only: decisions.md).
 */
export function resolveScalar(text: string, plain: boolean, tag: string, letterBools = true): Resolved {
  let r: Resolved;
  if (tag === "") {
    r = plain ? resolvePlain(text, letterBools) : { kind: "str", value: text };
  } else {
    const t = shortTag(tag);
    switch (t) {
      case "!!str":
        return { kind: "str", value: text };
      case "!!binary": {
        const clean = text.replace(/[\r\n]/g, "");
        if (!/^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(clean)) {
          throw new ScalarError("!!binary value contains invalid base64 data");
        }
        return { kind: "str", value: Buffer.from(clean, "base64").toString("utf8") };
      }
      case "!!bool":
      case "!!int":
      case "!!float":
      case "!!null":
      case "!!timestamp": {
        const got = resolvePlain(text);
        const want = t.slice(2);
        const gotTag = got.timestamp ? "timestamp" : got.kind;
        if (gotTag !== want && !(want === "float" && got.kind === "int")) {
          throw new ScalarError(`cannot decode !!${gotTag} \`${text}\` as a ${t}`);
        }
        r = want === "float" ? { kind: "float", value: got.value as number } : got;
        break;
      }
      default:
        return { kind: "str", value: text }; // go-yaml v2 leaves unknown tags' text as is
    }
  }
  if ((r.kind === "float" || r.kind === "int") && !Number.isFinite(r.value)) {
    // encoding/json refuses NaN and infinities.
    throw new ScalarError(`json: unsupported value: ${Number.isNaN(r.value) ? "NaN" : r.value > 0 ? "+Inf" : "-Inf"}`);
  }
  return r;
}

/**
 * A mapping key as YAMLToJSON writes it (convertToJSONableObject): ints in decimal, floats with Go's
 * strconv.FormatFloat(f, 'g', -1, 32), bools as "true"/"false"; a null key fails.
 */
export function keyString(r: Resolved): string {
  switch (r.kind) {
    case "str":
      return r.value;
    case "bool":
      return r.value ? "true" : "false";
    case "int":
      return String(r.value);
    case "float":
      return formatFloat32G(r.value);
    case "null":
      throw new ScalarError("unsupported map key of type: <nil>");
  }
}

/** Go strconv.FormatFloat(f, 'g', -1, 32): the shortest digits that read back as the same float32; %e form
 *  when the exponent is < -4 or >= 6 (Go's 'g' with shortest precision uses 6 there). */
export function formatFloat32G(f: number): string {
  if (Number.isNaN(f)) return ".nan";
  if (f === Infinity) return ".inf";
  if (f === -Infinity) return "-.inf";
  const x = Math.fround(f);
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  let exp = "";
  for (let p = 1; p <= 9; p++) {
    exp = x.toExponential(p - 1);
    if (Math.fround(Number(exp)) === x) break;
  }
  const m = /^(-?)(\d)(?:\.(\d+))?e([-+]\d+)$/.exec(exp)!;
  const sign = m[1];
  const digits = (m[2] + (m[3] ?? "")).replace(/0+$/, "") || "0";
  const e = Number(m[4]);
  if (e < -4 || e >= 6) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const ee = Math.abs(e) < 10 ? `0${Math.abs(e)}` : String(Math.abs(e));
    return `${sign}${mant}e${e < 0 ? "-" : "+"}${ee}`;
  }
  const dp = e + 1; // digits before the point
  let s: string;
  if (dp <= 0) s = `0.${"0".repeat(-dp)}${digits}`;
  else if (dp >= digits.length) s = digits + "0".repeat(dp - digits.length);
  else s = `${digits.slice(0, dp)}.${digits.slice(dp)}`;
  return sign + s;
}
