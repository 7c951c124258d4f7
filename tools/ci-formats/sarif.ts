// `meshauthz lint -o sarif`: findings and diagnostics as a SARIF 2.1.0 log, the format GitHub code
// scanning (upload-sarif), GitLab and IDEs read: tool.driver.rules with ids and help texts, results
// with ruleId, level, message and a file:line:column region. URIs are relative to the working
// directory (uriBaseId %SRCROOT%), which is the repository root in CI. Checked in tests against the
// SARIF 2.1.0 JSON schema (tests/e2e/ci-formats.test.ts).
import { isAbsolute, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type { Finding } from "../lint/findings.ts";
import { DIAGNOSTIC_RULES, LINT_RULES, type RuleHelp } from "../lint/rules.ts";
import type { Diagnostic, SourceLocation } from "../model/diagnostic.ts";

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

export interface LocatedFinding extends Finding {
  location?: SourceLocation;
}

/** The rule a diagnostic reports under: its own code when the stage gives one, else stage-severity. */
export function diagnosticRuleId(d: Diagnostic): string {
  const code = (d as { code?: unknown }).code;
  return typeof code === "string" && code ? code : `${d.stage}-${d.severity}`;
}

function artifactUri(file: string, cwd: string): { uri: string; uriBaseId?: string } {
  const rel = isAbsolute(file) ? relative(cwd, file) : file;
  if (rel.startsWith("..") || isAbsolute(rel)) return { uri: pathToFileURL(file).href };
  return { uri: encodeURI(rel.split(sep).join("/")), uriBaseId: "%SRCROOT%" };
}

function locations(loc: SourceLocation | undefined, cwd: string) {
  if (!loc || loc.file === "<stdin>") return undefined;
  return [{ physicalLocation: { artifactLocation: artifactUri(loc.file, cwd), region: { startLine: loc.line, startColumn: loc.column } } }];
}

export function sarifLog(input: { diagnostics: Diagnostic[]; findings: LocatedFinding[]; version: string; cwd?: string }): object {
  const cwd = input.cwd ?? process.cwd();
  const rules: Array<{ id: string; help: RuleHelp; level: "error" | "warning" }> = [];
  const ruleIndex = new Map<string, number>();
  const rule = (id: string, level: "error" | "warning", fallback: RuleHelp): number => {
    let i = ruleIndex.get(id);
    if (i === undefined) {
      i = rules.length;
      rules.push({ id, level, help: LINT_RULES[id] ?? DIAGNOSTIC_RULES[id] ?? fallback });
      ruleIndex.set(id, i);
    }
    return i;
  };
  const results: object[] = [];
  for (const d of input.diagnostics) {
    const id = diagnosticRuleId(d);
    const i = rule(id, d.severity, { name: id, short: `${d.stage} ${d.severity}`, help: d.message });
    const where = [d.policy, d.path].filter(Boolean).join(": ");
    results.push({ ruleId: id, ruleIndex: i, level: d.severity, message: { text: where ? `${where}: ${d.message}` : d.message }, locations: locations(d.location, cwd) });
  }
  for (const f of input.findings) {
    const i = rule(f.code, "warning", { name: f.code, short: f.code, help: f.message });
    results.push({ ruleId: f.code, ruleIndex: i, level: "warning", message: { text: `${f.policy}: ${f.path}: ${f.message}` }, locations: locations(f.location, cwd) });
  }
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "meshauthz",
            version: input.version,
            rules: rules.map((r) => ({
              id: r.id,
              name: r.help.name,
              shortDescription: { text: r.help.short },
              fullDescription: { text: r.help.help },
              help: { text: r.help.help },
              defaultConfiguration: { level: r.level },
            })),
          },
        },
        originalUriBaseIds: { "%SRCROOT%": { uri: pathToFileURL(cwd.endsWith(sep) ? cwd : cwd + sep).href } },
        results,
      },
    ],
  };
}
