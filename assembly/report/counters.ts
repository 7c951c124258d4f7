// The six counters of docs/filter-io.md, defined once per VM on the first proxy_on_configure
// (Envoy prefixes them with `wasmcustom.` and strips that prefix when showing them). Requests
// count in module memory; proxy_on_tick (every second) and a root's proxy_on_done add the counts
// to Envoy's stats, so the hot path makes no host call for them. Envoy itself flushes stats to
// its sinks every few seconds (stats_flush_interval, 5 s by default).
import { addToCounter, defineCounter } from "../abi/metrics";
import { Decision } from "../decide/decision";

const ALLOWED = 0;
const DENIED = 1;
const ALLOW_SHADOW_ALLOWED = 2;
const ALLOW_SHADOW_DENIED = 3;
const DENY_SHADOW_ALLOWED = 4;
const DENY_SHADOW_DENIED = 5;

/** Metric ids (0 = not defined) and the counts not yet added, per counter. */
const ids = memory.data(6 * 4);
const pending = memory.data(6 * 8);
let defined = false;

export function defineCounters(): void {
  if (defined) return;
  defined = true;
  store<u32>(ids, defineCounter("rbac.allowed"), ALLOWED * 4);
  store<u32>(ids, defineCounter("rbac.denied"), DENIED * 4);
  store<u32>(ids, defineCounter("rbac.istio_dry_run_allow_shadow_allowed"), ALLOW_SHADOW_ALLOWED * 4);
  store<u32>(ids, defineCounter("rbac.istio_dry_run_allow_shadow_denied"), ALLOW_SHADOW_DENIED * 4);
  store<u32>(ids, defineCounter("rbac.istio_dry_run_deny_shadow_allowed"), DENY_SHADOW_ALLOWED * 4);
  store<u32>(ids, defineCounter("rbac.istio_dry_run_deny_shadow_denied"), DENY_SHADOW_DENIED * 4);
}

// @ts-ignore: decorator
@inline function count(c: i32, n: u32): void {
  const at = pending + (<usize>c << 3);
  store<u64>(at, load<u64>(at) + n);
}

export function countDecision(d: Decision): void {
  count(ALLOWED, d.allowed);
  count(DENIED, d.denied);
  if (d.shadowDenyRan) count(d.shadowDenyMatched ? DENY_SHADOW_DENIED : DENY_SHADOW_ALLOWED, 1);
  if (d.shadowAllowRan) count(d.shadowAllowMatched ? ALLOW_SHADOW_ALLOWED : ALLOW_SHADOW_DENIED, 1);
}

/** A request denied for an untrusted configuration counts as Istio's deny-all fallback filter would. */
export function countInvalid(): void {
  count(DENIED, 1);
}

/** Adds the pending counts to Envoy's counters. */
export function flushCounters(): void {
  for (let c = 0; c < 6; c++) {
    const at = pending + (<usize>c << 3);
    const n = load<u64>(at);
    if (n == 0) continue;
    store<u64>(at, 0);
    addToCounter(load<u32>(ids + (<usize>c << 2)), n);
  }
}
