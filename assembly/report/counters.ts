// The counters of docs/filter-io.md: six for HTTP (`rbac.*`) and six for connections (`tcp.rbac.*`,
// Istio's network RBAC stat_prefix "tcp.", builder.go buildTCP), each family defined once per VM on
// the first proxy_on_configure that uses it (Envoy prefixes them with `wasmcustom.` and strips that prefix when showing them). Requests
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
/** The connection family starts here (same order). */
const TCP = 6;
const COUNTERS = 12;

/** Metric ids (0 = not defined) and the counts not yet added, per counter. */
const ids = memory.data(COUNTERS * 4);
const pending = memory.data(COUNTERS * 8);
let definedHttp = false;
let definedTcp = false;

function defineFamily(base: i32, prefix: string): void {
  store<u32>(ids + (<usize>(base + ALLOWED) << 2), defineCounter(prefix + "rbac.allowed"));
  store<u32>(ids + (<usize>(base + DENIED) << 2), defineCounter(prefix + "rbac.denied"));
  store<u32>(ids + (<usize>(base + ALLOW_SHADOW_ALLOWED) << 2), defineCounter(prefix + "rbac.istio_dry_run_allow_shadow_allowed"));
  store<u32>(ids + (<usize>(base + ALLOW_SHADOW_DENIED) << 2), defineCounter(prefix + "rbac.istio_dry_run_allow_shadow_denied"));
  store<u32>(ids + (<usize>(base + DENY_SHADOW_ALLOWED) << 2), defineCounter(prefix + "rbac.istio_dry_run_deny_shadow_allowed"));
  store<u32>(ids + (<usize>(base + DENY_SHADOW_DENIED) << 2), defineCounter(prefix + "rbac.istio_dry_run_deny_shadow_denied"));
}

/** network: the connection family (`tcp.rbac.*`), else the HTTP family (`rbac.*`). */
export function defineCounters(network: bool = false): void {
  if (network) {
    if (definedTcp) return;
    definedTcp = true;
    defineFamily(TCP, "tcp.");
  } else {
    if (definedHttp) return;
    definedHttp = true;
    defineFamily(0, "");
  }
}

// @ts-ignore: decorator
@inline function count(c: i32, n: u32): void {
  const at = pending + (<usize>c << 3);
  store<u64>(at, load<u64>(at) + n);
}

function countFamily(base: i32, d: Decision): void {
  count(base + ALLOWED, d.allowed);
  count(base + DENIED, d.denied);
  if (d.shadowDenyRan) count(base + (d.shadowDenyMatched ? DENY_SHADOW_DENIED : DENY_SHADOW_ALLOWED), 1);
  if (d.shadowAllowRan) count(base + (d.shadowAllowMatched ? ALLOW_SHADOW_ALLOWED : ALLOW_SHADOW_DENIED), 1);
}

export function countDecision(d: Decision): void {
  countFamily(0, d);
}

/** A connection's decision: Envoy's network RBAC filters count once per connection, like this. */
export function countTcpDecision(d: Decision): void {
  countFamily(TCP, d);
}

/** A request denied for an untrusted configuration counts as Istio's deny-all fallback filter would. */
export function countInvalid(): void {
  count(DENIED, 1);
}

export function countTcpInvalid(): void {
  count(TCP + DENIED, 1);
}

/** Adds the pending counts to Envoy's counters. */
export function flushCounters(): void {
  for (let c = 0; c < COUNTERS; c++) {
    const at = pending + (<usize>c << 3);
    const n = load<u64>(at);
    if (n == 0) continue;
    store<u64>(at, 0);
    addToCounter(load<u32>(ids + (<usize>c << 2)), n);
  }
}
