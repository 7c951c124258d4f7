// Independent reference evaluator for Istio AuthorizationPolicy on a sidecar (inbound), written straight from
// /work/shared/spec/istio-authz-semantics.md (section numbers below) and checked against Istio's builder /
// model / generator code and Envoy's RBAC engine. It is the oracle for differential tests and fuzzing, so it
// is deliberately plain: it evaluates policies against one request directly, no compilation step.
//
// It shares no code with the compiler or the filter; it imports only the types in tools/model/.
//
// One option departs from Istio on purpose: `directPeerIpUnknown` (EvaluateOptions) implements meshauthz's
// documented fail-safe deviation for `ipBlocks` / `source.ip` on requests that carry `x-forwarded-for`.

import type { AuthorizationPolicy, Condition, Operation, Rule, Source } from "../../tools/model/policy.ts";
import type { CaseRequest, Workload } from "../../tools/model/case-file.ts";
import { cidrContains, parseCidr } from "./cidr.ts";
import {
  expandTrustDomains,
  matchPeer,
  type PeerCertificate,
  namespaceMatcher,
  principalMatcher,
  replaceTrustDomainAliases,
  serviceAccountMatcher,
  trustDomainMatcher,
  type TrustDomainBundle,
} from "./identity.ts";
import { claimPathFromKeySuffix, ISTIO_SPACE_DELIMITED_CLAIMS, lookupPath, matchClaim, matchRequestPrincipal, normalizeJwtPayload } from "./jwt.ts";
import { containsPathTemplate, matchPathTemplate, stripQueryAndFragment } from "./path-template.ts";
import {
  asciiLower,
  type Bytes,
  istioHeaderMatcher,
  istioInlineHeaderMatcher,
  istioStringMatcher,
  matchHeader,
  matchString,
  toBytes,
} from "./string-match.ts";

export interface ReferenceMesh {
  rootNamespace: string;
  trustDomain: string;
  trustDomainAliases: string[];
  /** Names of the valid ext_authz providers of meshConfig.extensionProviders; undefined = every
   *  provider a CUSTOM policy names is defined (case files: `ext_authz_decision` is its answer). */
  extAuthzProviders?: string[];
  /** Those of them that are gRPC providers (the only kind Istio also enforces on TCP chains). */
  extAuthzGrpcProviders?: string[];
}

export interface EngineOutcome {
  result: "allowed" | "denied";
  /** effective id "ns[..]-policy[..]-rule[..]" of the first matching rule in Envoy's order, null when none matched */
  policy: string | null;
}

export interface ReferenceDecision {
  decision: "ALLOW" | "DENY";
  /** deciding policy id; "none" for an ALLOW miss; null when allowed because no enforced ALLOW policy applies;
   *  "ext_authz(<id>)" for a CUSTOM provider denial */
  policy: string | null;
  /** some (enforced) AUDIT rule matched */
  audit: boolean;
  /** dry-run engines that exist on the workload AND were reached (a DENY stops the chain before ALLOW) */
  shadow: { allow?: EngineOutcome; deny?: EngineOutcome };
}

type Action = "ALLOW" | "DENY" | "AUDIT" | "CUSTOM";

/** A value Istio fails to translate (HTTP-only field on TCP, bad IP/port, malformed key): spec §5.4, §6. */
const ERR = Symbol("translation-error");
/**
 * Kleene's third truth value. Only produced under `EvaluateOptions.directPeerIpUnknown` (meshauthz's
 * documented fail-safe deviation, see there): a direct-peer-IP leaf whose IP cannot be known.
 */
const UNKNOWN = "unknown" as const;
type Tri = boolean | typeof UNKNOWN;
type V = Tri | typeof ERR;

/**
 * Options of the reference evaluator. Without options it is plain Istio/Envoy semantics.
 */
export interface EvaluateOptions {
  /**
   * meshauthz's documented fail-safe deviation (docs/blob-format.md §3.3, spec §10): a proxy-wasm HTTP filter
   * cannot read the direct TCP peer. When the request carries `x-forwarded-for` (or source.port is 0), the
   * filter treats the direct peer IP as unknown: every `ipBlocks` / `notIpBlocks` / `source.ip` value
   * evaluates to UNKNOWN, matchers combine in three-valued (Kleene) logic (NOT U = U, U AND false = false,
   * U OR true = true, ...), and a rule whose result is UNKNOWN counts as matching in DENY and CUSTOM engines
   * and as not matching in ALLOW and AUDIT engines (shadow engines follow their action). Real Istio would
   * match the direct peer IP instead; the deviation is deliberate, so a spoofable header can never widen
   * access. Differential tests set it exactly when the request carries `x-forwarded-for`.
   */
  directPeerIpUnknown?: boolean;
  /**
   * Claims jwt_authn splits on spaces (normalize_payload_in_metadata.space_delimited_claims): Istio sets
   * `scope`, `permission` and the RequestAuthentication's `spaceDelimitedClaims`. Default: Istio's two.
   */
  spaceDelimitedClaims?: readonly string[];
}

interface Ctx {
  req: Req;
  tcp: boolean;
  policyNs: string;
  bundle: TrustDomainBundle;
  /** EvaluateOptions.directPeerIpUnknown */
  peerIpUnknown: boolean;
}

/** The request's view used by every matcher: the case request plus what Envoy derives from it. */
interface Req extends CaseRequest {
  /** the jwt_authn payload as stored in dynamic metadata (normalized), null without a verified token */
  jwtPayload: Record<string, unknown> | null;
  /** the peer certificate as Ssl::ConnectionInfo exposes it; null on plaintext */
  peer: PeerCertificate | null;
}

// Kleene three-valued connectives (only ever see UNKNOWN under directPeerIpUnknown).
function triNot(a: Tri): Tri {
  return a === UNKNOWN ? UNKNOWN : !a;
}
function triAny(xs: Tri[]): Tri {
  if (xs.some((x) => x === true)) return true;
  return xs.some((x) => x === UNKNOWN) ? UNKNOWN : false;
}
function triAll(xs: Tri[]): Tri {
  if (xs.some((x) => x === false)) return false;
  return xs.some((x) => x === UNKNOWN) ? UNKNOWN : true;
}

// ---------------------------------------------------------------------------------------------------------
// Request attributes (spec §5.0)

function concatBytes(parts: Uint8Array[], sep: number): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0) + Math.max(0, parts.length - 1));
  let at = 0;
  parts.forEach((p, i) => {
    if (i > 0) out[at++] = sep;
    out.set(p, at);
    at += p.length;
  });
  return out;
}

/** The case's own headers named `n` (case-insensitive), each value as bytes. */
function caseHeaders(req: CaseRequest, n: string): Uint8Array[] {
  const found: Uint8Array[] = [];
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    if (asciiLower(k) !== n || v === null || v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) found.push(x instanceof Uint8Array ? x : toBytes(String(x)));
  }
  return found;
}

/**
 * `:authority` as Envoy's request header map holds it. The map stores a `host` header in the :authority slot
 * (source/common/http/header_map_impl.cc, "map a legacy host header to :authority"): it becomes the authority
 * when there is none; over HTTP/2 a `host` after `:authority` is discarded (http2/codec_impl.cc
 * ServerConnectionImpl::onHeader, runtime guard http2_discard_host_header, on by default); otherwise it is
 * appended with "," as any repeated inline header.
 */
function authority(req: CaseRequest): Uint8Array | undefined {
  const parts: Uint8Array[] = req.host !== undefined ? [toBytes(req.host)] : [];
  const http2 = req.protocol === "GRPC";
  for (const h of caseHeaders(req, "host")) {
    if (http2 && parts.length > 0) continue;
    if (h.length > 0 || parts.length === 0) parts.push(h); // appendToHeader ignores empty data
  }
  return parts.length === 0 ? undefined : concatBytes(parts, 0x2c);
}

/** Request header value as Envoy's header matcher sees it (names case-insensitive, repeats joined with ","). */
function headerValue(req: CaseRequest, name: string): Bytes | undefined {
  const n = asciiLower(name);
  if (n === ":method") {
    const m = req.method ?? (req.protocol === "GRPC" ? "POST" : undefined); // §5.2.2 gRPC is always POST
    if (m !== undefined) return m;
  } else if (n === ":authority" || n === "host") {
    return authority(req); // a lookup of `host` is a lookup of :authority (header_map_impl.cc)
  } else if (n === ":path") {
    // The raw :path header (query included) as filters see it, i.e. after HCM normalization.
    const p = req.path_normalized ?? req.path;
    if (p !== undefined) return p;
  }
  const found = caseHeaders(req, n);
  // A gRPC request always carries `content-type: application/grpc` (gRPC over HTTP/2); a case that gives
  // none gets that one, as tools/cases/request-stream.ts sends it.
  if (found.length === 0 && n === "content-type" && req.protocol === "GRPC") return "application/grpc";
  return found.length === 0 ? undefined : concatBytes(found, 0x2c); // §5.3 HeaderUtility::getAllOfHeaderAsString
}

/** The peer certificate of a case request: `peer_certificate`, else one URI SAN `source_principal`; null = plaintext. */
export function peerCertificateOf(req: CaseRequest): PeerCertificate | null {
  const pc = req.peer_certificate;
  if (pc) return { uriSans: pc.uri_sans ?? [], dnsSans: pc.dns_sans ?? [], subject: pc.subject ?? "" };
  if (typeof req.source_principal === "string") return { uriSans: [req.source_principal], dnsSans: [], subject: "" };
  // TLS without a client certificate (an SNI was sent): Envoy matches the empty subject.
  if (req.sni !== null && req.sni !== undefined) return { uriSans: [], dnsSans: [], subject: "" };
  return null;
}

/** The path Istio's `paths` compare: normalized path, query and fragment stripped (§5.2.4). */
function urlPath(req: CaseRequest): string | undefined {
  const p = req.path_normalized ?? req.path;
  return typeof p === "string" ? stripQueryAndFragment(p) : undefined;
}

/** Envoy dynamic metadata: the (normalized) JWT payload under jwt_authn plus any `metadata` the case carries. */
function dynamicMetadata(req: Req): Record<string, unknown> {
  const extra = (req as unknown as { metadata?: Record<string, unknown> }).metadata;
  const md: Record<string, unknown> = { ...(extra ?? {}) };
  if (req.jwtPayload) {
    const prev = md["envoy.filters.http.jwt_authn"];
    md["envoy.filters.http.jwt_authn"] = { ...(typeof prev === "object" && prev ? prev : {}), payload: req.jwtPayload };
  }
  return md;
}

// ---------------------------------------------------------------------------------------------------------
// Per-value matchers (one per Istio generator). Each returns true/false, or ERR when Istio cannot translate it.

type ValueFn = (v: string) => V;

const onlyHttp = (ctx: Ctx, fn: ValueFn): ValueFn => (ctx.tcp ? () => ERR : fn); // §5.4

function ipFn(addr: string | null | undefined): ValueFn {
  return (v) => {
    const c = parseCidr(v);
    return c === null ? ERR : cidrContains(c, addr);
  };
}

/** The direct peer IP (`ipBlocks`, `source.ip`): UNKNOWN under the fail-safe deviation (EvaluateOptions). */
function directIpFn(ctx: Ctx): ValueFn {
  if (!ctx.peerIpUnknown) return ipFn(ctx.req.source_ip);
  return (v) => (parseCidr(v) === null ? ERR : UNKNOWN);
}

function portFn(port: number | null | undefined): ValueFn {
  return (v) => {
    // Go strconv.ParseUint(v, 10, 32) and <= 65535 (util.go convertToPort)
    if (!/^[0-9]+$/.test(v) || Number(v) > 65535) return ERR;
    return port !== null && port !== undefined && Number(port) === Number(v);
  };
}

const principalFn = (ctx: Ctx): ValueFn => (v) => matchPeer(principalMatcher(v), ctx.req.peer);
const namespaceFn = (ctx: Ctx): ValueFn => (v) => matchPeer(namespaceMatcher(v), ctx.req.peer);
const serviceAccountFn = (ctx: Ctx): ValueFn => (v) => matchPeer(serviceAccountMatcher(v, ctx.policyNs), ctx.req.peer);
const trustDomainFn = (ctx: Ctx): ValueFn => (v) => matchPeer(trustDomainMatcher(v), ctx.req.peer);
const requestPrincipalFn = (ctx: Ctx): ValueFn => onlyHttp(ctx, (v) => matchRequestPrincipal(v, ctx.req.jwtPayload));

function headerFn(ctx: Ctx, name: string, ignoreCase: boolean): ValueFn {
  return onlyHttp(ctx, (v) => matchHeader(istioHeaderMatcher(v, ignoreCase), headerValue(ctx.req, name)));
}

function pathFn(ctx: Ctx): ValueFn {
  return onlyHttp(ctx, (v) => {
    const p = urlPath(ctx.req);
    if (containsPathTemplate(v)) return matchPathTemplate(v, p); // §5.2.5
    return matchString(istioStringMatcher(v), p); // §5.2.4: `*` -> `.+`
  });
}

/**
 * `experimental.envoy.filters.<f>[<k>]` (generator.go envoyFilterGenerator): the key is split ONCE at the first
 * `[` after trimming one `]`, so `...jwt_authn[payload][sub]` is filter `...jwt_authn`, literal key
 * `payload][sub`; a value `[x]` is a ListMatcher one_of string matcher of strings.Trim(x, "[]"), any other
 * value a string matcher on that key's value (a string only).
 */
function experimentalFn(ctx: Ctx, key: string): ValueFn {
  let k = key.startsWith("experimental.") ? key.slice("experimental.".length) : key;
  if (k.endsWith("]")) k = k.slice(0, -1);
  const open = k.indexOf("[");
  if (open < 0) return () => ERR;
  const filter = k.slice(0, open);
  const mdKey = k.slice(open + 1);
  return (v) => {
    const value = lookupPath(dynamicMetadata(ctx.req), [filter, mdKey]);
    if (v.startsWith("[") && v.endsWith("]")) {
      const m = istioStringMatcher(v.replace(/^[[\]]+|[[\]]+$/g, "")); // Go strings.Trim(v, "[]")
      return Array.isArray(value) && value.some((e) => isStringValue(e) && matchString(m, e));
    }
    return isStringValue(value) && matchString(istioStringMatcher(v), value);
  };
}

/** A Struct string value (a Uint8Array is one given as raw bytes). */
function isStringValue(v: unknown): v is Bytes {
  return typeof v === "string" || v instanceof Uint8Array;
}

/** Istio extractNameInBrackets: `[name]` -> name; null on any other shape. */
function nameInBrackets(s: string): string | null {
  return s.startsWith("[") && s.endsWith("]") ? s.slice(1, -1) : null;
}

/**
 * `when` key -> value matcher, in the order of Istio model.New's switch (§5.3). Returns null for an unknown
 * key: the whole rule is then skipped, for every action (§5.3 last paragraph).
 * `rewrite` is applied to the whole value lists first (trust-domain alias expansion, §5.1.1 / §5.1.4).
 */
function conditionFn(ctx: Ctx, key: string): { fn: ValueFn; rewrite?: (vs: string[]) => string[] } | null {
  const req = ctx.req;
  if (key === "destination.ip") return { fn: ipFn(req.destination_ip) };
  if (key === "destination.port") return { fn: portFn(req.destination_port) };
  if (key === "connection.sni") return { fn: (v) => matchString(istioStringMatcher(v), req.sni ?? "") }; // "" when none
  if (key.startsWith("experimental.envoy.filters.")) return { fn: experimentalFn(ctx, key) };
  if (key === "source.ip") return { fn: directIpFn(ctx) };
  if (key === "remote.ip") return { fn: ipFn(req.remote_ip) };
  if (key === "source.namespace") return { fn: namespaceFn(ctx) };
  if (key === "source.serviceAccount") return { fn: serviceAccountFn(ctx) };
  if (key === "source.trustDomain")
    return { fn: trustDomainFn(ctx), rewrite: (vs) => expandTrustDomains(vs, ctx.bundle) };
  if (key === "source.principal")
    return { fn: principalFn(ctx), rewrite: (vs) => replaceTrustDomainAliases(vs, ctx.bundle) };
  if (key === "request.auth.principal") return { fn: requestPrincipalFn(ctx) };
  if (key === "request.auth.audiences") return { fn: onlyHttp(ctx, (v) => matchClaim(["aud"], [v], req.jwtPayload)) };
  if (key === "request.auth.presenter") return { fn: onlyHttp(ctx, (v) => matchClaim(["azp"], [v], req.jwtPayload)) };
  if (key.startsWith("request.headers")) {
    const name = nameInBrackets(key.slice("request.headers".length));
    if (name === null) return { fn: onlyHttp(ctx, () => ERR) };
    return { fn: headerFn(ctx, name, false) };
  }
  if (key.startsWith("request.experimental.inline.headers")) {
    const name = nameInBrackets(key.slice("request.experimental.inline.headers".length));
    if (name === null) return { fn: onlyHttp(ctx, () => ERR) };
    return { fn: onlyHttp(ctx, (v) => matchHeader(istioInlineHeaderMatcher(v), headerValue(req, name))) };
  }
  if (key.startsWith("request.auth.claims")) {
    const path = claimPathFromKeySuffix(key.slice("request.auth.claims".length));
    if (path === null) return { fn: onlyHttp(ctx, () => ERR) };
    return { fn: onlyHttp(ctx, (v) => matchClaim(path, [v], req.jwtPayload)) };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Combination (§3) with Istio's translation-error handling (model.go checkError, §5.4, §6)

/** Field result: true/false (or UNKNOWN), or "drop" when an ALLOW rule must be dropped (translation error). */
type FieldResult = Tri | "drop";

/**
 * `(not values or any(values)) and not any(notValues)` (§3, §8 `field`). A value Istio cannot translate makes
 * an ALLOW rule disappear (strict); for DENY/AUDIT/CUSTOM that value is simply left out, and a list left
 * empty imposes no constraint (so the rule matches more widely).
 */
function field(values: string[] | undefined, notValues: string[] | undefined, fn: ValueFn, strict: boolean): FieldResult {
  // String(): a YAML scalar such as `8080` or `true` reaches Istio as the string it spells.
  const pos = (values ?? []).map((v) => fn(String(v)));
  const neg = (notValues ?? []).map((v) => fn(String(v)));
  if (strict && (pos.includes(ERR) || neg.includes(ERR))) return "drop";
  const p = pos.filter((x): x is Tri => x !== ERR);
  const n = neg.filter((x): x is Tri => x !== ERR);
  return triAll([p.length === 0 ? true : triAny(p), triNot(triAny(n))]);
}

function sourceFields(s: Source | undefined | null, ctx: Ctx, strict: boolean): FieldResult[] {
  if (!s) return [];
  const out: FieldResult[] = [];
  const add = (vals: string[] | undefined, nots: string[] | undefined, fn: ValueFn) => {
    if ((vals?.length ?? 0) > 0 || (nots?.length ?? 0) > 0) out.push(field(vals, nots, fn, strict));
  };
  const td = (vs: string[] | undefined) => (vs ? replaceTrustDomainAliases(vs.map(String), ctx.bundle) : vs);
  const tds = (vs: string[] | undefined) => (vs ? expandTrustDomains(vs.map(String), ctx.bundle) : vs);
  add(s.principals && td(s.principals), s.notPrincipals && td(s.notPrincipals), principalFn(ctx)); // §5.1.1
  add(s.requestPrincipals, s.notRequestPrincipals, requestPrincipalFn(ctx)); // §5.1.6
  add(s.serviceAccounts, s.notServiceAccounts, serviceAccountFn(ctx)); // §5.1.3
  add(s.namespaces, s.notNamespaces, namespaceFn(ctx)); // §5.1.2
  add(tds(s.trustDomains), tds(s.notTrustDomains), trustDomainFn(ctx)); // §5.1.4
  add(s.remoteIpBlocks, s.notRemoteIpBlocks, ipFn(ctx.req.remote_ip)); // §5.1.5 remote address
  add(s.ipBlocks, s.notIpBlocks, directIpFn(ctx)); // §5.1.5 direct peer address (UNKNOWN: EvaluateOptions)
  return out;
}

function operationFields(o: Operation | undefined | null, ctx: Ctx, strict: boolean): FieldResult[] {
  if (!o) return [];
  const out: FieldResult[] = [];
  const add = (vals: string[] | undefined, nots: string[] | undefined, fn: ValueFn) => {
    if ((vals?.length ?? 0) > 0 || (nots?.length ?? 0) > 0) out.push(field(vals, nots, fn, strict));
  };
  add(o.hosts, o.notHosts, headerFn(ctx, ":authority", true)); // §5.2.1 case-insensitive, port included
  add(o.methods, o.notMethods, headerFn(ctx, ":method", false)); // §5.2.2
  add(o.paths, o.notPaths, pathFn(ctx)); // §5.2.4/5
  add(o.ports, o.notPorts, portFn(ctx.req.destination_port)); // §5.2.3
  return out;
}

/** Whether a rule matches (UNKNOWN only under the deviation); null when Istio emits no Envoy policy for it. */
function ruleMatches(rule: Rule, action: Action, ctx: Ctx): Tri | null {
  const strict = action === "ALLOW"; // CUSTOM is built with RBAC_DENY, AUDIT with RBAC_LOG: both lenient
  const when: FieldResult[] = [];
  for (const c of (rule.when ?? []) as Array<Condition | null>) {
    if (!c) continue;
    const cf = conditionFn(ctx, String(c.key ?? ""));
    if (cf === null) return null; // unknown key: "skipped invalid rule"
    const vals = c.values && cf.rewrite ? cf.rewrite(c.values.map(String)) : c.values;
    const nots = c.notValues && cf.rewrite ? cf.rewrite(c.notValues.map(String)) : c.notValues;
    if ((vals?.length ?? 0) > 0 || (nots?.length ?? 0) > 0) when.push(field(vals, nots, cf.fn, strict));
  }
  const from = (rule.from ?? []).map((f) => sourceFields(f?.source, ctx, strict));
  const to = (rule.to ?? []).map((t) => operationFields(t?.operation, ctx, strict));
  if ([when, ...from, ...to].some((rs) => rs.includes("drop"))) return null; // ALLOW rule dropped (§5.4)
  const all = (rs: FieldResult[]) => triAll(rs as Tri[]);
  const fromOk: Tri = from.length === 0 ? true : triAny(from.map(all));
  const toOk: Tri = to.length === 0 ? true : triAny(to.map(all));
  return triAll([fromOk, toOk, all(when)]);
}

// ---------------------------------------------------------------------------------------------------------
// Applicability (§1), dry-run (§2.1), engines (§7.3), decision (§2, §8)

function policyNamespace(p: AuthorizationPolicy): string {
  return p.metadata?.namespace ?? "default";
}

function applies(p: AuthorizationPolicy, wl: Workload, mesh: ReferenceMesh): boolean {
  if (p.kind !== undefined && p.kind !== "AuthorizationPolicy") return false;
  const ns = policyNamespace(p);
  const inRoot = mesh.rootNamespace !== "" && ns === mesh.rootNamespace;
  if (!inRoot && ns !== wl.namespace) return false; // §1.1
  const spec = p.spec ?? {};
  if (spec.targetRef != null || (spec.targetRefs?.length ?? 0) > 0) return false; // §1.2 sidecar ignores targetRef(s)
  if (spec.selector == null) return true;
  const labels = wl.labels ?? {};
  return Object.entries(spec.selector.matchLabels ?? {}).every(
    ([k, v]) => Object.prototype.hasOwnProperty.call(labels, k) && labels[k] === v,
  );
}

/** Go strconv.ParseBool; undefined on a parse error. */
export function goParseBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

/** §2.1: dry-run iff the annotation parses to true; absent or unparsable -> enforced. */
export function isDryRun(p: AuthorizationPolicy): boolean {
  const v = p.metadata?.annotations?.["istio.io/dry-run"];
  return typeof v === "string" && goParseBool(v) === true;
}

function actionOf(p: AuthorizationPolicy): Action | null {
  const a = p.spec?.action ?? "ALLOW"; // enum 0 = ALLOW
  return a === "ALLOW" || a === "DENY" || a === "AUDIT" || a === "CUSTOM" ? a : null;
}

export function effectiveId(ns: string, name: string, i: number): string {
  return `ns[${ns}]-policy[${name}]-rule[${i}]`;
}

/** Envoy iterates an engine's policies in std::map (bytewise) order of their names (§7.3). */
export function compareIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

interface EngineResult {
  /** lexicographically first matching Envoy policy name, null when none matched */
  matched: string | null;
  /** every Envoy policy name the engine holds */
  ids: string[];
}

/** One Envoy RBAC engine built from the given policies of one action. */
function runEngine(
  policies: AuthorizationPolicy[],
  action: Action,
  req: Req,
  mesh: ReferenceMesh,
  opts: EvaluateOptions = {},
): EngineResult {
  const entries = new Map<string, Tri>();
  const bundle = { trustDomain: mesh.trustDomain, aliases: mesh.trustDomainAliases };
  for (const p of policies) {
    const ns = policyNamespace(p);
    const name = p.metadata?.name ?? "";
    const rules = (p.spec?.rules ?? []) as Array<Rule | null>;
    if (rules.length === 0) {
      entries.set(effectiveId(ns, name, 0), false); // rbacPolicyMatchNever (§2 step 5, allow-nothing)
      continue;
    }
    const ctx: Ctx = { req, tcp: req.protocol === "TCP", policyNs: ns, bundle, peerIpUnknown: opts.directPeerIpUnknown === true };
    rules.forEach((r, i) => {
      if (!r) return; // nil rule skipped
      const m = ruleMatches(r, action, ctx);
      if (m !== null) entries.set(effectiveId(ns, name, i), m);
    });
  }
  const ids = [...entries.keys()].sort(compareIds);
  // UNKNOWN (fail-safe deviation only) matches in DENY and CUSTOM engines, not in ALLOW and AUDIT ones.
  const unknownMatches = action === "DENY" || action === "CUSTOM";
  const hit = (id: string) => entries.get(id) === true || (unknownMatches && entries.get(id) === UNKNOWN);
  return { matched: ids.find(hit) ?? null, ids };
}

/** Provider name used to order CUSTOM rules (one RBAC+ext_authz pair per provider, by provider name). */
function providerOf(p: AuthorizationPolicy): string {
  return p.spec?.provider?.name ?? "";
}

/**
 * Whether the request carries `x-forwarded-for` (any case, any value, even empty): when the fail-safe
 * deviation applies (EvaluateOptions.directPeerIpUnknown).
 */
export function carriesForwardedFor(req: CaseRequest): boolean {
  return Object.entries(req.headers ?? {}).some(([k, v]) => asciiLower(k) === "x-forwarded-for" && v !== null && v !== undefined);
}

export function evaluateReference(
  policies: AuthorizationPolicy[],
  workload: Workload,
  request: CaseRequest,
  mesh: ReferenceMesh,
  options: EvaluateOptions = {},
): ReferenceDecision {
  const jwt = request.jwt && typeof request.jwt === "object" ? request.jwt : null;
  const req: Req = {
    ...request,
    jwtPayload: jwt ? normalizeJwtPayload(jwt, options.spaceDelimitedClaims ?? ISTIO_SPACE_DELIMITED_CLAIMS) : null,
    peer: peerCertificateOf(request),
  };
  const applicable = policies.filter((p) => applies(p, workload, mesh));
  const by = (a: Action, dry: boolean) => applicable.filter((p) => actionOf(p) === a && isDryRun(p) === dry);
  const shadow: ReferenceDecision["shadow"] = {};

  // 1. CUSTOM (§2 step 1, §2.2; istio builder.go buildHTTP, extauthz.go getExtAuthz). One
  // RBAC+ext_authz pair per provider, in provider-name order; ext_authz is consulted only when an
  // enforced CUSTOM rule of its provider matched. istiod without PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS
  // (the default) refuses more than one provider on a workload, and a provider the mesh config does
  // not define is refused too: then the CUSTOM rules become an enforced DENY named
  // istio-ext-authz-<provider>-<id>-deny-due-to-bad-CUSTOM-action.
  const custom = by("CUSTOM", false);
  const providers = [...new Set(custom.map(providerOf))].sort(compareIds);
  const defined = (prov: string) => mesh.extAuthzProviders === undefined || mesh.extAuthzProviders.includes(prov);
  for (const prov of providers) {
    const r = runEngine(custom.filter((p) => providerOf(p) === prov), "CUSTOM", req, mesh, options);
    if (r.matched === null) continue;
    if (providers.length > 1 || !defined(prov)) {
      return { decision: "DENY", policy: `istio-ext-authz-${prov}-${r.matched}-deny-due-to-bad-CUSTOM-action`, audit: false, shadow };
    }
    // On a TCP chain Istio builds no ext_authz for an HTTP provider (buildTCP: "ignored CUSTOM
    // action with HTTP provider on TCP filter chain"); case-file providers are HTTP ones.
    if (request.protocol === "TCP" && !(mesh.extAuthzGrpcProviders ?? []).includes(prov)) continue;
    if (request.ext_authz_decision === "deny") {
      return { decision: "DENY", policy: `ext_authz(${r.matched})`, audit: false, shadow };
    }
  }

  // 3. AUDIT never changes the decision (§2 step 3).
  const audit = by("AUDIT", false).length > 0 && runEngine(by("AUDIT", false), "AUDIT", req, mesh, options).matched !== null;

  // 4. DENY filter: its shadow engine runs first, then the enforced one (§2 step 4, §2.1).
  const denyDry = by("DENY", true);
  if (denyDry.length > 0) {
    const s = runEngine(denyDry, "DENY", req, mesh, options);
    shadow.deny = { result: s.matched !== null ? "denied" : "allowed", policy: s.matched };
  }
  const deny = runEngine(by("DENY", false), "DENY", req, mesh, options);
  if (deny.matched !== null) return { decision: "DENY", policy: deny.matched, audit, shadow };

  // 5. ALLOW filter (§2 step 5): a dry-run ALLOW policy does not make the ALLOW set non-empty.
  const allowDry = by("ALLOW", true);
  if (allowDry.length > 0) {
    const s = runEngine(allowDry, "ALLOW", req, mesh, options);
    shadow.allow = { result: s.matched !== null ? "allowed" : "denied", policy: s.matched };
  }
  const allowEnforced = by("ALLOW", false);
  if (allowEnforced.length === 0) return { decision: "ALLOW", policy: null, audit, shadow };
  const allow = runEngine(allowEnforced, "ALLOW", req, mesh, options);
  if (allow.matched !== null) return { decision: "ALLOW", policy: allow.matched, audit, shadow };
  return { decision: "DENY", policy: "none", audit, shadow };
}
