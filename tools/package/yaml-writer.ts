// YAML for the manifests meshauthz writes, safe for scalars of any length.
// js-yaml's dump decides each scalar's style with backtracking regular expressions over the whole
// value (its scalar styler tests plain / single-quoted / block forms); V8 runs them recursively,
// so a scalar of about 2 MB (a large mesh's base64 policy) overflows the stack: "RangeError:
// Maximum call stack size exceeded". Long strings therefore never reach js-yaml: they are replaced
// by short placeholders and written afterwards as JSON strings, which are valid YAML double-quoted
// scalars (JSON's escapes are a subset of YAML's) and need no styling decision.
import { randomBytes } from "node:crypto";
import * as yaml from "js-yaml";

/** Strings at least this long are written by us; well below where js-yaml's styler overflows (~1 M characters). */
export const LONG_SCALAR = 4096;

export function dumpYaml(doc: unknown): string {
  const long: string[] = [];
  const nonce = randomBytes(6).toString("hex");
  const placeholder = (i: number) => `meshauthz-long-scalar-${nonce}-${i}`;
  const replace = (value: unknown): unknown => {
    if (typeof value === "string") {
      if (value.length < LONG_SCALAR) return value;
      long.push(value);
      return placeholder(long.length - 1);
    }
    if (Array.isArray(value)) return value.map(replace);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replace(v)]));
    }
    return value;
  };
  const text = yaml.dump(replace(doc), { lineWidth: -1, noRefs: true });
  if (long.length === 0) return text;
  // Placeholders are plain scalars of [a-z0-9-], written verbatim wherever they stand as a value.
  return text.replace(new RegExp(`meshauthz-long-scalar-${nonce}-(\\d+)`, "g"), (_, i: string) => JSON.stringify(long[Number(i)]));
}
