// Re-implementation of istio/istio pkg/config/security/security.go (the helpers ValidateAuthorizationPolicy
// calls): CheckEmptyValues, CheckServiceAccount, CheckValidPathTemplate, ValidateAttribute, ValidateIPs,
// ValidatePorts, validateMapKey, CheckWildcardValues and CheckTrustDomainValues (Istio 1.31+).
// Messages are Istio's. Where Go returns one multierror for a list, these return one entry per bad value
// (with its index) so that each gets its own field path.

import { goLen, goQuote, parseAddr, parsePrefix, parseUint32 } from "./goparse.ts";
import { DEFAULT_ISTIO_VERSION, type IstioVersion, since } from "./istio-version.ts";

export interface ValueError {
  /** Index of the offending value in the list, when one value is at fault. */
  index?: number;
  message: string;
}

/** A list as the validator sees it: the string items with their indices (non-strings are schema errors). */
export type StrItems = ReadonlyArray<{ index: number; value: string }>;

export function checkEmptyValues(key: string, values: StrItems): ValueError | null {
  for (const v of values) {
    if (v.value === "") return { index: v.index, message: `empty value not allowed, found in ${key}` };
  }
  return null;
}

const SA_FORMAT = "expected format 'serviceAccount' or 'namespace/serviceAccount'";

/** CheckServiceAccount: first error only, as in Go. `count` is the full list length. */
export function checkServiceAccount(key: string, values: StrItems, count: number): ValueError | null {
  if (count > 16) return { message: "may not have more than 16 values" };
  for (const { index, value } of values) {
    if (value === "") return { index, message: `empty value not allowed, found in ${key}` };
    if (value.includes("*")) return { index, message: `wildcard not allowed, found in ${key}` };
    const slashes = value.split("/").length - 1;
    if (slashes !== 0 && slashes !== 1) {
      return { index, message: `${SA_FORMAT}, found ${goQuote(value)} in ${key}` };
    }
    if (goLen(value) > 320) {
      return { index, message: `value cannot exceed 320 characters, found ${goQuote(value)} in ${key}` };
    }
    const cut = value.indexOf("/");
    if (cut >= 0) {
      if (cut === 0) return { index, message: `${SA_FORMAT}, found empty namespace ${goQuote(value)} in ${key}` };
      if (cut === value.length - 1) {
        return { index, message: `${SA_FORMAT}, found empty serviceAccount ${goQuote(value)} in ${key}` };
      }
    }
  }
  return null;
}

/**
 * CheckWildcardValues (Istio 1.31+, pkg/config/security/security.go): non-empty values (CheckEmptyValues over
 * the whole list first), then at most one `*`, and only as the whole value or at the start or end.
 * Used for `when` key `source.trustDomain`, whose values may contain `/`.
 */
export function checkWildcardValues(key: string, values: StrItems): ValueError | null {
  const empty = checkEmptyValues(key, values);
  if (empty) return empty;
  for (const { index, value } of values) {
    const stars = value.split("*").length - 1;
    if (stars > 1) return { index, message: `at most one wildcard is allowed, found in ${key}: ${goQuote(value)}` };
    if (stars === 1 && value !== "*" && !value.startsWith("*") && !value.endsWith("*")) {
      return { index, message: `wildcard is only allowed at the start or end, found in ${key}: ${goQuote(value)}` };
    }
  }
  return null;
}

/** CheckTrustDomainValues (Istio 1.31+): CheckWildcardValues, then no `/` (the `trustDomains` fields only). */
export function checkTrustDomainValues(key: string, values: StrItems): ValueError | null {
  const w = checkWildcardValues(key, values);
  if (w) return w;
  for (const { index, value } of values) {
    if (value.includes("/")) return { index, message: `trust domain must not contain '/', found in ${key}: ${goQuote(value)}` };
  }
  return null;
}

export const MATCH_ONE_TEMPLATE = "{*}";
export const MATCH_ANY_TEMPLATE = "{**}";
// RFC 3986 pchar without "/" (unreserved / pct-encoded / sub-delims / ":" / "@"), minus "*".
const VALID_LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

export function containsPathTemplate(value: string): boolean {
  return value.includes(MATCH_ONE_TEMPLATE) || value.includes(MATCH_ANY_TEMPLATE);
}

/** Go strings.Trim(s, "/"). */
function trimSlashes(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s[a] === "/") a++;
  while (b > a && s[b - 1] === "/") b--;
  return s.slice(a, b);
}

/** CheckValidPathTemplate: first error only, as in Go. Runs on every path, template or not. */
export function checkValidPathTemplate(key: string, paths: StrItems): ValueError | null {
  for (const { index, value } of paths) {
    const isTemplate = containsPathTemplate(value);
    let foundMatchAny = false;
    const trimmed = trimSlashes(value);
    for (const glob of trimmed.split("/")) {
      if (glob === MATCH_ONE_TEMPLATE && !foundMatchAny) continue;
      if (glob === MATCH_ANY_TEMPLATE && !foundMatchAny) {
        foundMatchAny = true;
        continue;
      }
      if ((glob === MATCH_ANY_TEMPLATE || glob === MATCH_ONE_TEMPLATE) && foundMatchAny) {
        return {
          index,
          message: `invalid or unsupported path ${trimmed}, found in ${key}. {**} is not the last operator`,
        };
      }
      if (glob.includes("{") || glob.includes("}")) {
        return {
          index,
          message: `invalid or unsupported path ${trimmed}, found in ${key}. Contains '{' or '}' beyond a supported path template`,
        };
      }
      if (isTemplate && !VALID_LITERAL.test(glob)) {
        return {
          index,
          message: `invalid or unsupported path ${trimmed}, found in ${key}. Contains segment ${glob} with invalid string literal`,
        };
      }
    }
  }
  return null;
}

/** ValidateIPs: one error per bad value. */
export function validateIPs(values: StrItems): ValueError[] {
  const out: ValueError[] = [];
  for (const { index, value } of values) {
    if (value.includes("/")) {
      const r = parsePrefix(value);
      if (!r.ok) out.push({ index, message: `bad CIDR range (${value}): ${r.error}` });
    } else {
      const r = parseAddr(value);
      if (!r.ok) out.push({ index, message: `bad IP address (${value})` });
    }
  }
  return out;
}

/** ValidatePorts: one error per bad value (decimal, fits in 32 bits, at most 65535). */
export function validatePorts(values: StrItems): ValueError[] {
  const out: ValueError[] = [];
  for (const { index, value } of values) {
    const r = parseUint32(value);
    if (!r.ok) out.push({ index, message: `bad port (${value}): ${r.error}` });
    else if (r.value > 65535) out.push({ index, message: `bad port (${value}): <nil>` });
  }
  return out;
}

export function validateMapKey(key: string): string | null {
  const open = key.indexOf("[");
  if (key.endsWith("]") && open > 0 && open < key.length - 2) return null;
  return `bad key (${key}): should have format a[b]`;
}

export const ATTR = {
  requestHeader: "request.headers",
  srcIP: "source.ip",
  remoteIP: "remote.ip",
  srcNamespace: "source.namespace",
  srcServiceAccount: "source.serviceAccount",
  srcTrustDomain: "source.trustDomain",
  srcPrincipal: "source.principal",
  requestPrincipal: "request.auth.principal",
  requestAudiences: "request.auth.audiences",
  requestPresenter: "request.auth.presenter",
  requestClaims: "request.auth.claims",
  destIP: "destination.ip",
  destPort: "destination.port",
  destLabel: "destination.labels",
  destName: "destination.name",
  destNamespace: "destination.namespace",
  destUser: "destination.user",
  connSNI: "connection.sni",
  experimental: "experimental.envoy.filters.",
} as const;

export interface AttributeResult {
  /** Errors about the key itself (the same whatever the values). */
  keyError: string | null;
  /** Errors about individual values. */
  valueErrors: ValueError[];
}

/**
 * ValidateAttribute(key, values). As in Go, an empty value is reported first and alone (the key is not
 * checked then). `source.trustDomain` depends on the release (istio-version.ts). No Istio release accepts
 * `request.experimental.inline.headers[...]`: it was only proposed (commit 34a8b5a, on refs/pull/56085, in
 * no tag 1.18.0-1.31.0-rc.0), so it is an "unknown attribute" like any other unknown key.
 */
export function validateAttribute(key: string, values: StrItems, version: IstioVersion = DEFAULT_ISTIO_VERSION): AttributeResult {
  const empty = checkEmptyValues(key, values);
  if (empty) return { keyError: null, valueErrors: [empty] };
  const ok: AttributeResult = { keyError: null, valueErrors: [] };
  const keyErr = (m: string | null): AttributeResult => ({ keyError: m, valueErrors: [] });
  const vals = (v: ValueError[]): AttributeResult => ({ keyError: null, valueErrors: v });
  const one = (v: ValueError | null): AttributeResult => ({ keyError: null, valueErrors: v ? [v] : [] });
  if (key.startsWith(ATTR.requestHeader)) return keyErr(validateMapKey(key));
  switch (key) {
    case ATTR.srcIP:
    case ATTR.remoteIP:
    case ATTR.destIP:
      return vals(validateIPs(values));
    case ATTR.srcNamespace:
    case ATTR.srcPrincipal:
    case ATTR.requestPrincipal:
    case ATTR.requestAudiences:
    case ATTR.requestPresenter:
    case ATTR.connSNI:
      return ok;
    case ATTR.srcServiceAccount:
      return one(checkServiceAccount(key, values, values.length));
    case ATTR.srcTrustDomain:
      if (since(version, "trustDomains")) return one(checkWildcardValues(key, values));
      if (since(version, "sourceTrustDomainKey")) return ok;
      return keyErr(`unknown attribute: ${key}`);
    case ATTR.destPort:
      return vals(validatePorts(values));
  }
  if (key.startsWith(ATTR.requestClaims)) return keyErr(validateMapKey(key));
  if (key.startsWith(ATTR.experimental)) return keyErr(validateMapKey(key));
  if (key === ATTR.destNamespace) return keyErr(`attribute ${key} is replaced by the metadata.namespace`);
  if (key.startsWith(ATTR.destLabel)) return keyErr(`attribute ${key} is replaced by the workload selector`);
  if (key === ATTR.destName || key === ATTR.destUser) {
    return keyErr(`deprecated attribute ${key}: only supported in v1alpha1`);
  }
  return keyErr(`unknown attribute: ${key}`);
}
