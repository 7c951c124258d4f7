// Field paths in the syntax of Diagnostic.path:
//   spec.rules[0].from[0].source.principals[1]
//   metadata.annotations[istio.io/dry-run]
//   spec.selector.matchLabels["weird]key"]
// Identifier-like keys are joined with ".", array indices and other map keys go in brackets; a map key
// that contains a bracket or a quote is written as a JSON string inside the brackets.

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Appends an object key to a path. */
export function joinKey(base: string, key: string): string {
  if (IDENT.test(key)) return base === "" ? key : `${base}.${key}`;
  if (/[[\]"]/.test(key) || key === "") return `${base}[${JSON.stringify(key)}]`;
  return `${base}[${key}]`;
}

/** Appends an array index to a path. */
export function joinIndex(base: string, index: number): string {
  return `${base}[${index}]`;
}

/**
 * Splits a path into its segments (keys and indices, all as strings). Returns undefined for a malformed
 * path. An index and a map key with the same text give the same segment, which is what a position
 * lookup wants (a sequence's children are keyed by their index as text).
 */
export function splitPath(path: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  const n = path.length;
  let expectName = true;
  while (i < n) {
    const c = path[i];
    if (c === "[") {
      if (path[i + 1] === '"') {
        // JSON string up to the closing quote that is followed by "]".
        let j = i + 2;
        while (j < n) {
          if (path[j] === "\\") j += 2;
          else if (path[j] === '"') break;
          else j++;
        }
        if (j >= n || path[j + 1] !== "]") return undefined;
        try {
          out.push(JSON.parse(path.slice(i + 1, j + 1)) as string);
        } catch {
          return undefined;
        }
        i = j + 2;
      } else {
        const j = path.indexOf("]", i + 1);
        if (j < 0) return undefined;
        out.push(path.slice(i + 1, j));
        i = j + 1;
      }
      expectName = false;
    } else if (c === ".") {
      if (expectName) return undefined;
      i++;
      expectName = true;
    } else {
      if (!expectName) return undefined;
      let j = i;
      while (j < n && path[j] !== "." && path[j] !== "[") j++;
      out.push(path.slice(i, j));
      i = j;
      expectName = false;
    }
  }
  if (expectName && n > 0) return undefined;
  return out;
}
