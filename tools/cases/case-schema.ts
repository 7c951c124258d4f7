// The case-file format, checked strictly: every key is known (a typo is an error with "did you mean"),
// every value has the type and shape the runner needs. A CI gate that silently ignored `source_principle:`
// would test a request without a principal and could pass for the wrong reason.
//
// One table (CASE_FILE) describes the format; add a field here when the format grows.
import { parseAddr } from "../validate/goparse.ts";
import { joinIndex, joinKey } from "../parse/path.ts";

export interface SchemaIssue {
  path: string;
  message: string;
}
export interface SchemaNote {
  path: string;
  message: string;
}

type Check = (value: unknown, path: string, ctx: Ctx) => void;
interface Ctx {
  issues: SchemaIssue[];
  notes: SchemaNote[];
}

export type Spec =
  | { kind: "map"; fields: Record<string, Spec>; required?: string[] }
  | { kind: "list"; of: Spec }
  | { kind: "check"; check: Check };

const err = (ctx: Ctx, path: string, message: string) => ctx.issues.push({ path, message });

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (v instanceof Uint8Array) return "bytes (!!binary)";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  return `the ${typeof v} ${String(v)}`;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

const YAML_NOTE = " (YAML reads unquoted yes/no/on/off as booleans and digits as numbers: quote it)";

/** Bytes Envoy holds as they came off the wire (header values, SNI, SANs): a string, or raw bytes as `!!binary`. */
function wire(opts: { nullable?: boolean } = {}): Spec {
  return {
    kind: "check",
    check(v, path, ctx) {
      if ((v === null && opts.nullable) || typeof v === "string" || v instanceof Uint8Array) return;
      err(ctx, path, `must be a string or !!binary bytes${opts.nullable ? " or null" : ""}, found ${typeName(v)}${YAML_NOTE}`);
    },
  };
}

/** The whole peer certificate (every SAN, as Envoy RBAC sees it); null = plaintext. */
const PEER_CERTIFICATE: Spec = {
  kind: "check",
  check(v, path, ctx) {
    if (v === null) return;
    if (!isMap(v)) return err(ctx, path, `must be a mapping (uri_sans, dns_sans, subject) or null, found ${typeName(v)}`);
    for (const [k, item] of Object.entries(v)) {
      const p = joinKey(path, k);
      if (k === "subject") (wire() as { check: Check }).check(item, p, ctx);
      else if (k === "uri_sans" || k === "dns_sans") {
        if (!Array.isArray(item)) err(ctx, p, `must be a list, found ${typeName(item)}`);
        else item.forEach((x, i) => (wire() as { check: Check }).check(x, joinIndex(p, i), ctx));
      } else err(ctx, p, `unknown key (expected uri_sans, dns_sans, subject)`);
    }
  },
};

function str(opts: { nullable?: boolean; oneOf?: string[] } = {}): Spec {
  return {
    kind: "check",
    check(v, path, ctx) {
      if (v === null && opts.nullable) return;
      if (typeof v !== "string") {
        err(ctx, path, `must be a string${opts.nullable ? " or null" : ""}, found ${typeName(v)}${typeof v === "number" || typeof v === "boolean" ? YAML_NOTE : ""}`);
        return;
      }
      if (opts.oneOf && !opts.oneOf.includes(v)) {
        err(ctx, path, `must be one of ${opts.oneOf.join(", ")}, found ${JSON.stringify(v)}${suggest(v, opts.oneOf)}`);
      }
    },
  };
}

const BOOL: Spec = {
  kind: "check",
  check(v, path, ctx) {
    if (typeof v !== "boolean") err(ctx, path, `must be true or false, found ${typeName(v)}`);
  },
};

const IP: Spec = {
  kind: "check",
  check(v, path, ctx) {
    if (v === null) return;
    if (typeof v !== "string") {
      err(ctx, path, `must be an IP address (a string) or null, found ${typeName(v)}`);
      return;
    }
    const r = parseAddr(v);
    if (!r.ok) err(ctx, path, `is not an IP address: ${JSON.stringify(v)} (${r.error})`);
  },
};

const PORT: Spec = {
  kind: "check",
  check(v, path, ctx) {
    if (v === null) return;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 65535) {
      err(ctx, path, `must be a port number (an integer from 0 to 65535) or null, found ${typeName(v)}`);
    }
  },
};

const STRING_MAP: Spec = {
  kind: "check",
  check(v, path, ctx) {
    if (!isMap(v)) {
      err(ctx, path, `must be a mapping of strings, found ${typeName(v)}`);
      return;
    }
    for (const [k, item] of Object.entries(v)) {
      if (typeof item !== "string") err(ctx, joinKey(path, k), `must be a string, found ${typeName(item)}${YAML_NOTE}`);
    }
  },
};

/** Header values: a string, or a list of strings (one header line each). */
const HEADERS: Spec = {
  kind: "check",
  check(v, path, ctx) {
    if (!isMap(v)) {
      err(ctx, path, `must be a mapping of header names to values, found ${typeName(v)}`);
      return;
    }
    for (const [k, item] of Object.entries(v)) {
      const p = joinKey(path, k);
      if (Array.isArray(item)) {
        item.forEach((x, i) => {
          if (typeof x !== "string" && !(x instanceof Uint8Array)) err(ctx, joinIndex(p, i), `must be a string, found ${typeName(x)}${YAML_NOTE}`);
        });
      } else if (typeof item !== "string" && !(item instanceof Uint8Array)) {
        err(ctx, p, `must be a string or a list of strings, found ${typeName(item)}${YAML_NOTE}`);
      }
    }
  },
};

/**
 * `jwt`: the verified payload (a mapping), null for no token, or a compact JWS (`header.payload.signature`)
 * whose payload is decoded WITHOUT verification: a case states what Istio's jwt_authn accepted, so the
 * signature is not the question. The decoded mapping replaces the string, and a note says so.
 */
const JWT: Spec = {
  kind: "check",
  check(v, path, ctx) {
    if (v === null || isMap(v)) return;
    if (typeof v !== "string") {
      err(ctx, path, `must be the token's verified payload (a mapping), a compact JWT string, or null; found ${typeName(v)}`);
      return;
    }
    const decoded = decodeJwtPayload(v);
    if (typeof decoded === "string") err(ctx, path, decoded);
    else ctx.notes.push({ path, message: "a JWT string: its payload is decoded and used WITHOUT verifying the signature (the case states what jwt_authn accepted)" });
  },
};

/** The payload of a compact JWS, or an error message. */
export function decodeJwtPayload(token: string): Record<string, unknown> | string {
  const parts = token.trim().split(".");
  const b64url = /^[A-Za-z0-9_-]*$/;
  if (parts.length !== 3 || !parts.slice(0, 2).every((p) => p.length > 0 && b64url.test(p))) {
    return "is a string but not a compact JWT (header.payload.signature, base64url): give the verified payload as a mapping, e.g. {iss: ..., sub: ...}";
  }
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
  } catch {
    return "is a JWT whose payload is not JSON";
  }
  if (!isMap(payload)) return "is a JWT whose payload is not a JSON object";
  return payload;
}

const POLICY_LIST: Spec = {
  kind: "check",
  check(v, path, ctx) {
    // The policies themselves are validated as istiod would, later (with positions).
    if (!Array.isArray(v)) err(ctx, path, `must be a list of AuthorizationPolicy objects, found ${typeName(v)}`);
  },
};
const POLICY: Spec = {
  kind: "check",
  check(v, path, ctx) {
    if (!isMap(v)) err(ctx, path, `must be an AuthorizationPolicy object, found ${typeName(v)}`);
  },
};

const MESH: Spec = {
  kind: "map",
  fields: {
    root_namespace: str(),
    trust_domain: str(),
    trust_domain_aliases: { kind: "list", of: str() },
    path_normalization: str({ oneOf: ["DEFAULT", "NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"] }),
  },
};

export const REQUEST: Spec = {
  kind: "map",
  fields: {
    protocol: str({ oneOf: ["HTTP", "GRPC", "TCP"] }),
    method: str(),
    host: str(),
    path: str(),
    path_normalized: str(),
    headers: HEADERS,
    source_principal: str({ nullable: true }),
    peer_certificate: PEER_CERTIFICATE,
    source_ip: IP,
    remote_ip: IP,
    destination_ip: IP,
    destination_port: PORT,
    sni: wire({ nullable: true }),
    jwt: JWT,
    ext_authz_decision: str({ oneOf: ["allow", "deny"] }),
  },
};

export const WORKLOAD: Spec = { kind: "map", fields: { namespace: str(), labels: STRING_MAP }, required: ["namespace"] };

const COMMON_CASE_FIELDS: Record<string, Spec> = { id: str(), source: str(), confidence: str(), note: str() };

export const CASE_FILE: Spec = {
  kind: "map",
  fields: {
    meta: MESH,
    cases: {
      kind: "list",
      of: {
        kind: "map",
        fields: {
          ...COMMON_CASE_FIELDS,
          mesh: MESH,
          policies: POLICY_LIST,
          policy_files: { kind: "list", of: str() },
          workload: WORKLOAD,
          request: REQUEST,
          expected: {
            kind: "map",
            fields: { decision: str({ oneOf: ["ALLOW", "DENY"] }), decided_by: str(), response: str() },
            required: ["decision"],
          },
        },
        required: ["id", "workload", "request", "expected"],
      },
    },
    validation_cases: {
      kind: "list",
      of: {
        kind: "map",
        fields: {
          ...COMMON_CASE_FIELDS,
          policy: POLICY,
          expected: { kind: "map", fields: { valid: BOOL, warning: BOOL, message_contains: str() }, required: ["valid"] },
        },
        required: ["id", "policy", "expected"],
      },
    },
  },
};

/** A request file (`check`, `explain`): a case's workload + request [+ mesh]. */
export const REQUEST_FILE: Spec = { kind: "map", fields: { workload: WORKLOAD, request: REQUEST, mesh: MESH }, required: ["workload", "request"] };

/** Levenshtein distance, bounded (small strings only). */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = t;
    }
  }
  return prev[b.length];
}

/** ` (did you mean "x"?)` for the closest known name, or "". */
export function suggest(name: string, known: string[]): string {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, "");
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = norm(k) === norm(name) ? 0 : distance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  const limit = Math.max(2, Math.floor(name.length / 3));
  return best !== null && bestD <= limit ? ` (did you mean "${best}"?)` : "";
}

function walk(spec: Spec, v: unknown, path: string, ctx: Ctx): void {
  if (spec.kind === "check") {
    spec.check(v, path, ctx);
    return;
  }
  if (spec.kind === "list") {
    if (!Array.isArray(v)) {
      err(ctx, path, `must be a list, found ${typeName(v)}`);
      return;
    }
    v.forEach((item, i) => walk(spec.of, item, joinIndex(path, i), ctx));
    return;
  }
  if (!isMap(v)) {
    err(ctx, path, `must be a mapping, found ${typeName(v)}`);
    return;
  }
  const known = Object.keys(spec.fields);
  for (const [k, item] of Object.entries(v)) {
    const field = spec.fields[k];
    if (!field) {
      err(ctx, joinKey(path, k), `unknown field ${JSON.stringify(k)}${suggest(k, known)}; known fields: ${known.join(", ")}`);
      continue;
    }
    walk(field, item, joinKey(path, k), ctx);
  }
  for (const r of spec.required ?? []) {
    if (v[r] === undefined) err(ctx, joinKey(path, r), `is required`); // null: reported by the field's check
  }
}

/** Checks a value against a spec; returns the problems and notes, each with its field path. */
export function checkAgainst(spec: Spec, value: unknown, path = ""): { issues: SchemaIssue[]; notes: SchemaNote[] } {
  const ctx: Ctx = { issues: [], notes: [] };
  walk(spec, value, path, ctx);
  return ctx;
}
