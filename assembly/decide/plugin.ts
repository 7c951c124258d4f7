// Everything one root context (one WasmPlugin configuration) needs per request, built once in
// proxy_on_configure: the decoded tables, the engines of blob-format §4 holding only the rules of
// policies that apply to this workload, the attribute slots and the per-request scratch.
import { Tables } from "../decode/tables";
import { Action, POLICY_DRY_RUN } from "../decode/format";
import { EngineKind } from "../config/plugin-config";
import { RequestCache } from "../request/cache";
import { Slots, buildSlots } from "../request/slots";
import { Engine } from "./engine";
import { Evaluator } from "./evaluate";
import { Workload } from "./workload";
import { Decision } from "./decision";

export class Plugin {
  /** Set when the configuration cannot be trusted: every request is denied. */
  invalid: bool = true;
  reason: string = "not configured";
  tables: Tables | null = null;
  engineKind: EngineKind = EngineKind.Indexed;

  // Engines (empty when the stage does not exist on this workload).
  custom!: Engine;
  audit!: Engine;
  shadowDeny!: Engine;
  deny!: Engine;
  shadowAllow!: Engine;
  allow!: Engine;

  // Stages that exist: an applicable policy of that kind exists, rules or not. Istio emits one
  // RBAC filter per action with enforced and/or shadow rules, and each counts its own result.
  hasCustom: bool = false;
  hasAudit: bool = false;
  hasShadowDeny: bool = false;
  hasDeny: bool = false;
  hasShadowAllow: bool = false;
  /** "An enforced ALLOW policy applies" (counted over policies, not rules). */
  hasAllow: bool = false;

  slots!: Slots;
  cache!: RequestCache;
  evaluator!: Evaluator;
  decision: Decision = new Decision();
  /** Applicable policies and rules (for the configure log line and tests). */
  policyCount: u32 = 0;
  ruleCount: u32 = 0;

  static failed(reason: string): Plugin {
    const p = new Plugin();
    p.reason = reason;
    return p;
  }

  dispose(): void {
    if (!this.invalid) this.cache.dispose();
    const t = this.tables;
    if (t !== null) t.dispose();
    this.tables = null;
    this.invalid = true;
    this.reason = "deleted";
  }
}

/** Builds the plugin from validated tables (which it takes over) for workload w. */
export function buildPlugin(t: Tables, w: Workload, kind: EngineKind): Plugin {
  const p = new Plugin();
  p.tables = t;
  p.engineKind = kind;
  const applicable = new StaticArray<bool>(<i32>t.policyCount);
  for (let i: u32 = 0; i < t.policyCount; i++) {
    if (!w.applies(t, i)) continue;
    unchecked((applicable[i] = true));
    p.policyCount++;
    const action = t.policyAction(i);
    const dry = (t.policyFlags(i) & POLICY_DRY_RUN) != 0;
    // Dry-run applies to ALLOW and DENY only (Istio's validation rejects it elsewhere); a dry-run
    // AUDIT or CUSTOM policy would never be enforced, so it is left out.
    if (action == Action.Custom) p.hasCustom = p.hasCustom || !dry;
    else if (action == Action.Audit) p.hasAudit = p.hasAudit || !dry;
    else if (action == Action.Deny) {
      if (dry) p.hasShadowDeny = true;
      else p.hasDeny = true;
    } else if (dry) p.hasShadowAllow = true;
    else p.hasAllow = true;
  }
  const custom = new Array<u32>();
  const audit = new Array<u32>();
  const shadowDeny = new Array<u32>();
  const deny = new Array<u32>();
  const shadowAllow = new Array<u32>();
  const allow = new Array<u32>();
  for (let r: u32 = 0; r < t.ruleCount; r++) {
    const pol = t.rulePolicy(r);
    if (!unchecked(applicable[pol])) continue;
    const action = t.policyAction(pol);
    const dry = (t.policyFlags(pol) & POLICY_DRY_RUN) != 0;
    if (action == Action.Custom) {
      if (!dry) custom.push(r);
    } else if (action == Action.Audit) {
      if (!dry) audit.push(r);
    } else if (action == Action.Deny) {
      if (dry) shadowDeny.push(r);
      else deny.push(r);
    } else if (dry) shadowAllow.push(r);
    else allow.push(r);
  }
  p.ruleCount = <u32>(custom.length + audit.length + shadowDeny.length + deny.length + shadowAllow.length + allow.length);
  // UNKNOWN (untrusted direct IP) counts as a match where matching restricts access.
  p.custom = new Engine(t, custom, true);
  p.audit = new Engine(t, audit, false);
  p.shadowDeny = new Engine(t, shadowDeny, true);
  p.deny = new Engine(t, deny, true);
  p.shadowAllow = new Engine(t, shadowAllow, false);
  p.allow = new Engine(t, allow, false);
  p.slots = buildSlots(t);
  p.cache = new RequestCache(p.slots);
  p.evaluator = new Evaluator(t, p.cache);
  if (kind == EngineKind.Indexed) {
    p.custom.buildIndex(t, p.slots);
    p.audit.buildIndex(t, p.slots);
    p.shadowDeny.buildIndex(t, p.slots);
    p.deny.buildIndex(t, p.slots);
    p.shadowAllow.buildIndex(t, p.slots);
    p.allow.buildIndex(t, p.slots);
  }
  p.invalid = false;
  p.reason = "";
  return p;
}
