// meshConfig.extensionProviders -> the ext_authz providers CUSTOM policies name, resolved the way
// istiod resolves them (istio pilot/pkg/security/authz/builder/extauthz.go processExtensionProvider,
// buildExtAuthzHTTP/GRPC, generateHTTPConfig; pkg/config/validation/agent/extensionprovider.go).
// A provider istiod would reject is kept with its errors: istiod then emits the provider's CUSTOM
// rules as an enforced DENY (builder.go getBadCustomDenyRules), and so does the filter.

/** Envoy ListStringMatcher entry Istio generates for a header name (generateHeaders): always ignore_case. */
export interface HeaderNameMatcher {
  kind: "exact" | "prefix" | "suffix";
  value: string;
}

export interface ExtAuthzProvider {
  name: string;
  kind: "http" | "grpc";
  /** As written (`[<namespace>/]<hostname>`). */
  service: string;
  /** The hostname part: the cluster's host and the request's authority. */
  hostname: string;
  port: number;
  /** Istio's cluster name: BuildSubsetKey(outbound, "", hostname, port) = outbound|<port>||<hostname>. */
  cluster: string;
  /** 600 s when unset (extauthz.go timeoutOrDefault). */
  timeoutMs: number;
  failOpen: boolean;
  /** 0 = unset: Envoy's ext_authz answers 403 (ext_authz.h toErrorCode). */
  statusOnError: number;
  pathPrefix: string;
  /** HTTP only: includeRequestHeadersInCheck (else the deprecated includeHeadersInCheck). */
  includeRequestHeaders: HeaderNameMatcher[];
  /** HTTP only: includeAdditionalHeadersInCheck, sorted by name (generateHTTPConfig sorts the keys). */
  additionalHeaders: Array<[string, string]>;
  headersToUpstreamOnAllow: HeaderNameMatcher[];
  headersToDownstreamOnDeny: HeaderNameMatcher[];
  /** Settings meshauthz does not enforce (reported as warnings). */
  unsupported: string[];
}

export interface ResolvedProviders {
  /** Valid ext_authz providers by name. */
  valid: Map<string, ExtAuthzProvider>;
  /** Providers istiod would refuse to build: name -> istiod's error text. */
  invalid: Map<string, string>;
  /** Every ext_authz provider name, valid or not, in order: istiod lists them in its error. */
  names: string[];
}

/** envoy/type/v3/http_status.proto StatusCode values (Empty = 0 included): istiod's parseStatusOnError. */
const ENVOY_STATUS_CODES = new Set([
  0, 100, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403,
  404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 423, 424, 426, 428, 429, 431, 500,
  501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

export const DEFAULT_TIMEOUT_MS = 600_000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** validateProviderName (extauthz.go). */
function providerNameError(name: string): string | null {
  if (name.length > 63) return `provider name too long (max 63 characters): ${name.length}`;
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if ((c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c === "-") continue;
    if (c >= "A" && c <= "Z") return `uppercase letters not allowed (use lowercase): character '${c}' at position ${i}`;
    return `invalid character '${c}' at position ${i} (only lowercase letters, digits, and hyphens allowed)`;
  }
  if (name.startsWith("-") || name.endsWith("-")) return "provider name cannot start or end with hyphen";
  return null;
}

/** A google.protobuf.Duration in its JSON form ("600s", "0.5s"), as istiod reads the mesh config. */
export function parseDurationMs(v: unknown): number | null {
  if (typeof v !== "string") return null;
  const m = /^(\d+)(?:\.(\d{1,9}))?s$/.exec(v);
  if (!m) return null;
  const ms = Number(m[1]) * 1000 + Math.floor(Number(`0.${m[2] ?? "0"}`) * 1000);
  return Number.isFinite(ms) ? ms : null;
}

function stringList(o: Obj, key: string, errs: string[]): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    errs.push(`${key} must be a list of strings`);
    return [];
  }
  return v as string[];
}

/** generateHeaders: "*x" suffix, "x*" prefix, else exact; a lone "*" is refused (checkWildcard). */
function headerMatchers(field: string, values: string[], errs: string[]): HeaderNameMatcher[] {
  const out: HeaderNameMatcher[] = [];
  for (const v of values) {
    if (v === "*") {
      errs.push(`a single wildcard ("*") is not supported, change it to either prefix or suffix match: ${field}`);
      continue;
    }
    if (v.startsWith("*")) out.push({ kind: "suffix", value: v.slice(1) });
    else if (v.endsWith("*")) out.push({ kind: "prefix", value: v.slice(0, -1) });
    else out.push({ kind: "exact", value: v });
  }
  return out;
}

const HOSTNAME = /^(?=.{1,255}$)[A-Za-z0-9*](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** validateExtensionProviderService + LookupCluster's split of `[<namespace>/]<hostname>`. */
function serviceHost(service: unknown, errs: string[]): string {
  if (typeof service !== "string" || service === "") {
    errs.push("service must not be empty");
    return "";
  }
  const parts = service.split("/");
  const host = parts.length === 2 ? parts[1] : service;
  if (parts.length > 2 || (parts.length === 2 && parts[0] === "") || !(HOSTNAME.test(host) || IPV4.test(host) || host.includes(":"))) {
    errs.push(`invalid service fmt ${service}`);
  }
  return host;
}

function parsePort(v: unknown, errs: string[]): number {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) {
    errs.push(`port must be in the range [1, 65535], found: ${String(v ?? 0)}`);
    return 0;
  }
  return n;
}

function parseStatusOnError(v: unknown, errs: string[]): number {
  if (v === undefined || v === null || v === "") return 0;
  const s = String(v);
  if (!/^[+-]?\d+$/.test(s)) {
    errs.push(`invalid statusOnError "${s}": strconv.ParseInt: parsing "${s}": invalid syntax`);
    return 0;
  }
  const code = Number(s);
  if (!ENVOY_STATUS_CODES.has(code)) {
    errs.push(`unsupported statusOnError ${s}, supported values: [${[...ENVOY_STATUS_CODES].join(" ")}]`);
    return 0;
  }
  return code;
}

function resolveOne(name: string, kind: "http" | "grpc", c: Obj): { provider?: ExtAuthzProvider; errors: string[] } {
  const errs: string[] = [];
  const port = parsePort(c.port, errs);
  const hostname = serviceHost(c.service, errs);
  const statusOnError = parseStatusOnError(c.statusOnError, errs);
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (c.timeout !== undefined && c.timeout !== null) {
    const t = parseDurationMs(c.timeout);
    if (t === null) errs.push(`invalid timeout ${JSON.stringify(c.timeout)}: expected a duration such as "10s"`);
    else timeoutMs = t;
  }
  if (c.failOpen !== undefined && typeof c.failOpen !== "boolean") errs.push("failOpen must be a boolean");
  const unsupported: string[] = [];
  if (c.includeRequestBodyInCheck !== undefined && c.includeRequestBodyInCheck !== null) {
    unsupported.push("includeRequestBodyInCheck (the request body is not sent to the provider)");
  }
  let pathPrefix = "";
  let includeRequestHeaders: HeaderNameMatcher[] = [];
  let additionalHeaders: Array<[string, string]> = [];
  let up: HeaderNameMatcher[] = [];
  let down: HeaderNameMatcher[] = [];
  if (kind === "http") {
    if (c.pathPrefix !== undefined && c.pathPrefix !== null && c.pathPrefix !== "") {
      if (typeof c.pathPrefix !== "string") errs.push("pathPrefix must be a string");
      else {
        pathPrefix = c.pathPrefix;
        if (!pathPrefix.startsWith("/")) errs.push(`pathPrefix must begin with \`/\`, found: "${pathPrefix}"`);
      }
    }
    const req = stringList(c, "includeRequestHeadersInCheck", errs);
    const legacy = stringList(c, "includeHeadersInCheck", errs);
    includeRequestHeaders = headerMatchers("IncludeRequestHeadersInCheck", req, errs);
    const legacyMatchers = headerMatchers("IncludeHeadersInCheck", legacy, errs);
    if (includeRequestHeaders.length === 0) includeRequestHeaders = legacyMatchers;
    const add = c.includeAdditionalHeadersInCheck;
    if (add !== undefined && add !== null) {
      if (!isObj(add) || Object.values(add).some((x) => typeof x !== "string")) errs.push("includeAdditionalHeadersInCheck must map header names to strings");
      else additionalHeaders = Object.entries(add as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    }
    down = headerMatchers("HeadersToDownstreamOnDeny", stringList(c, "headersToDownstreamOnDeny", errs), errs);
    up = headerMatchers("HeadersToUpstreamOnAllow", stringList(c, "headersToUpstreamOnAllow", errs), errs);
    if (headerMatchers("HeadersToDownstreamOnAllow", stringList(c, "headersToDownstreamOnAllow", errs), errs).length > 0) {
      unsupported.push("headersToDownstreamOnAllow (headers are not added to the upstream's response)");
    }
  }
  if (errs.length > 0) return { errors: errs };
  return {
    errors: [],
    provider: {
      name,
      kind,
      service: c.service as string,
      hostname,
      port,
      cluster: `outbound|${port}||${hostname}`,
      timeoutMs,
      failOpen: c.failOpen === true,
      statusOnError,
      pathPrefix,
      includeRequestHeaders,
      additionalHeaders,
      headersToUpstreamOnAllow: up,
      headersToDownstreamOnDeny: down,
      unsupported,
    },
  };
}

/** meshConfig.extensionProviders (a list) -> the resolved ext_authz providers. */
export function resolveExtensionProviders(list: unknown): ResolvedProviders {
  const out: ResolvedProviders = { valid: new Map(), invalid: new Map(), names: [] };
  if (!Array.isArray(list)) return out;
  const seen = new Set<string>();
  list.forEach((item, i) => {
    if (!isObj(item)) return;
    const name = typeof item.name === "string" ? item.name : "";
    const errs: string[] = [];
    if (name === "") errs.push(`extension provider name must not be empty, found empty at index: ${i}`);
    else if (seen.has(name)) errs.push(`extension provider name must be unique, found duplicate: ${name}`);
    if (name !== "") {
      const e = providerNameError(name);
      if (e) errs.push(`invalid provider name "${name}": ${e}`);
    }
    seen.add(name);
    const http = item.envoyExtAuthzHttp;
    const grpc = item.envoyExtAuthzGrpc;
    if (!isObj(http) && !isObj(grpc)) return; // tracing, logging, ...: istiod skips them here
    if (name !== "" && !out.names.includes(name)) out.names.push(name);
    const r = resolveOne(name, isObj(http) ? "http" : "grpc", (isObj(http) ? http : grpc) as Obj);
    if (r.errors.length > 0) errs.push(`failed to parse extension provider "${name}": ${r.errors.join("; ")}`);
    if (name === "") return;
    if (errs.length > 0 || !r.provider) {
      out.valid.delete(name);
      out.invalid.set(name, errs.join("; "));
    } else if (!out.invalid.has(name)) {
      out.valid.set(name, r.provider);
    }
  });
  return out;
}
