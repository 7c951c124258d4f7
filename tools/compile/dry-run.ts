// The `istio.io/dry-run` annotation, parsed like Go's strconv.ParseBool; an unparsable value
// leaves the policy enforced (istiod logs an error and enforces it).
export const DRY_RUN_ANNOTATION = "istio.io/dry-run";

export function parseGoBool(text: string): boolean | null {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return null;
}

export function isDryRun(annotations: Record<string, string> | undefined): boolean {
  const v = annotations?.[DRY_RUN_ANNOTATION];
  return v === undefined ? false : parseGoBool(String(v)) === true;
}
