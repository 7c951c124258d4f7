// The decision of blob-format §4, staged like Istio's filter chain: CUSTOM, AUDIT, DENY (shadow
// then enforced), ALLOW (shadow then enforced). A stage runs only if the chain reaches it and it
// exists on this workload; each existing stage records what its Envoy RBAC filter would count.
import { Runtime } from "./plugin";
import { u32At } from "../bytes/buf";
import { bytesCompare } from "../bytes/range";

/** Istio emits one bad-CUSTOM DENY filter per provider, providers in name order: the first matching
 *  rule of the first provider with a match (rules of one provider are in id order). */
function badCustomMatch(p: Runtime): i32 {
  const e = p.custom;
  const t = p.tables;
  let best: i32 = -1;
  let bestName: u32 = 0;
  for (let pos: u32 = 0; pos < e.size; pos++) {
    if (!e.matches(p.evaluator, pos)) continue;
    const r = <i32>u32At(e.rules, pos);
    const name = t.policyProvider(t.rulePolicy(u32At(p.ruleBlob, <u32>r)));
    if (best < 0) {
      best = r;
      bestName = name;
      if (!p.customMultiple) return best;
      continue;
    }
    if (bytesCompare(t.strPtr(name), t.strLen(name), t.strPtr(bestName), t.strLen(bestName)) < 0) {
      best = r;
      bestName = name;
    }
  }
  return best;
}

export const enum Verdict {
  Allow = 0,
  /** A DENY rule matched, or no ALLOW rule matched: 403 with the effective policy id or none. */
  Deny = 1,
  /** A CUSTOM rule matched and its provider must be asked (extauthz/stage.ts). */
  CallProvider = 2,
  /** A CUSTOM rule of an undefined provider (or of one of several providers) matched: Istio's
   *  `-deny-due-to-bad-CUSTOM-action` DENY rule. */
  DenyBadCustom = 3,
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

  // 1. CUSTOM: Istio's shadow RBAC in front of ext_authz calls the provider only when a CUSTOM
  // rule matches; with an undefined provider (or several) the rules are an enforced DENY.
  if (p.hasCustom) {
    if (p.customProvider >= 0) {
      const r = p.custom.firstMatch(ev);
      if (r >= 0) {
        d.verdict = Verdict.CallProvider;
        d.rule = r;
        return d;
      }
    } else {
      const r = badCustomMatch(p);
      if (r >= 0) {
        d.denied++;
        d.verdict = Verdict.DenyBadCustom;
        d.rule = r;
        return d;
      }
      d.allowed++;
    }
  }
  return decideAfterCustom(p, d);
}

/** The stages after CUSTOM (also run when the provider allowed, or failed open). */
export function decideAfterCustom(p: Runtime, d: Decision): Decision {
  const ev = p.evaluator;

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
