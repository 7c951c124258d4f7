// Opt-in per-policy (or per-rule) counters, pluginConfig "policyCounters" (docs/filter-io.md):
//   meshauthz.policy.<ns>.<name>.allowed | .denied            ("policy")
//   meshauthz.policy.<ns>.<name>.rule.<i>.allowed | .denied   ("rule")
// Defined at configure for the rules this workload enforces (never the mesh's), so a sidecar's
// cardinality is bounded by its own policies; above MAX_COUNTERS none are defined and a warning
// says so (every Envoy counter costs memory in every sidecar and in Prometheus). Incremented with
// one host call per decided request, only when enabled.
import { addToCounter, defineCounter } from "../abi/metrics";
import { log } from "../abi/log";
import { CounterMode } from "../config/plugin-config";
import { Tables } from "../decode/tables";
import { u32At } from "../bytes/buf";
import { bytesToString } from "../bytes/range";

/** Counters one sidecar may define for its policies (2 per policy or per rule). */
export const MAX_COUNTERS: u32 = 1000;

const WARN: u32 = 3;

/** Counter ids per plugin rule k: allowed at ids + 8k, denied at ids + 8k + 4 (0 = not defined). */
@unmanaged
export class PolicyCounters {
  ids: usize = 0;
  rules: u32 = 0;

  free(): void {
    heap.free(this.ids);
    heap.free(changetype<usize>(this));
  }

  @inline allowed(k: u32): void {
    addToCounter(load<u32>(this.ids + (<usize>k << 3)), 1);
  }

  @inline denied(k: u32): void {
    addToCounter(load<u32>(this.ids + (<usize>k << 3), 4), 1);
  }
}

function baseName(t: Tables, pol: u32, network: bool): string {
  // A network filter's (connection) counters are their own family, as tcp.rbac.* are.
  return (network ? "meshauthz.tcp.policy." : "meshauthz.policy.") + bytesToString(t.strPtr(t.policyNamespace(pol)), t.strLen(t.policyNamespace(pol))) + "." +
    bytesToString(t.strPtr(t.policyName(pol)), t.strLen(t.policyName(pol)));
}

/** Defines the counters of the plugin's rules (ruleBlob: plugin rule k -> blob rule); 0 when off
 *  or over the limit. Rules of one policy are contiguous in blob order and share its pair. */
export function buildPolicyCounters(t: Tables, ruleBlob: usize, ruleCount: u32, mode: CounterMode, network: bool = false): usize {
  if (mode == CounterMode.Off || ruleCount == 0) return 0;
  let needed: u32 = 0;
  let last: u32 = 0xffffffff;
  for (let k: u32 = 0; k < ruleCount; k++) {
    const pol = t.rulePolicy(u32At(ruleBlob, k));
    if (mode == CounterMode.Rule || pol != last) needed += 2;
    last = pol;
  }
  if (needed > MAX_COUNTERS) {
    log(WARN, "meshauthz: policyCounters \"" + (mode == CounterMode.Rule ? "rule" : "policy") + "\" would define " + needed.toString() +
      " counters on this workload, over the limit of " + MAX_COUNTERS.toString() + ": per-policy counters are off (rbac.* still count)");
    return 0;
  }
  const c = changetype<PolicyCounters>(heap.alloc(offsetof<PolicyCounters>()));
  c.rules = ruleCount;
  c.ids = heap.alloc(<usize>ruleCount << 3);
  last = 0xffffffff;
  let allowed: u32 = 0;
  let denied: u32 = 0;
  for (let k: u32 = 0; k < ruleCount; k++) {
    const r = u32At(ruleBlob, k);
    const pol = t.rulePolicy(r);
    if (mode == CounterMode.Rule) {
      const name = baseName(t, pol, network) + ".rule." + t.ruleIndex(r).toString();
      allowed = defineCounter(name + ".allowed");
      denied = defineCounter(name + ".denied");
    } else if (pol != last) {
      const name = baseName(t, pol, network);
      allowed = defineCounter(name + ".allowed");
      denied = defineCounter(name + ".denied");
    }
    last = pol;
    store<u32>(c.ids + (<usize>k << 3), allowed);
    store<u32>(c.ids + (<usize>k << 3), denied, 4);
  }
  return changetype<usize>(c);
}
