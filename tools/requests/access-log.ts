// Envoy access logs as Istio writes them, read back into requests for `meshauthz diff`.
//
// Formats (istio pilot/pkg/model/telemetry_logging.go, envoy docs "default format string"):
// - Istio JSON (`meshConfig.accessLogEncoding: JSON`): one object per line with the keys of
//   EnvoyJSONLogFormatIstio (method, path, protocol, authority, x_forwarded_for, user_agent,
//   request_id, upstream_cluster, downstream_local_address, downstream_remote_address,
//   requested_server_name, ...). Envoy writes an unavailable value as null (JSON) or "-" (text).
// - Istio TEXT (EnvoyTextLogFormat, the default encoding): 22 fields, `[START_TIME]` included.
// - Envoy's own default format: 13 fields, `[START_TIME]` included.
// A log lacks attributes that policies may read: the peer principal, the JWT, most headers. Extra
// keys documented in docs/diff.md add them (source_principal, jwt_payload, header_<name>,
// workload_namespace, workload_labels); whatever stays unknown is listed per request so that a
// decision depending on it is reported as possible, never certain.
import type { CaseRequest, Workload } from "../model/case-file.ts";

/** What a request source does not tell. Case and request files tell everything. */
export interface Unknowns {
  /** The peer's certificate identity (source.principal, namespaces, ...). */
  principal: boolean;
  /** The verified JWT (requestPrincipals, request.auth.*). */
  jwt: boolean;
  /** Lower-case names of the headers the source carries; null = all of them. */
  knownHeaders: Set<string> | null;
}

export const NOTHING_UNKNOWN: Unknowns = { principal: false, jwt: false, knownHeaders: null };

export interface LoggedRequest {
  /** `file:line` */
  origin: string;
  workload: Workload;
  request: CaseRequest;
  /** What the line does not tell; every other attribute is as logged. */
  unknown: Unknowns;
}

export interface AccessLogResult {
  requests: LoggedRequest[];
  /** Lines that are not inbound HTTP requests (outbound, TCP, blank). */
  skipped: Array<{ origin: string; reason: string }>;
}

export class AccessLogError extends Error {}

/** The fields the request is rebuilt from, whatever the format. */
interface LogFields {
  method?: string;
  path?: string;
  protocol?: string;
  authority?: string;
  xff?: string;
  userAgent?: string;
  requestId?: string;
  upstreamCluster?: string;
  downstreamLocal?: string;
  downstreamRemote?: string;
  sni?: string;
  /** Extension keys (JSON only). */
  extra: Record<string, unknown>;
}

const absent = (v: unknown): v is undefined | null => v === undefined || v === null || v === "-" || v === "";

function str(v: unknown): string | undefined {
  if (absent(v)) return undefined;
  return typeof v === "string" ? v : String(v);
}

/** Splits `[time] "a b c" 200 - "x" ...` into its fields: a bracketed time, quoted strings, bare words. */
export function splitTextLine(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i];
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    if (c === "[" && out.length === 0) {
      const end = line.indexOf("]", i);
      if (end < 0) return null;
      out.push(line.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) return null;
      out.push(line.slice(i + 1, end));
      i = end + 1;
    } else {
      let end = i;
      while (end < n && line[end] !== " " && line[end] !== "\t") end++;
      out.push(line.slice(i, end));
      i = end;
    }
  }
  return out;
}

function fromText(line: string): LogFields | string {
  const f = splitTextLine(line);
  if (!f || f.length < 12) return "not an Envoy access log line";
  const [method, path, protocol] = (f[1] ?? "").split(" ");
  const common = { method, path, protocol, extra: {} };
  if (f.length === 13) {
    // Envoy default: time, "M P P", code, flags, rx, tx, duration, upstream time, xff, ua, request id, authority, upstream host
    return { ...common, xff: f[8], userAgent: f[9], requestId: f[10], authority: f[11] };
  }
  if (f.length === 22) {
    // Istio: time, "M P P", code, flags, details, termination, "failure", rx, tx, duration, upstream time,
    // xff, ua, request id, authority, upstream host, cluster, upstream local, downstream local, downstream remote, sni, route
    return {
      ...common,
      xff: f[11],
      userAgent: f[12],
      requestId: f[13],
      authority: f[14],
      upstreamCluster: f[16],
      downstreamLocal: f[18],
      downstreamRemote: f[19],
      sni: f[20],
    };
  }
  return `${f.length} fields: neither Envoy's default format (13) nor Istio's (22)`;
}

function fromJson(obj: Record<string, unknown>): LogFields {
  return {
    method: str(obj.method),
    path: str(obj.path),
    protocol: str(obj.protocol),
    authority: str(obj.authority),
    xff: str(obj.x_forwarded_for),
    userAgent: str(obj.user_agent),
    requestId: str(obj.request_id),
    upstreamCluster: str(obj.upstream_cluster),
    downstreamLocal: str(obj.downstream_local_address),
    downstreamRemote: str(obj.downstream_remote_address),
    sni: str(obj.requested_server_name),
    extra: obj,
  };
}

/** `10.0.0.1:8080`, `[::1]:8080` -> ip, port. */
export function splitAddress(addr: string | undefined): { ip?: string; port?: number } {
  if (absent(addr)) return {};
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:]+):(\d+)$/.exec(addr);
  if (!m) return {};
  return { ip: m[1], port: Number(m[2]) };
}

/** `k=v,k=v` (Envoy's %ENVIRONMENT%-friendly form) or a JSON object. */
function parseLabels(v: unknown): Record<string, string> | undefined {
  if (absent(v)) return undefined;
  if (typeof v === "object" && !Array.isArray(v)) {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
  }
  const out: Record<string, string> = {};
  for (const part of String(v).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function toRequest(f: LogFields, origin: string, fallback: Workload | undefined): LoggedRequest | string {
  if (f.upstreamCluster !== undefined && !f.upstreamCluster.startsWith("inbound|")) {
    return `not inbound (upstream cluster ${f.upstreamCluster})`;
  }
  if (!f.method || !f.path) return "no HTTP method or path (a TCP connection?)";
  const ns = str(f.extra.workload_namespace);
  const workload: Workload | undefined = ns
    ? { namespace: ns, labels: parseLabels(f.extra.workload_labels) ?? fallback?.labels ?? {} }
    : fallback;
  if (!workload) throw new AccessLogError(`${origin}: which workload wrote this log? Pass --workload NAMESPACE[/key=value,...] or log workload_namespace (docs/diff.md)`);

  const unknown: Unknowns = { principal: false, jwt: false, knownHeaders: new Set(["user-agent", "x-forwarded-for", "x-request-id"]) };
  const headers: Record<string, string> = {};
  if (f.userAgent !== undefined) headers["user-agent"] = f.userAgent;
  if (f.xff !== undefined) headers["x-forwarded-for"] = f.xff;
  if (f.requestId !== undefined) headers["x-request-id"] = f.requestId;
  for (const [key, value] of Object.entries(f.extra)) {
    if (!key.startsWith("header_")) continue;
    const name = key.slice("header_".length).toLowerCase();
    unknown.knownHeaders!.add(name);
    if (!absent(value)) headers[name] = String(value);
  }
  const request: CaseRequest = {
    protocol: "HTTP",
    method: f.method,
    path: f.path,
    headers,
  };
  if (f.authority !== undefined) request.host = f.authority;
  const local = splitAddress(f.downstreamLocal);
  if (local.ip) request.destination_ip = local.ip;
  if (local.port !== undefined) request.destination_port = local.port;
  const remote = splitAddress(f.downstreamRemote);
  if (remote.ip) request.source_ip = remote.ip;
  if (f.sni !== undefined) request.sni = f.sni;

  if ("source_principal" in f.extra) {
    const p = str(f.extra.source_principal);
    request.source_principal = p ?? null;
  } else {
    unknown.principal = true;
  }
  if ("jwt_payload" in f.extra) {
    const j = f.extra.jwt_payload;
    if (absent(j)) request.jwt = null;
    else if (typeof j === "object" && !Array.isArray(j)) request.jwt = j as Record<string, unknown>;
    else {
      try {
        request.jwt = JSON.parse(String(j)) as Record<string, unknown>;
      } catch {
        throw new AccessLogError(`${origin}: jwt_payload is not a JSON object`);
      }
    }
  } else {
    unknown.jwt = true;
  }
  return { origin, workload, request, unknown };
}

/** Reads a whole log (JSON lines, Istio text or Envoy default text, mixed lines allowed). */
export function readAccessLog(text: string, file: string, workload: Workload | undefined): AccessLogResult {
  const result: AccessLogResult = { requests: [], skipped: [] };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const origin = `${file}:${i + 1}`;
    if (line === "") return;
    let fields: LogFields | string;
    if (line.startsWith("{")) {
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (e) {
        throw new AccessLogError(`${origin}: not valid JSON: ${(e as Error).message}`);
      }
      fields = fromJson(obj as Record<string, unknown>);
    } else {
      fields = fromText(line);
    }
    if (typeof fields === "string") {
      result.skipped.push({ origin, reason: fields });
      return;
    }
    const r = toRequest(fields, origin, workload);
    if (typeof r === "string") result.skipped.push({ origin, reason: r });
    else result.requests.push(r);
  });
  return result;
}

/** Is a header (lower-case name) unknown for this request? Pseudo-headers are always logged. */
export function headerUnknown(u: Unknowns, name: string): boolean {
  return u.knownHeaders !== null && !u.knownHeaders.has(name) && !name.startsWith(":") && name !== "host";
}
