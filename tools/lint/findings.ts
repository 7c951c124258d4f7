// Interactions and values that are valid for istiod but rarely what the operator meant.
// Each finding explains what Istio will actually do.
import type { AuthorizationPolicy, MeshSettings } from "../model/policy.ts";
import { appliesToSidecars } from "../compile/compile.ts";
import { isDryRun } from "../compile/dry-run.ts";

export interface Finding {
  code: string;
  policy: string;
  path: string;
  message: string;
}

function id(p: AuthorizationPolicy): string {
  return `${p.metadata.namespace ?? "default"}/${p.metadata.name}`;
}

function selectorText(p: AuthorizationPolicy): string {
  const labels = Object.entries(p.spec?.selector?.matchLabels ?? {});
  return labels.length ? labels.map(([k, v]) => `${k}=${v}`).join(",") : "every workload";
}

/** Could one sidecar be selected by both policies? */
function mayShareWorkload(a: AuthorizationPolicy, b: AuthorizationPolicy, mesh: MeshSettings): boolean {
  const nsA = a.metadata.namespace ?? "default";
  const nsB = b.metadata.namespace ?? "default";
  if (nsA !== nsB && nsA !== mesh.rootNamespace && nsB !== mesh.rootNamespace) return false;
  const la = a.spec?.selector?.matchLabels ?? {};
  const lb = b.spec?.selector?.matchLabels ?? {};
  return Object.entries(la).every(([k, v]) => !(k in lb) || lb[k] === v);
}

/** A rule with nothing in it matches every request. */
function isMatchAll(rule: unknown): boolean {
  if (!rule || typeof rule !== "object") return true;
  const r = rule as { from?: unknown[]; to?: unknown[]; when?: unknown[] };
  return !(r.from?.length || r.to?.length || r.when?.length);
}

export function lintPolicies(policies: AuthorizationPolicy[], mesh: MeshSettings): Finding[] {
  const findings: Finding[] = [];
  const active = policies.filter(appliesToSidecars);
  const enforcedDenyAll = active.filter(
    (p) => p.spec?.action === "DENY" && !isDryRun(p.metadata.annotations) && (p.spec.rules ?? []).some(isMatchAll),
  );
  for (const allow of active.filter((p) => (p.spec?.action ?? "ALLOW") === "ALLOW" && !isDryRun(p.metadata.annotations))) {
    for (const deny of enforcedDenyAll) {
      if (!mayShareWorkload(allow, deny, mesh)) continue;
      const ruleIndex = (deny.spec?.rules ?? []).findIndex(isMatchAll);
      findings.push({
        code: "deny-shadows-allow",
        policy: id(allow),
        path: "spec.rules",
        message:
          `DENY policy ${id(deny)} rule[${ruleIndex}] matches every request to ${selectorText(deny)}, and Istio evaluates ` +
          `DENY before ALLOW: on workloads both select, ${id(allow)} can never allow anything (403, ` +
          `rbac_access_denied_matched_policy[ns[${deny.metadata.namespace ?? "default"}]-policy[${deny.metadata.name}]-rule[${ruleIndex}]]). ` +
          `To allow only some requests, remove the DENY policy: an ALLOW policy already denies everything it does not match.`,
      });
    }
  }
  for (const p of active) {
    (p.spec?.rules ?? []).forEach((rule, i) => {
      (rule?.from ?? []).forEach((f, j) => {
        const s = f?.source ?? {};
        const base = `spec.rules[${i}].from[${j}].source`;
        for (const field of ["principals", "notPrincipals"] as const) {
          (s[field] ?? []).forEach((v, k) => {
            if (v.startsWith("spiffe://")) {
              findings.push({
                code: "principal-with-spiffe-prefix",
                policy: id(p),
                path: `${base}.${field}[${k}]`,
                message: `"${v}" never matches: Istio adds "spiffe://" itself; write "${v.slice("spiffe://".length)}"`,
              });
            }
          });
        }
        for (const field of ["requestPrincipals", "notRequestPrincipals"] as const) {
          (s[field] ?? []).forEach((v, k) => {
            if (!v.includes("/") && !v.includes("*")) {
              findings.push({
                code: "request-principal-without-subject",
                policy: id(p),
                path: `${base}.${field}[${k}]`,
                message: `"${v}" has no "/": Istio reads it as issuer "${v}" with an empty subject, which no token has; write "<issuer>/<subject>"`,
              });
            }
          });
        }
        if (s.ipBlocks?.length || s.notIpBlocks?.length) {
          findings.push({
            code: "ip-blocks-behind-proxy",
            policy: id(p),
            path: `${base}.${s.ipBlocks?.length ? "ipBlocks" : "notIpBlocks"}`,
            message:
              "ipBlocks match the direct peer IP, which a Wasm filter cannot read when the request carries X-Forwarded-For; " +
              "meshauthz then treats the IP as unknown and decides fail-safe (DENY rules match, ALLOW rules do not). Prefer principals or namespaces.",
          });
        }
      });
      (rule?.to ?? []).forEach((t, j) => {
        const o = t?.operation ?? {};
        (o.methods ?? []).forEach((m, k) => {
          if (m !== "*" && m !== m.toUpperCase()) {
            findings.push({
              code: "lowercase-method",
              policy: id(p),
              path: `spec.rules[${i}].to[${j}].operation.methods[${k}]`,
              message: `"${m}" never matches: methods are compared case-sensitively and HTTP methods are upper case`,
            });
          }
        });
      });
    });
  }
  return findings;
}
