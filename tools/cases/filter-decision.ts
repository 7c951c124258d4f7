// Runs requests through the built filter in the Envoy-like host and reads back the decision the
// way an operator would: status, response details, and the filter state the filter wrote.
import { readFileSync } from "node:fs";
import { EnvoyHost } from "../host/index.ts";
import type { ConnectionResult, StreamResult } from "../host/types.ts";
import type { CaseRequest, Workload } from "../model/case-file.ts";
import { type RequestAuthentication, spaceDelimitedClaimsFor } from "./jwt-authn.ts";
import { connectionForRequest, nodeForWorkload, streamForRequest } from "./request-stream.ts";

export const DEFAULT_WASM = new URL("../../build/meshauthz.wasm", import.meta.url);

export interface ShadowOutcome {
  result: "allowed" | "denied";
  policy: string | null;
}

export interface Decision {
  decision: "ALLOW" | "DENY";
  status: number;
  /** Deciding rule id; "none" for an ALLOW miss; null when no rule decided. */
  policy: string | null;
  shadow: { allow?: ShadowOutcome; deny?: ShadowOutcome };
  audit: boolean;
  config_error?: string;
}

export class WasmMissingError extends Error {
  /** The CLI reports errors with this name as a message, not as an internal error (cli/main.ts). */
  override readonly name = "WasmMissingError";
}

export function readFilterWasm(path: string | URL = DEFAULT_WASM): Uint8Array {
  try {
    return readFileSync(path);
  } catch {
    throw new WasmMissingError(`cannot read the filter module ${path instanceof URL ? path.pathname : path}: run \`npm run build\` first`);
  }
}

export const INVALID_CONFIG_DETAILS = "meshauthz_invalid_config";
const DETAILS = /^rbac_access_denied_matched_policy\[(.*)\]$/;
const EXT_AUTHZ_DETAILS = new Set(["ext_authz_denied", "ext_authz_error"]);

/** The decision as the filter reports it (docs/filter-io.md): a local reply is a denial, whose
 *  effective policy id is in its response code details; an allow by a rule (and a CUSTOM denial,
 *  whose details cannot carry it) sets filter state meshauthz.policy; audit and dry-run results are
 *  filter state when those stages exist. */
export function decisionFromStream(result: StreamResult, configError: string | null): Decision {
  const fs = result.filterState;
  const shadow: Decision["shadow"] = {};
  for (const kind of ["allow", "deny"] as const) {
    const r = fs[`meshauthz.shadow_${kind}`];
    if (r === "allowed" || r === "denied") shadow[kind] = { result: r, policy: fs[`meshauthz.shadow_${kind}_policy`] ?? null };
  }
  const denied = !result.forwarded;
  let policy: string | null = fs["meshauthz.policy"] ?? null;
  const m = DETAILS.exec(result.details);
  if (denied && m) policy = m[1];
  // The ext_authz provider denied (or failed closed) after CUSTOM rule <id> matched.
  if (denied && EXT_AUTHZ_DETAILS.has(result.details) && fs["meshauthz.ext_authz"]) policy = `ext_authz(${fs["meshauthz.ext_authz"]})`;
  const d: Decision = {
    decision: denied ? "DENY" : "ALLOW",
    status: result.status,
    policy,
    shadow,
    audit: fs["meshauthz.audit"] === "true",
  };
  if (configError) d.config_error = configError;
  return d;
}

const TERMINATION = /^rbac_access_denied_matched_policy\[(.*)\]$/;

/** A connection's decision (the network filter, docs/tcp.md): closed by the plugin is a denial, its
 *  policy id in filter state meshauthz.termination_details (Envoy's network RBAC puts the same
 *  string in the connection termination details). No HTTP status exists: status is 0. */
export function decisionFromConnection(result: ConnectionResult, configError: string | null): Decision {
  const fs = result.filterState;
  const shadow: Decision["shadow"] = {};
  for (const kind of ["allow", "deny"] as const) {
    const r = fs[`meshauthz.shadow_${kind}`];
    if (r === "allowed" || r === "denied") shadow[kind] = { result: r, policy: fs[`meshauthz.shadow_${kind}_policy`] ?? null };
  }
  const denied = !result.allowed;
  let policy: string | null = fs["meshauthz.policy"] ?? null;
  const m = TERMINATION.exec(fs["meshauthz.termination_details"] ?? "");
  if (denied && m) policy = m[1];
  const d: Decision = { decision: denied ? "DENY" : "ALLOW", status: 0, policy, shadow, audit: fs["meshauthz.audit"] === "true" };
  if (configError) d.config_error = configError;
  return d;
}

export interface FilterUnderTest {
  decide(request: CaseRequest): Decision;
  /** decide(), letting the filter's ext_authz calls be answered (CUSTOM; connections: as decide). */
  decideAsync(request: CaseRequest): Promise<Decision>;
  host: EnvoyHost;
  /** What the client saw for the last decide() (status, local reply body and details). */
  lastResult: StreamResult | null;
  /** The last decide()'s connection, in network mode. */
  lastConnection: ConnectionResult | null;
}

export interface FilterOptions {
  /** RequestAuthentications whose jwtRules choose jwt_authn's claim normalization (jwt-authn.ts). */
  requestAuthentications?: readonly RequestAuthentication[];
  rootNamespace?: string;
  /** Upstream clusters the filter may call (ext_authz providers): name -> "127.0.0.1:<port>". */
  clusters?: Record<string, string>;
}

/** One sidecar (workload) running the filter with the given pluginConfig text or raw blob; with
 *  `network` (a pluginConfig with mode "network"), as a network filter deciding connections. */
export async function startFilter(
  wasm: Uint8Array,
  configuration: string | Uint8Array,
  workload: Workload,
  network = false,
  options: FilterOptions = {},
): Promise<FilterUnderTest> {
  const host = await EnvoyHost.create({
    wasm,
    configuration,
    node: nodeForWorkload(workload),
    pluginName: `${workload.namespace}.meshauthz`,
    rootId: "meshauthz",
    clusters: options.clusters ?? {},
  });
  const critical = () => host.logs.filter((l) => l.level >= 5).map((l) => l.message);
  const fromStream = (result: StreamResult): Decision => {
    filter.lastResult = result;
    const invalid = !host.configAccepted || result.details === INVALID_CONFIG_DETAILS;
    const configError = invalid ? (host.configError ?? critical()[0] ?? "invalid configuration") : null;
    return decisionFromStream(result, configError);
  };
  const filter: FilterUnderTest = {
    host,
    lastResult: null,
    lastConnection: null,
    decide(request: CaseRequest): Decision {
      if (network) {
        const conn = host.connect(connectionForRequest(request));
        filter.lastConnection = conn;
        const invalid = !host.configAccepted || conn.filterState["meshauthz.termination_details"] === INVALID_CONFIG_DETAILS;
        return decisionFromConnection(conn, invalid ? (host.configError ?? critical()[0] ?? "invalid configuration") : null);
      }
      const spaceDelimited = spaceDelimitedClaimsFor(
        options.requestAuthentications ?? [],
        workload,
        options.rootNamespace ?? "istio-system",
        request.jwt?.iss,
      );
      return fromStream(host.request(streamForRequest(request, spaceDelimited)));
    },
    async decideAsync(request: CaseRequest): Promise<Decision> {
      if (network) return filter.decide(request);
      const spaceDelimited = spaceDelimitedClaimsFor(
        options.requestAuthentications ?? [],
        workload,
        options.rootNamespace ?? "istio-system",
        request.jwt?.iss,
      );
      return fromStream(await host.requestAsync(streamForRequest(request, spaceDelimited)));
    },
  };
  return filter;
}
