// Printing diagnostics for people: every error in full; warnings grouped by kind, so that 10,000 policies
// with the same istiod warning print one summary line and one short location line each (or, with --quiet,
// only the summary). `-o json` output lists every finding in full instead (the commands do that).
import { type Diagnostic, formatDiagnostic } from "../model/diagnostic.ts";

export interface GroupedItem {
  /** Grouping key: a code, or the message itself. */
  kind: string;
  /** The full one-line text (file:line:col: severity: ...). */
  full: string;
  /** The line under a group header: where and which policy. */
  short: string;
  /** The group header text (without count). */
  title: string;
}

export function diagnosticItem(d: Diagnostic): GroupedItem {
  const where = d.location ? `${d.location.file}:${d.location.line}:${d.location.column}: ` : "";
  return {
    kind: d.code ?? d.message,
    full: formatDiagnostic(d),
    short: `${where}${d.policy ?? ""}${d.path ? `: ${d.path}` : ""}`,
    title: `${d.severity}: ${d.code ? `[${d.code}] ` : ""}${d.message}`,
  };
}

/** Writes items: a kind seen once prints in full; a kind seen more often prints a header and short lines. */
export function writeGrouped(items: GroupedItem[], write: (line: string) => void, quiet: boolean): void {
  const groups = new Map<string, GroupedItem[]>();
  for (const it of items) {
    const g = groups.get(it.kind);
    if (g) g.push(it);
    else groups.set(it.kind, [it]);
  }
  for (const g of groups.values()) {
    if (quiet) {
      const first = g[0].short.split(": ")[0];
      write(`${g[0].title} (${g.length}x${first ? `, first at ${first}` : ""})`);
    } else if (g.length === 1) {
      write(g[0].full);
    } else {
      write(`${g[0].title} (${g.length}x):`);
      for (const it of g) write(`  ${it.short}`);
    }
  }
}

/** Errors in full, then warnings grouped (stderr). */
export function printDiagnosticsGrouped(diagnostics: Diagnostic[], quiet = false): void {
  const w = (line: string) => process.stderr.write(`${line}\n`);
  for (const d of diagnostics) if (d.severity === "error") w(formatDiagnostic(d));
  writeGrouped(diagnostics.filter((d) => d.severity !== "error").map(diagnosticItem), w, quiet);
}
