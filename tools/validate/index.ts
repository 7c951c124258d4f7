// validate: what `kubectl apply` of an AuthorizationPolicy would get back from the cluster, as Diagnostics.
//
// Three layers, all reported together (a real API server stops at the first failing layer; a linter is more
// useful showing everything at once):
//   1. API server object checks: apiVersion/kind, metadata (ObjectMeta) name and namespace format;
//   2. the CRD structural schema (schema.ts): unknown fields, types, enum, limits, CEL rules;
//   3. istiod's validating webhook (istiod.ts): errors and accepted-with-warning findings.

import type { AuthorizationPolicy } from "../model/policy.ts";
import type { Diagnostic, SourceLocation } from "../model/diagnostic.ts";
import { joinKey } from "../parse/path.ts";
import { checkSchema } from "./schema.ts";
import { webhookValidate } from "./istiod.ts";
import type { Finding } from "./istiod.ts";
import { DEFAULT_ISTIO_VERSION, type IstioVersion, since } from "./istio-version.ts";

export { checkSchema } from "./schema.ts";
export { webhookValidate } from "./istiod.ts";
export { parseAddr, parsePrefix, parseBool, parseUint32 } from "./goparse.ts";

export const SUPPORTED_API_VERSIONS = ["security.istio.io/v1", "security.istio.io/v1beta1"];

export interface ValidateOptions {
  /** Maps a Diagnostic field path to a source position (LoadedPolicy.locate). */
  locate?: (path: string) => SourceLocation | undefined;
  /** File name for diagnostics that cannot be located more precisely. */
  file?: string;
  /** The Istio release whose validation to emulate (default: the newest supported). */
  istioVersion?: IstioVersion;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME_HELP =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an " +
  "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is " +
  "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/** apimachinery IsQualifiedName: `[prefix/]name`; returns the problems found. */
function qualifiedNameProblems(key: string): string[] {
  const parts = key.split("/");
  let name = key;
  const out: string[] = [];
  if (parts.length === 2) {
    const [prefix, n] = parts;
    name = n;
    if (prefix.length === 0) out.push("prefix part must be non-empty");
    else if (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) {
      out.push("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
    }
  } else if (parts.length > 2) {
    return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  }
  if (name.length === 0) out.push("name part must be non-empty");
  else if (name.length > 63) out.push("name part must be no more than 63 characters");
  else if (!QUALIFIED_NAME_PART.test(name)) out.push(QUALIFIED_NAME_HELP);
  return out;
}

/** API server checks that are not part of the CRD schema (apimachinery ValidateObjectMeta, type meta). */
function objectChecks(policy: Obj): Finding[] {
  const out: Finding[] = [];
  const err = (path: string, message: string) => out.push({ severity: "error", path, message });
  if (typeof policy.apiVersion === "string" && !SUPPORTED_API_VERSIONS.includes(policy.apiVersion)) {
    err("apiVersion", `Unsupported value: ${JSON.stringify(policy.apiVersion)}: supported values: ${SUPPORTED_API_VERSIONS.map((v) => JSON.stringify(v)).join(", ")}`);
  } else if (policy.apiVersion === undefined || policy.apiVersion === null) {
    err("apiVersion", "Required value: apiVersion must be set");
  }
  if (policy.kind === undefined || policy.kind === null) {
    err("kind", "Required value: kind must be set");
  } else if (typeof policy.kind === "string" && policy.kind !== "AuthorizationPolicy") {
    err("kind", `Invalid value: ${JSON.stringify(policy.kind)}: must be AuthorizationPolicy`);
  }
  const meta = policy.metadata;
  if (meta === undefined || meta === null) {
    err("metadata.name", "Required value: name or generateName is required");
    return out;
  }
  if (!isObj(meta)) return out; // type error: schema layer
  const name = meta.name;
  if (name === undefined || name === null || name === "") {
    if (typeof meta.generateName !== "string" || meta.generateName === "") {
      err("metadata.name", "Required value: name or generateName is required");
    }
  } else if (typeof name === "string") {
    if (name.length > 253) err("metadata.name", "Invalid value: must be no more than 253 characters");
    else if (!DNS1123_SUBDOMAIN.test(name)) {
      err(
        "metadata.name",
        `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric ` +
          `characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex ` +
          `used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      );
    }
  }
  for (const field of ["labels", "annotations"] as const) {
    const m = meta[field];
    if (!isObj(m)) continue;
    for (const [k, v] of Object.entries(m)) {
      for (const p of qualifiedNameProblems(k)) err(`metadata.${field}`, `Invalid value: ${JSON.stringify(k)}: ${p}`);
      if (field === "labels" && typeof v === "string" && (v.length > 63 || !LABEL_VALUE.test(v))) {
        err(
          joinKey("metadata.labels", k),
          `Invalid value: ${JSON.stringify(v)}: ` +
            (v.length > 63
              ? "must be no more than 63 characters"
              : "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
        );
      }
    }
  }
  const ns = meta.namespace;
  if (typeof ns === "string" && ns !== "" && (ns.length > 63 || !DNS1123_LABEL.test(ns))) {
    err(
      "metadata.namespace",
      `Invalid value: ${JSON.stringify(ns)}: a lowercase RFC 1123 label must consist of lower case alphanumeric ` +
        `characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', ` +
        `regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')` +
        (ns.length > 63 ? " and must be no more than 63 characters" : ""),
    );
  }
  return out;
}

/** Source fields that the CRD of releases before 1.31 does not have: its unknown-field check rejects them. */
function fieldsNewerThan(policy: Obj): Finding[] {
  const out: Finding[] = [];
  const spec = isObj(policy.spec) ? policy.spec : {};
  (Array.isArray(spec.rules) ? spec.rules : []).forEach((rule, i) => {
    const from = isObj(rule) && Array.isArray(rule.from) ? rule.from : [];
    from.forEach((f, j) => {
      const src = isObj(f) && isObj(f.source) ? f.source : {};
      for (const k of ["trustDomains", "notTrustDomains"]) {
        if (k in src) {
          const path = `spec.rules[${i}].from[${j}].source.${k}`;
          out.push({ severity: "error", path, message: `unknown field "${path}" (added in Istio 1.31; see --istio-version)` });
        }
      }
    });
  });
  return out;
}

/** `<namespace>/<name>` as used in Diagnostic.policy (namespace "default" when absent). */
export function policyId(policy: unknown): string {
  const meta = isObj(policy) && isObj(policy.metadata) ? policy.metadata : {};
  const name = typeof meta.name === "string" ? meta.name : "";
  const ns = typeof meta.namespace === "string" && meta.namespace !== "" ? meta.namespace : "default";
  return `${ns}/${name}`;
}

/**
 * Validates one AuthorizationPolicy as the API server (CRD schema) and istiod's webhook would. Returns errors
 * (the policy would be rejected) and warnings (accepted with a warning), each with its field path.
 */
export function validatePolicy(policy: AuthorizationPolicy, opts: ValidateOptions = {}): Diagnostic[] {
  const raw: unknown = policy;
  const id = policyId(raw);
  const findings: Finding[] = [];
  if (!isObj(raw)) {
    findings.push({ severity: "error", path: "", message: `Invalid value: must be of type object` });
  } else {
    const version = opts.istioVersion ?? DEFAULT_ISTIO_VERSION;
    findings.push(...objectChecks(raw));
    for (const issue of checkSchema(raw)) findings.push({ severity: "error", ...issue });
    if (!since(version, "trustDomains")) findings.push(...fieldsNewerThan(raw));
    const meta = isObj(raw.metadata) ? raw.metadata : {};
    const name = typeof meta.name === "string" ? meta.name : "";
    const namespace = typeof meta.namespace === "string" && meta.namespace !== "" ? meta.namespace : "default";
    const webhook = webhookValidate(raw, name, namespace, version);
    findings.push(...webhook.errors, ...webhook.warnings);
  }
  return findings.map((f) => {
    const d: Diagnostic = { severity: f.severity, stage: "validate", message: f.message, path: f.path, policy: id };
    const loc = opts.locate?.(f.path) ?? (opts.file !== undefined ? { file: opts.file, line: 1, column: 1 } : undefined);
    if (loc) d.location = loc;
    return d;
  });
}

/** True when no diagnostic is an error. */
export function isValid(diagnostics: Diagnostic[]): boolean {
  return !diagnostics.some((d) => d.severity === "error");
}
