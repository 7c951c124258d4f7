// Options shared by several commands.
import { readFileSync } from "node:fs";
import { DEFAULT_MESH, type MeshSettings } from "../model/policy.ts";
import type { Diagnostic } from "../model/diagnostic.ts";
import { printDiagnosticsGrouped } from "./report.ts";
import { UsageError, UserError } from "./errors.ts";
import { DEFAULT_ISTIO_VERSION, type IstioVersion, parseIstioVersion } from "../validate/istio-version.ts";
import { loadMeshConfigFile, MeshConfigError } from "../meshconfig/source.ts";
import type { ResolvedProviders } from "../meshconfig/providers.ts";
import { COUNTER_MODES, LOG_LEVELS, type Observability } from "../pipeline/plugin-config.ts";

export interface CliValues {
  output?: string;
  policies?: string[];
  blob?: string;
  request?: string;
  "plugin-config"?: boolean;
  "root-namespace"?: string;
  "trust-domain"?: string;
  "trust-domain-alias"?: string[];
  "mesh-config"?: string;
  wasm?: string;
  verbose?: boolean;
  url?: string;
  name?: string;
  namespace?: string;
  selector?: string[];
  tag?: string;
  "oci-layout"?: string;
  "max-object-bytes"?: string;
  all?: boolean;
  junit?: string;
  "allow-skip"?: boolean;
  "allow-empty"?: boolean;
  quiet?: boolean;
  "istio-version"?: string;
  "policy-namespace"?: string;
  sha256?: string;
  variant?: string;
  before?: string[];
  after?: string[];
  requests?: string[];
  workload?: string;
  "fail-on"?: string;
  lcov?: string;
  "fail-under"?: string;
  workloads?: string[];
  "policy-counters"?: string;
  "decision-log"?: string;
  "deny-header"?: boolean;
  network?: boolean;
  "tcp-ports"?: string;
}

/** --istio-version X.Y (default: the newest supported release). */
export function istioVersionFromFlags(v: CliValues): IstioVersion {
  if (v["istio-version"] === undefined) return DEFAULT_ISTIO_VERSION;
  const r = parseIstioVersion(v["istio-version"]);
  if (typeof r === "string") throw new UsageError(r);
  return r;
}

/** --policy-counters, --decision-log, --deny-header -> the filter's observability options. */
export function observabilityFromFlags(v: CliValues): Observability {
  const o: Observability = {};
  const pc = v["policy-counters"];
  if (pc !== undefined) {
    if (!(COUNTER_MODES as readonly string[]).includes(pc)) throw new UsageError(`--policy-counters takes ${COUNTER_MODES.join(", ")}, not "${pc}"`);
    o.policyCounters = pc as Observability["policyCounters"];
  }
  const dl = v["decision-log"];
  if (dl !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(dl)) throw new UsageError(`--decision-log takes ${LOG_LEVELS.join(", ")}, not "${dl}"`);
    o.decisionLog = dl as Observability["decisionLog"];
  }
  if (v["deny-header"]) o.denyHeader = true;
  return o;
}

export function meshFromFlags(v: CliValues): MeshSettings {
  return {
    rootNamespace: v["root-namespace"] ?? DEFAULT_MESH.rootNamespace,
    trustDomain: v["trust-domain"] ?? DEFAULT_MESH.trustDomain,
    trustDomainAliases: v["trust-domain-alias"] ?? [],
    extensionProviders: providersFromFlags(v),
  };
}

/** `--mesh-config FILE`: the ext_authz providers CUSTOM policies name (undefined without it). */
export function providersFromFlags(v: CliValues): ResolvedProviders | undefined {
  const file = v["mesh-config"];
  if (file === undefined) return undefined;
  try {
    return loadMeshConfigFile(file);
  } catch (e) {
    if (e instanceof MeshConfigError) throw new UserError(e.message);
    throw e;
  }
}

export function wantsJson(v: CliValues): boolean {
  if (v.output === undefined || v.output === "text") return false;
  if (v.output === "json") return true;
  throw new UsageError(`-o takes "json" or "text" here, not "${v.output}"`);
}

export function readStdin(): string {
  return readFileSync(0, "utf8");
}

/** Errors in full, warnings grouped by kind (tools/cli/report.ts); `quiet`: one line per warning kind. */
export function printDiagnostics(diagnostics: Diagnostic[], quiet = false): void {
  printDiagnosticsGrouped(diagnostics, quiet);
}
