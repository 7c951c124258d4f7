// `compile` and `package` refuse a policy set in which nothing applies to sidecars: the blob would allow every
// request, which is never what a pipeline that fed it an empty file, or only gateway policies, meant.
import { appliesToSidecars } from "../compile/compile.ts";
import type { SourceLocation } from "../model/diagnostic.ts";
import type { LoadResult } from "../parse/index.ts";

function at(loc: SourceLocation | undefined): string {
  return loc ? `; first at ${loc.file}:${loc.line}:${loc.column}` : "";
}

/** What was left out and why, e.g. "2 document(s) skipped: 1 Deployment (not an AuthorizationPolicy; first at
 *  a.yaml:1:1), 1 AuthorizationPolicy with targetRef/targetRefs (...)"; "" if nothing. */
export function skippedSummary(loaded: LoadResult): string {
  const parts: string[] = [];
  const kinds = new Map<string, { n: number; first?: SourceLocation }>();
  for (const s of loaded.skipped) {
    const k = kinds.get(s.kind) ?? { n: 0, first: s.location };
    k.n++;
    kinds.set(s.kind, k);
  }
  for (const [kind, k] of kinds) parts.push(`${k.n} ${kind} (not an AuthorizationPolicy${at(k.first)})`);
  const targeted = loaded.policies.filter((p) => !appliesToSidecars(p.policy));
  if (targeted.length) {
    parts.push(
      `${targeted.length} AuthorizationPolicy with targetRef/targetRefs (applies to gateways and waypoints, not sidecars${at(targeted[0].locate("spec"))})`,
    );
  }
  const n = loaded.skipped.length + targeted.length;
  return n ? `${n} document(s) skipped: ${parts.join(", ")}` : "";
}

/** The reason to refuse, or null when at least one policy applies to sidecars. */
export function emptySetProblem(loaded: LoadResult): string | null {
  if (loaded.policies.some((p) => appliesToSidecars(p.policy))) return null;
  const what =
    loaded.documents === 0
      ? `the input has no YAML documents (${loaded.files === 0 ? "no files" : "empty files or standard input"})`
      : `none of the ${loaded.documents} document(s) is an AuthorizationPolicy that applies to sidecars; ${skippedSummary(loaded)}`;
  return `${what}. A blob without sidecar policies allows every request; refusing to write it (pass --allow-empty to write it anyway)`;
}
