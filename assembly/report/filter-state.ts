// What an HTTP decision and a connection decision report alike (docs/filter-io.md): the opt-in
// per-policy counters, and as filter state (wasm.meshauthz.*) the audit flag, the dry-run results
// and the ALLOW rule that allowed. Only the way a denial reaches the client differs (outcome.ts,
// network/outcome.ts).
import { setProperty } from "../abi/property";
import { Runtime } from "../decide/plugin";
import { Decision, Verdict } from "../decide/decision";
import { lit, litLen, litPtr } from "../bytes/range";
import { PolicyCounters } from "./policy-counters";

export const POLICY = lit("meshauthz.policy");
const AUDIT = lit("meshauthz.audit");
const SHADOW_DENY = lit("meshauthz.shadow_deny");
const SHADOW_DENY_POLICY = lit("meshauthz.shadow_deny_policy");
const SHADOW_ALLOW = lit("meshauthz.shadow_allow");
const SHADOW_ALLOW_POLICY = lit("meshauthz.shadow_allow_policy");
const ALLOWED = lit("allowed");
const DENIED = lit("denied");
const TRUE_ = lit("true");

export function put(key: usize, value: usize): void {
  setProperty(litPtr(key), litLen(key), litPtr(value), litLen(value));
}

export function putId(key: usize, p: Runtime, rule: i32): void {
  setProperty(litPtr(key), litLen(key), p.idPtr(<u32>rule), p.idLen(<u32>rule));
}

/** Per-policy counters, audit flag and dry-run results of a decision. */
export function reportCommon(p: Runtime, d: Decision): void {
  if (p.policyCounters != 0 && d.rule >= 0) {
    const c = changetype<PolicyCounters>(p.policyCounters);
    if (d.verdict == Verdict.Allow) c.allowed(<u32>d.rule);
    else c.denied(<u32>d.rule);
  }
  if (d.audit) put(AUDIT, TRUE_);
  if (d.shadowDenyRan) {
    put(SHADOW_DENY, d.shadowDenyMatched ? DENIED : ALLOWED);
    if (d.shadowDenyRule >= 0) putId(SHADOW_DENY_POLICY, p, d.shadowDenyRule);
  }
  if (d.shadowAllowRan) {
    put(SHADOW_ALLOW, d.shadowAllowMatched ? ALLOWED : DENIED);
    if (d.shadowAllowRule >= 0) putId(SHADOW_ALLOW_POLICY, p, d.shadowAllowRule);
  }
}
