// A problem found in the user's input, located as precisely as the stage that found it can.

export type Severity = "error" | "warning";

export interface SourceLocation {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export interface Diagnostic {
  severity: Severity;
  /** Which stage found it: parse, validate, compile. */
  stage: "parse" | "validate" | "compile";
  message: string;
  /** Field path inside the object, e.g. `spec.rules[0].from[0].source.principals[1]`; "" for the document. */
  path: string;
  /** `<namespace>/<name>` of the policy, when known. */
  policy?: string;
  location?: SourceLocation;
  /** Kind of finding, for grouping and machine-readable output (e.g. "custom-not-enforced"). */
  code?: string;
}

/** `file:line:col: error: policy ns/name: spec.rules[0]...: message` */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.location ? `${d.location.file}:${d.location.line}:${d.location.column}: ` : "";
  const who = d.policy ? `${d.policy}: ` : "";
  const path = d.path ? `${d.path}: ` : "";
  return `${where}${d.severity}: ${who}${path}${d.message}`;
}
