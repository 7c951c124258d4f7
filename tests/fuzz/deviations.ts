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
// Attribution probes: a mismatch is re-run with one feature of the request taken out; the first probe that
// makes filter and reference agree names the issue-9 class the mismatch depends on.

const CONTROL_OR_NL = /[\u0000-\u001f\u007f\u2028]/g;

function cleanText(s: string): string {
  return s.replace(CONTROL_OR_NL, "");
}

/** Bytes with `\n`, control characters and non-UTF-8 sequences removed (a string again). */
function cleanBytes(v: string | Uint8Array): string {
  const s = typeof v === "string" ? v : new TextDecoder().decode(v).replace(/\uFFFD/g, "");
  return cleanText(s);
}

function deepClean(v: unknown): unknown {
  if (typeof v === "string" || v instanceof Uint8Array) return cleanBytes(v);
  if (Array.isArray(v)) return v.map(deepClean);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepClean(x)]));
  return v;
}

/** A "plain" claim string: printable, and not of a length the old untyped read mistook (1 or 8 bytes). */
function plainClaim(x: unknown): boolean {
  if (typeof x !== "string" || CONTROL_OR_NL.test(x)) return (CONTROL_OR_NL.lastIndex = 0), false;
  const n = Buffer.byteLength(x);
  return n !== 1 && n !== 8;
}

function plainClaims(v: unknown, top = true): unknown {
  if (Array.isArray(v)) return v.every(plainClaim) ? v : undefined;
  if (v && typeof v === "object") {
    const entries = Object.entries(v)
      .filter(([k]) => !/[\u0000[\]]/.test(k))
      .map(([k, x]) => [k, plainClaim(x) ? x : plainClaims(x, false)] as const)
      .filter(([, x]) => x !== undefined);
    if (!top && entries.length > 0 && entries.every(([, x]) => x === "")) return undefined;
    return Object.fromEntries(entries);
  }
  return undefined;
}

export const PROBES: Array<{ label: string; apply: (r: CaseRequest) => CaseRequest | null }> = [
  {
    label: "class7-space-delimited",
    apply: (r) => {
      const j = r.jwt as Record<string, unknown> | null | undefined;
      if (!j || !["scope", "permission"].some((k) => typeof j[k] === "string")) return null;
      const n = { ...j };
      for (const k of ["scope", "permission"]) if (typeof n[k] === "string") n[k] = (n[k] as string).split(" ").filter((x) => x !== "");
      return { ...r, jwt: n };
    },
  },
  {
    label: "class4-host-header",
    apply: (r) => {
      const hs = Object.keys(r.headers ?? {}).filter((k) => k.toLowerCase() === "host");
      if (hs.length === 0) return null;
      return { ...r, headers: Object.fromEntries(Object.entries(r.headers!).filter(([k]) => k.toLowerCase() !== "host")) };
    },
  },
  {
    label: "class1-re2-bytes",
    apply: (r) => ({
      ...r,
      headers: deepClean(r.headers) as CaseRequest["headers"],
      sni: r.sni == null ? r.sni : cleanBytes(r.sni),
      peer_certificate: r.peer_certificate == null ? r.peer_certificate : (deepClean(r.peer_certificate) as CaseRequest["peer_certificate"]),
      jwt: r.jwt == null ? r.jwt : (deepClean(r.jwt) as Record<string, unknown>),
    }),
  },
  {
    label: "class2/3-claim-types-or-paths",
    apply: (r) => (r.jwt ? { ...r, jwt: plainClaims(r.jwt) as Record<string, unknown> } : null),
  },
];
