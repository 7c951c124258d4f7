// The decision of blob-format §4, staged like Istio's filter chain: CUSTOM, AUDIT, DENY (shadow
// then enforced), ALLOW (shadow then enforced). A stage runs only if the chain reaches it and it
// exists on this workload; each existing stage records what its Envoy RBAC filter would count.
import { Runtime } from "./plugin";

export const enum Verdict {
  Allow = 0,
  /** A DENY rule matched, or no ALLOW rule matched: 403 with the effective policy id or none. */
  Deny = 1,
  /** A CUSTOM rule matched: format 1.0 filters cannot call the ext-authz provider. */
  DenyCustom = 2,
}

@unmanaged
export class Decision {
  verdict: Verdict = Verdict.Allow;
  /** Plugin rule number whose id decided (the effective policy id), or -1 (none). */
  rule: i32 = -1;
  audit: bool = false;
  shadowDenyRan: bool = false;
  shadowDenyMatched: bool = false;
  shadowDenyRule: i32 = -1;
  shadowAllowRan: bool = false;
  shadowAllowMatched: bool = false;
  shadowAllowRule: i32 = -1;
  /** rbac.allowed / rbac.denied increments (one per enforcing stage reached). */
  allowed: u32 = 0;
  denied: u32 = 0;

  reset(): void {
    this.verdict = Verdict.Allow;
    this.rule = -1;
    this.audit = false;
    this.shadowDenyRan = false;
    this.shadowDenyMatched = false;
    this.shadowDenyRule = -1;
    this.shadowAllowRan = false;
    this.shadowAllowMatched = false;
    this.shadowAllowRule = -1;
    this.allowed = 0;
    this.denied = 0;
  }
}

/** Decides the current request. The caller brackets it with cache/evaluator begin and end. */
export function decide(p: Runtime): Decision {
  const d = p.decision;
  d.reset();
  const ev = p.evaluator;

  // 1. CUSTOM: a match would send the request to the provider; we cannot, so fail closed.
  if (p.hasCustom) {
    const r = p.custom.firstMatch(ev);
    if (r >= 0) {
      d.verdict = Verdict.DenyCustom;
      d.rule = r;
      return d;
    }
  }

  // 2. AUDIT: marks the request, never decides. Its RBAC filter (action LOG) counts "allowed".
  if (p.hasAudit) {
    d.audit = p.audit.firstMatch(ev) >= 0;
    d.allowed++;
  }

  // 3. DENY filter: shadow rules first, then enforced rules.
  if (p.hasShadowDeny) {
    const r = p.shadowDeny.firstMatch(ev);
    d.shadowDenyRan = true;
    d.shadowDenyMatched = r >= 0;
    d.shadowDenyRule = r;
  }
  if (p.hasDeny) {
    const r = p.deny.firstMatch(ev);
    if (r >= 0) {
      d.denied++;
      d.verdict = Verdict.Deny;
      d.rule = r;
      return d;
    }
    d.allowed++;
  }

  // 4. ALLOW filter: shadow rules first, then enforced rules if an enforced ALLOW policy applies.
  if (p.hasShadowAllow) {
    const r = p.shadowAllow.firstMatch(ev);
    d.shadowAllowRan = true;
    d.shadowAllowMatched = r >= 0;
    d.shadowAllowRule = r;
  }
  if (p.hasAllow) {
    const r = p.allow.firstMatch(ev);
    if (r >= 0) {
      d.allowed++;
      d.rule = r;
      return d;
    }
    d.denied++;
    d.verdict = Verdict.Deny;
    return d;
  }
  return d;
}
