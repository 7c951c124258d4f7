// meshauthz's documented deviations from Istio (README "Known differences"), as the differential test
// classifies them. The reference evaluator is Istio; a deviation is NOT folded into it. Instead, when the
// filter differs from Istio on a request to which a deviation applies, the harness evaluates the reference on
// what the filter can see of that request (filterView); if the filter agrees with that exactly, the case is
// counted under the deviation (with its direction), otherwise it is a mismatch.
//
// - direct-peer-ip: a proxy-wasm HTTP filter cannot read the direct TCP peer. With `x-forwarded-for` present
//   Envoy's source address is the right-most XFF entry, so the filter treats the direct peer IP as unknown
//   (Kleene logic: DENY rules that might match do, ALLOW rules that might match do not). Errs towards deny only.
// - peer-certificate-sans: Envoy RBAC's AuthenticatedMatcher (source/extensions/filters/common/rbac/matchers.cc)
//   tries every URI SAN, then every DNS SAN, then the subject; a Wasm filter sees only the FIRST URI SAN
//   (`connection.uri_san_peer_certificate`, expr/context.cc). Applies only to certificates Istio's CA does not
//   issue (more than one URI SAN, or DNS SANs, or a subject). Errs towards deny for `principals`-style values
//   of ALLOW rules, towards ALLOW for DENY rules and `not*` values: counted in allow_side.

import type { CaseRequest } from "../../tools/model/case-file.ts";
import type { AuthorizationPolicy } from "../../tools/model/policy.ts";
import { carriesForwardedFor, type EvaluateOptions } from "../reference/evaluate.ts";

export type DeviationName = "direct-peer-ip" | "peer-certificate-sans";

export const DEVIATIONS: Record<DeviationName, { direction: "deny-only" | "both" }> = {
  "direct-peer-ip": { direction: "deny-only" },
  "peer-certificate-sans": { direction: "both" },
};

const bytesLen = (v: string | Uint8Array | undefined) => (v === undefined ? 0 : typeof v === "string" ? v.length : v.length);

/** The deviations that apply to a request. */
export function deviationsFor(req: CaseRequest): DeviationName[] {
  const out: DeviationName[] = [];
  if (carriesForwardedFor(req)) out.push("direct-peer-ip");
  const pc = req.peer_certificate;
  if (pc && ((pc.uri_sans?.length ?? 0) !== 1 || (pc.dns_sans?.length ?? 0) > 0 || bytesLen(pc.subject) > 0)) out.push("peer-certificate-sans");
  return out;
}

/** The request as the filter can see it under the given deviations, and the reference options for them. */
export function filterView(req: CaseRequest, names: DeviationName[]): { request: CaseRequest; options: EvaluateOptions } {
  let request = req;
  const options: EvaluateOptions = {};
  if (names.includes("direct-peer-ip")) options.directPeerIpUnknown = true;
  if (names.includes("peer-certificate-sans") && req.peer_certificate) {
    const first = req.peer_certificate.uri_sans?.[0];
    request = { ...req, peer_certificate: { uri_sans: first === undefined ? [] : [first], dns_sans: [], subject: "" } };
  }
  return { request, options };
}

// ---------------------------------------------------------------------------------------------------------
// Hints for mismatch signatures: what a failing case holds that issue 9's classes are about.

const utf8 = new TextDecoder("utf-8", { fatal: true });

function walkStrings(v: unknown, f: (s: string | Uint8Array) => void): void {
  if (typeof v === "string" || v instanceof Uint8Array) f(v);
  else if (Array.isArray(v)) v.forEach((x) => walkStrings(x, f));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) (f(k), walkStrings(x, f));
}

function typedClaims(v: unknown, top = true): boolean {
  if (v === null || typeof v === "number" || typeof v === "boolean") return true;
  if (Array.isArray(v)) return v.some((x) => typeof x !== "string");
  if (v && typeof v === "object") return !top || Object.values(v).some((x) => typedClaims(x, false));
  return false;
}

export function caseHints(policies: AuthorizationPolicy[], req: CaseRequest): string[] {
  const h = new Set<string>();
  const values: unknown[] = [req.headers, req.sni, req.source_principal, req.peer_certificate, req.host, req.jwt];
  walkStrings(values, (s) => {
    if (typeof s === "string") {
      if (s.includes("\n")) h.add("newline");
      if (/[\u0000-\u0009\u000b-\u001f]/.test(s)) h.add("control");
    } else {
      if (s.includes(0x0a)) h.add("newline");
      try {
        utf8.decode(s);
      } catch {
        h.add("invalid-utf8");
      }
    }
  });
  if (req.jwt && typedClaims(req.jwt)) h.add("typed-claims");
  const jwt = req.jwt as Record<string, unknown> | null | undefined;
  if (jwt && ["scope", "permission"].some((k) => typeof jwt[k] === "string" && (jwt[k] as string).includes(" "))) h.add("space-delimited");
  if (Object.keys(req.headers ?? {}).some((k) => k.toLowerCase() === "host")) h.add("host-header");
  const text = JSON.stringify(policies);
  if (text.includes("experimental.envoy.filters")) h.add("experimental-key");
  if (/request\.auth\.claims\[[^"]*\]\[/.test(text)) h.add("nested-claim");
  if (text.includes("\\u0000")) h.add("nul-key");
  if (/"\[[^"]*\]"/.test(text)) h.add("bracket-value");
  return [...h].sort();
}
