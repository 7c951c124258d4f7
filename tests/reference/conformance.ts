// Helpers to run conformance decision cases (the shared case-file schema) through the reference evaluator.
import type { CaseMeta, DecisionCase } from "../../tools/model/case-file.ts";
import { evaluateReference, type ReferenceDecision, type ReferenceMesh } from "./evaluate.ts";

export function meshFor(meta: CaseMeta | undefined, override: CaseMeta | undefined): ReferenceMesh {
  const m = { ...(meta ?? {}), ...(override ?? {}) };
  return {
    rootNamespace: m.root_namespace ?? "istio-system",
    trustDomain: m.trust_domain ?? "cluster.local",
    trustDomainAliases: m.trust_domain_aliases ?? [],
  };
}

/** `decided_by` of the corpus <-> the evaluator's `policy`. */
export function decidedBy(d: ReferenceDecision): string {
  return d.policy === null ? "no-enforced-allow-policy" : d.policy;
}

/** Returns one line per mismatch (empty when the case passes). */
export function checkCase(c: DecisionCase, meta: CaseMeta | undefined): string[] {
  const d = evaluateReference(c.policies ?? [], c.workload, c.request, meshFor(meta, c.mesh));
  const out: string[] = [];
  if (d.decision !== c.expected.decision) out.push(`${c.id}: decision ${d.decision}, expected ${c.expected.decision}`);
  if (c.expected.decided_by !== undefined && decidedBy(d) !== c.expected.decided_by) {
    out.push(`${c.id}: decided_by ${decidedBy(d)}, expected ${c.expected.decided_by}`);
  }
  return out;
}
