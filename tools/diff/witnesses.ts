// Values for the attributes a request source did not record (an access log has no peer principal,
// no JWT, few headers), drawn from the policies themselves: for each rule, one assignment that
// satisfies its positive constraints on those attributes, plus "absent" and "present but matching
// nothing". Replaying a request under each assignment shows whether its decision could differ
// between two policy sets; it never proves that it cannot (hence "possible", not "certain").
import type { CaseRequest } from "../model/case-file.ts";
import type { AuthorizationPolicy, MeshSettings, Rule } from "../model/policy.ts";
import { headerUnknown, type Unknowns } from "../requests/access-log.ts";

/** One way to fill in what the source did not record. */
export interface Assumption {
  principal?: string | null;
  jwt?: Record<string, unknown> | null;
  headers?: Record<string, string | null>;
}

const NONE = "meshauthz-unmatched";

/** A concrete string that an Istio string-match value (exact, `p*`, `*s`, `*`) matches. */
export function witness(value: string): string {
  if (value === "*") return NONE;
  if (value.endsWith("*")) return value.slice(0, -1) + NONE;
  if (value.startsWith("*")) return NONE + value.slice(1);
  return value;
}

function first(values: string[] | undefined): string | undefined {
  return values && values.length ? values[0] : undefined;
}

/** request.auth.claims[a][b] -> ["a", "b"] */
function claimPath(key: string): string[] | null {
  const m = /^request\.auth\.claims(\[.*\])$/.exec(key);
  if (!m) return null;
  const parts = [...m[1].matchAll(/\[([^\]]*)\]/g)].map((x) => x[1]);
  return parts.length ? parts : null;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const p of path.slice(0, -1)) {
    if (typeof cur[p] !== "object" || cur[p] === null) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[path[path.length - 1]] = value;
}

/** The assignment that satisfies `rule`'s positive constraints on unknown attributes. */
function ruleAssumption(rule: Rule, mesh: MeshSettings, unknown: Unknowns): Assumption | null {
  const a: Assumption = {};
  const jwt: Record<string, unknown> = {};
  let jwtNeeded = false;
  const principalFrom = (ns?: string, sa?: string, td?: string) =>
    `spiffe://${td ?? mesh.trustDomain}/ns/${ns ?? NONE}/sa/${sa ?? NONE}`;
  for (const f of rule.from ?? []) {
    const s = f.source ?? {};
    if (unknown.principal) {
      const p = first(s.principals);
      if (p !== undefined) a.principal = `spiffe://${witness(p)}`;
      else if (first(s.namespaces) !== undefined) a.principal = principalFrom(witness(first(s.namespaces)!));
      else if (first(s.serviceAccounts) !== undefined) {
        const [ns, sa] = witness(first(s.serviceAccounts)!).split("/");
        a.principal = sa === undefined ? principalFrom(undefined, ns) : principalFrom(ns, sa);
      } else if (first(s.trustDomains) !== undefined) a.principal = principalFrom(undefined, undefined, witness(first(s.trustDomains)!));
    }
    if (unknown.jwt) {
      const rp = first(s.requestPrincipals);
      if (rp !== undefined) {
        const w = witness(rp);
        const slash = w.lastIndexOf("/");
        jwt.iss = slash < 0 ? w : w.slice(0, slash);
        jwt.sub = slash < 0 ? NONE : w.slice(slash + 1);
        jwtNeeded = true;
      }
    }
  }
  for (const c of rule.when ?? []) {
    const v = first(c.values);
    if (v === undefined) continue;
    if (unknown.principal && c.key === "source.principal") a.principal = `spiffe://${witness(v)}`;
    if (unknown.principal && c.key === "source.namespace") a.principal = principalFrom(witness(v));
    if (unknown.jwt && c.key.startsWith("request.auth.")) {
      jwtNeeded = true;
      const path = claimPath(c.key);
      if (path) setPath(jwt, path, witness(v));
      else if (c.key === "request.auth.principal") {
        const w = witness(v);
        const slash = w.lastIndexOf("/");
        jwt.iss = slash < 0 ? w : w.slice(0, slash);
        jwt.sub = slash < 0 ? NONE : w.slice(slash + 1);
      } else if (c.key === "request.auth.audiences") jwt.aud = witness(v);
      else if (c.key === "request.auth.presenter") jwt.azp = witness(v);
    }
    const h = /^request\.headers\[(.+)\]$/.exec(c.key);
    if (h && headerUnknown(unknown, h[1].toLowerCase())) (a.headers ??= {})[h[1].toLowerCase()] = witness(v);
  }
  if (jwtNeeded) a.jwt = { iss: NONE, sub: NONE, ...jwt };
  return Object.keys(a).length ? a : null;
}

/** Which unknown attributes the rules can read: the names reported with a possible change. */
export function readsUnknown(rules: Rule[], unknown: Unknowns): Set<string> {
  const out = new Set<string>();
  const principalFields = ["principals", "notPrincipals", "namespaces", "notNamespaces", "serviceAccounts", "notServiceAccounts", "trustDomains", "notTrustDomains"];
  for (const rule of rules) {
    for (const f of rule.from ?? []) {
      const s = (f.source ?? {}) as Record<string, unknown>;
      if (unknown.principal && principalFields.some((k) => s[k] !== undefined)) out.add("source.principal");
      if (unknown.jwt && (s.requestPrincipals !== undefined || s.notRequestPrincipals !== undefined)) out.add("request.auth");
    }
    for (const c of rule.when ?? []) {
      if (unknown.principal && /^source\.(principal|namespace|serviceAccount|trustDomain)$/.test(c.key)) out.add("source.principal");
      if (unknown.jwt && c.key.startsWith("request.auth.")) out.add("request.auth");
      const h = /^request\.(?:experimental\.inline\.)?headers\[(.+)\]$/.exec(c.key);
      if (h && headerUnknown(unknown, h[1].toLowerCase())) out.add(`request.headers[${h[1].toLowerCase()}]`);
    }
  }
  return out;
}

/** Rules of the policies that can apply to a workload in `namespace` (selectors are not
 *  resolved here: a superset only widens what counts as possibly changed). */
export function rulesNear(policies: AuthorizationPolicy[], namespace: string, mesh: MeshSettings): Rule[] {
  const out: Rule[] = [];
  for (const p of policies) {
    const ns = p.metadata.namespace ?? "default";
    if (ns !== namespace && ns !== mesh.rootNamespace) continue;
    for (const r of p.spec?.rules ?? []) out.push(r ?? {});
  }
  return out;
}

/** Every assignment to try: absent, present-but-unmatched, and one per rule. */
export function assumptions(rules: Rule[], mesh: MeshSettings, unknown: Unknowns, reads: Set<string>): Assumption[] {
  const headerNames = [...reads].flatMap((r) => {
    const m = /^request\.headers\[(.+)\]$/.exec(r);
    return m ? [m[1]] : [];
  });
  const absentAll: Assumption = {};
  const presentAll: Assumption = {};
  if (reads.has("source.principal")) {
    absentAll.principal = null;
    presentAll.principal = `spiffe://${mesh.trustDomain}/ns/${NONE}/sa/${NONE}`;
  }
  if (reads.has("request.auth")) {
    absentAll.jwt = null;
    presentAll.jwt = { iss: NONE, sub: NONE };
  }
  if (headerNames.length) {
    absentAll.headers = Object.fromEntries(headerNames.map((h) => [h, null]));
    presentAll.headers = Object.fromEntries(headerNames.map((h) => [h, NONE]));
  }
  const out: Assumption[] = [absentAll, presentAll];
  for (const rule of rules) {
    const a = ruleAssumption(rule, mesh, unknown);
    if (!a) continue;
    // What the rule leaves unconstrained is tried absent and present.
    out.push({ ...absentAll, ...a, headers: { ...absentAll.headers, ...a.headers } });
    out.push({ ...presentAll, ...a, headers: { ...presentAll.headers, ...a.headers } });
  }
  const seen = new Set<string>();
  return out.filter((a) => {
    const k = JSON.stringify(a);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function applyAssumption(request: CaseRequest, a: Assumption): CaseRequest {
  const r: CaseRequest = { ...request, headers: { ...(request.headers ?? {}) } };
  if (a.principal !== undefined) r.source_principal = a.principal;
  if (a.jwt !== undefined) r.jwt = a.jwt;
  for (const [name, value] of Object.entries(a.headers ?? {})) {
    if (value === null) delete r.headers![name];
    else r.headers![name] = value;
  }
  return r;
}

export function describeAssumption(a: Assumption): string {
  const parts: string[] = [];
  if (a.principal !== undefined) parts.push(a.principal === null ? "no peer certificate" : `source.principal=${a.principal}`);
  if (a.jwt !== undefined) parts.push(a.jwt === null ? "no JWT" : `JWT ${JSON.stringify(a.jwt)}`);
  for (const [k, v] of Object.entries(a.headers ?? {})) parts.push(v === null ? `no ${k} header` : `${k}: ${v}`);
  return parts.join(", ");
}
