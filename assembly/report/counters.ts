// The six counters of docs/filter-io.md, defined once per VM on the first proxy_on_configure
// (Envoy prefixes them with `wasmcustom.` and strips that prefix when showing them).
import { defineCounter, incrementCounter } from "../abi/metrics";
import { Decision } from "../decide/decision";

let defined = false;
let allowed: u32 = 0;
let denied: u32 = 0;
let allowShadowAllowed: u32 = 0;
let allowShadowDenied: u32 = 0;
let denyShadowAllowed: u32 = 0;
let denyShadowDenied: u32 = 0;

export function defineCounters(): void {
  if (defined) return;
  defined = true;
  allowed = defineCounter("rbac.allowed");
  denied = defineCounter("rbac.denied");
  allowShadowAllowed = defineCounter("rbac.istio_dry_run_allow_shadow_allowed");
  allowShadowDenied = defineCounter("rbac.istio_dry_run_allow_shadow_denied");
  denyShadowAllowed = defineCounter("rbac.istio_dry_run_deny_shadow_allowed");
  denyShadowDenied = defineCounter("rbac.istio_dry_run_deny_shadow_denied");
}

export function countDecision(d: Decision): void {
  for (let i: u32 = 0; i < d.allowed; i++) incrementCounter(allowed);
  for (let i: u32 = 0; i < d.denied; i++) incrementCounter(denied);
  if (d.shadowDenyRan) incrementCounter(d.shadowDenyMatched ? denyShadowDenied : denyShadowAllowed);
  if (d.shadowAllowRan) incrementCounter(d.shadowAllowMatched ? allowShadowAllowed : allowShadowDenied);
}

/** A request denied for an untrusted configuration counts as Istio's deny-all fallback filter would. */
export function countInvalid(): void {
  incrementCounter(denied);
}
