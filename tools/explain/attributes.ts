// The request's value of the attribute a rule part tests, for `explain` to print next to a part the
// filter says failed ("request.method = \"POST\" does not match [\"GET\"]"). Only words: whether the
// part matches is always the filter's answer (probes.ts).
import type { CaseRequest, WireBytes } from "../model/case-file.ts";
import type { Condition } from "../model/policy.ts";

export interface AttributeValue {
  /** Istio's attribute name (authorization condition keys, docs/istio-authz-semantics). */
  attribute: string;
  /** Absent attributes are null. */
  value: string | number | string[] | null;
}

const SOURCE: Record<string, string> = {
  principals: "source.principal",
  namespaces: "source.namespace",
  serviceAccounts: "source.serviceAccount",
  trustDomains: "source.trustDomain",
  requestPrincipals: "request.auth.principal",
  ipBlocks: "source.ip",
  remoteIpBlocks: "remote.ip",
};
const OPERATION: Record<string, string> = {
  hosts: "request.host",
  ports: "destination.port",
  methods: "request.method",
  paths: "request.path",
};

/** Raw bytes (case files may give them) are shown as text, invalid UTF-8 as U+FFFD. */
function text(v: WireBytes): string {
  return typeof v === "string" ? v : Buffer.from(v).toString("utf8");
}

function header(req: CaseRequest, name: string): string | string[] | null {
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    if (k.toLowerCase() === name.toLowerCase()) return Array.isArray(v) ? v.map(text) : text(v);
  }
  return null;
}

/** spiffe://td/ns/NS/sa/SA -> [td, NS, SA]. */
function spiffe(principal: string | null | undefined): [string, string, string] | null {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(principal ?? "");
  return m ? [m[1], m[2], m[3]] : null;
}

function claim(req: CaseRequest, path: string[]): AttributeValue["value"] {
  let v: unknown = req.jwt ?? undefined;
  for (const k of path) v = v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) return v.map(String);
  return typeof v === "number" ? v : typeof v === "string" ? v : JSON.stringify(v);
}

/** The value of an attribute by its Istio name (a `when` key or a field's attribute). */
export function attributeValue(req: CaseRequest, attribute: string): AttributeValue["value"] {
  const sp = spiffe(req.source_principal);
  const h = /^request\.headers\[(.+)\]$/.exec(attribute);
  if (h) return header(req, h[1]);
  const c = /^request\.auth\.claims((?:\[[^\]]*\])+)$/.exec(attribute);
  if (c) return claim(req, [...c[1].matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]));
  switch (attribute) {
    case "source.principal":
      return req.source_principal ?? null;
    case "source.namespace":
      return sp?.[1] ?? null;
    case "source.serviceAccount":
      return sp ? `${sp[1]}/${sp[2]}` : null;
    case "source.trustDomain":
      return sp?.[0] ?? null;
    case "source.ip":
      return req.source_ip ?? null;
    case "remote.ip":
      return req.remote_ip ?? req.source_ip ?? null;
    case "request.auth.principal": {
      const iss = req.jwt?.iss;
      const sub = req.jwt?.sub;
      return typeof iss === "string" && typeof sub === "string" ? `${iss}/${sub}` : null;
    }
    case "request.auth.audiences":
      return claim(req, ["aud"]);
    case "request.auth.presenter":
      return claim(req, ["azp"]);
    case "request.host":
      return req.host ?? null;
    case "request.method":
      return req.method ?? null;
    case "request.path": {
      // paths match the path without query and fragment (Envoy's url_path matcher).
      const path = req.path_normalized ?? req.path;
      return path === undefined ? null : path.split(/[?#]/)[0];
    }
    case "destination.port":
      return req.destination_port ?? null;
    case "destination.ip":
      return req.destination_ip ?? null;
    case "connection.sni":
      return req.sni === undefined || req.sni === null ? null : text(req.sni);
    default:
      return null;
  }
}

const q = (v: unknown) => JSON.stringify(v);

function describe(attr: string, value: AttributeValue["value"], verdict: string): string {
  return value === null ? `${attr} is absent; ${verdict}` : `${attr} = ${q(value)} ${verdict}`;
}

/** `from[i].source.<field>` or `to[i].operation.<field>` that failed. */
export function fieldFailure(req: CaseRequest, section: "source" | "operation", field: string, values: string[]): { attribute: string; value: AttributeValue["value"]; message: string } {
  const negated = field.startsWith("not");
  const base = negated ? field[3].toLowerCase() + field.slice(4) : field;
  const attribute = (section === "source" ? SOURCE : OPERATION)[base] ?? `${section}.${base}`;
  const value = attributeValue(req, attribute);
  const verdict = negated ? `matches ${field} ${q(values)}` : `does not match ${q(values)}`;
  return { attribute, value, message: describe(attribute, value, verdict) };
}

/** A `when` condition that failed. */
export function conditionFailure(req: CaseRequest, c: Condition): { attribute: string; value: AttributeValue["value"]; message: string } {
  const value = attributeValue(req, c.key);
  const wants = [c.values ? `values ${q(c.values)}` : "", c.notValues ? `notValues ${q(c.notValues)}` : ""].filter(Boolean).join(" and ");
  return { attribute: c.key, value, message: describe(c.key, value, `fails ${wants}`) };
}
