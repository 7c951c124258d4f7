// Everything one root context (one WasmPlugin configuration) needs per request, built once in
// proxy_on_configure: the decoded tables, the engines of blob-format §4 holding only the rules of
// policies that apply to this workload (checked and compiled by decode/reach.ts), the attribute
// slots and the per-request scratch.
import { Tables } from "../decode/tables";
import { Action, POLICY_DRY_RUN } from "../decode/format";
import { DecodeError, decodeErrorText } from "../decode/errors";
import { DETAILS_OPEN, DROPPED, Reach } from "../decode/reach";
import { EngineKind } from "../config/plugin-config";
import { RequestCache } from "../request/cache";
import { Slots, buildSlots } from "../request/slots";
import { NONE, U32Buf, u32At } from "../bytes/buf";
import { Engine } from "./engine";
import { Evaluator } from "./evaluate";
import { Graph } from "./graph";
import { KeyFinder } from "./index-keys";
import { Workload } from "./workload";
import { Decision } from "./decision";
import { Delivery } from "../delivery/role";
import { recycleHostBuffer } from "../bytes/host-alloc";
import { bytesEqual } from "../bytes/range";
import { PolicyCounters } from "../report/policy-counters";

export class Plugin {
  /** Set when the configuration cannot be trusted: every request is denied. */
  invalid: bool = true;
  reason: string = "not configured";
  tables: Tables | null = null;
  engineKind: EngineKind = EngineKind.Indexed;
  /** Built for a network filter (pluginConfig mode "network"): the TCP projection's rules. */
  network: bool = false;
  /** Root context id, and the next root of the VM (lifecycle/contexts.ts). */
  rootId: u32 = 0;
  nextRoot: Plugin | null = null;
  /** What a request uses (null while invalid). */
  rt: Runtime | null = null;
  /** Applicable policies and rules (for the configure log line and tests). */
  policyCount: u32 = 0;
  ruleCount: u32 = 0;
  /** delivery/role.ts Role of the configuration (logs, tests). */
  role: i32 = 0;
  /** Capacity of the host buffer holding the blob (tables.base), recycled on dispose. */
  bufferCap: usize = 0;

  static failed(reason: string): Plugin {
    const p = new Plugin();
    p.reason = reason;
    return p;
  }

  dispose(): void {
    const rt = this.rt;
    if (rt !== null) rt.free();
    this.rt = null;
    const t = this.tables;
    if (t !== null) {
      // The blob's buffer goes to the next configuration (bytes/host-alloc.ts).
      recycleHostBuffer(t.base, this.bufferCap);
      t.base = 0;
      t.dispose();
    }
    this.tables = null;
    this.invalid = true;
    this.reason = "deleted";
  }
}

/** Everything a request of a valid plugin uses, in unmanaged memory (no GC work, no shadow-stack
 *  spills on the hot path), freed by Plugin.dispose(). */
@unmanaged
export class Runtime {
  // Stages that exist: an applicable policy of that kind exists, rules or not. Istio emits one
  // RBAC filter per action with enforced and/or shadow rules, and each counts its own result.
  hasCustom: bool = false;
  hasAudit: bool = false;
  hasShadowDeny: bool = false;
  hasDeny: bool = false;
  hasShadowAllow: bool = false;
  /** "An enforced ALLOW policy applies" (counted over policies, not rules). */
  hasAllow: bool = false;
  /** The one ext_authz provider (PROVIDERS index) of the workload's CUSTOM policies, or -1: the
   *  provider is undefined, or there are several (then customMultiple), and CUSTOM rules deny. */
  customProvider: i32 = -1;
  customMultiple: bool = false;
  /** Unique per runtime: a pending ext_authz call answered after a reconfiguration is refused. */
  generation: u32 = 0;
  tables: Tables;

  // Engines (empty when the stage does not exist on this workload).
  custom: Engine;
  audit: Engine;
  shadowDeny: Engine;
  deny: Engine;
  shadowAllow: Engine;
  allow: Engine;

  graph: Graph;
  slots: Slots;
  cache: RequestCache;
  evaluator: Evaluator;
  decision: Decision;
  /** Rules of the engines, numbered in blob order: blob rule index (u32), and the local reply
   *  details "rbac_access_denied_matched_policy[<id>]" of rule k at
   *  details + detailsAt[k] .. details + detailsAt[k+1] (u32 offsets, ruleCount + 1 of them). */
  ruleBlob: usize = 0;
  details: usize = 0;
  detailsAt: usize = 0;
  ruleCount: u32 = 0;
  /** Delivery role and root digest (delivery/role.ts Delivery), 0 = standalone. */
  delivery: usize = 0;

  // Observability options of pluginConfig (report/): per-policy counters (a PolicyCounters, 0 =
  // off), the decision log level (-1 = off) and the deny header.
  policyCounters: usize = 0;
  decisionLog: i32 = -1;
  denyHeader: bool = false;

  /** Takes the graph, the slots and the engines' lists (see buildPlugin). */
  constructor(t: Tables, g: Graph, slots: Slots, lists: usize) {
    this.tables = t;
    this.generation = ++generations;
    this.graph = g;
    this.slots = slots;
    // UNKNOWN (untrusted direct IP) counts as a match where matching restricts access.
    this.custom = engineOf(lists, CUSTOM, true);
    this.audit = engineOf(lists, AUDIT, false);
    this.shadowDeny = engineOf(lists, SHADOW_DENY, true);
    this.deny = engineOf(lists, DENY, true);
    this.shadowAllow = engineOf(lists, SHADOW_ALLOW, false);
    this.allow = engineOf(lists, ALLOW, false);
    const cache = new RequestCache(slots);
    this.cache = cache;
    this.decision = new Decision();
    this.evaluator = new Evaluator(t, g, cache);
  }

  free(): void {
    this.cache.free();
    this.evaluator.free();
    this.slots.free();
    this.graph.free();
    heap.free(changetype<usize>(this.decision));
    this.custom.free();
    this.audit.free();
    this.shadowDeny.free();
    this.deny.free();
    this.shadowAllow.free();
    this.allow.free();
    heap.free(this.ruleBlob);
    heap.free(this.details);
    heap.free(this.detailsAt);
    Delivery.free(this.delivery);
    if (this.policyCounters != 0) changetype<PolicyCounters>(this.policyCounters).free();
    heap.free(changetype<usize>(this));
  }

  /** Envoy RBAC's response code details for a denial by rule k. */
  @inline detailsPtr(k: u32): usize {
    return this.details + <usize>u32At(this.detailsAt, k);
  }
  @inline detailsLen(k: u32): usize {
    return <usize>(u32At(this.detailsAt, k + 1) - u32At(this.detailsAt, k));
  }
  /** The effective policy id of rule k: ns[<ns>]-policy[<name>]-rule[<i>]. */
  @inline idPtr(k: u32): usize {
    return this.detailsPtr(k) + <usize>DETAILS_OPEN.length;
  }
  @inline idLen(k: u32): usize {
    return this.detailsLen(k) - <usize>DETAILS_OPEN.length - 1;
  }
}

let generations: u32 = 0;

// Engine slots while building.
const CUSTOM = 0;
const AUDIT = 1;
const SHADOW_DENY = 2;
const DENY = 3;
const SHADOW_ALLOW = 4;
const ALLOW = 5;

/** Builds the plugin from decoded tables for workload w: with `network`, from the TCP projection
 *  (blob-format §2.8, docs/tcp.md), as Istio builds a TCP filter chain's RBAC. On success the
 *  plugin owns the tables; when a rule the workload uses fails its checks, the tables are disposed
 *  and the plugin fails. */
export function buildPlugin(t: Tables, w: Workload, kind: EngineKind, network: bool = false): Plugin {
  if (network && !t.hasTcp) {
    t.dispose();
    return Plugin.failed("policy blob has no TCP tables (format 1.0): recompile it with meshauthz 0.2 or later");
  }
  const p = new Plugin();
  p.engineKind = kind;
  p.network = network;
  const applicable = new StaticArray<u8>(<i32>t.policyCount);
  let stages: u32 = 0;
  for (let i: u32 = 0; i < t.policyCount; i++) {
    if (!w.applies(t, i)) continue;
    unchecked((applicable[i] = 1));
    p.policyCount++;
    // Dry-run applies to ALLOW and DENY only (Istio's validation rejects it elsewhere); a dry-run
    // AUDIT or CUSTOM policy would never be enforced, so it is left out.
    const e = engineFor(t, i);
    if (e >= 0) stages |= 1 << e;
  }

  // The rules of the applicable policies, in blob order: checked, compiled, sorted into engines.
  const reach = new Reach(t);
  reach.tcp = network;
  const ruleBlob = new U32Buf();
  const lists = heap.alloc(12 << 2); // per engine: rule numbers, then local roots (U32Buf)
  for (let e = 0; e < 12; e++) store<usize>(lists + (<usize>e << 2), changetype<usize>(new U32Buf()));
  for (let r: u32 = 0; r < t.ruleCount; r++) {
    const pol = t.rulePolicy(r);
    if (unchecked(applicable[pol]) == 0) continue;
    const e = engineFor(t, pol);
    if (e < 0) continue;
    const root = reach.rule(r);
    if (root == NONE) break;
    // An ALLOW rule with HTTP-only fields never matches a connection; its policy still counts
    // as an applicable ALLOW policy (Istio emits `rules: {}`, which denies everything).
    if (root == DROPPED) continue;
    list(lists, 2 * e).push(ruleBlob.len);
    list(lists, 2 * e + 1).push(root);
    ruleBlob.push(r);
  }
  if (reach.error != DecodeError.None) {
    const why = decodeErrorText(reach.error, reach.where, reach.at);
    reach.free();
    ruleBlob.free();
    for (let e = 0; e < 12; e++) list(lists, e).free();
    heap.free(lists);
    t.dispose();
    return Plugin.failed("policy blob rejected (" + why + ")");
  }

  const g = Graph.from(reach);
  const slots = buildSlots(t, g.leafBlob, g.leafCount);
  const rt = new Runtime(t, g, slots, lists);
  rt.cache.network = network;
  heap.free(lists);
  rt.hasCustom = (stages & (1 << CUSTOM)) != 0;
  rt.hasAudit = (stages & (1 << AUDIT)) != 0;
  rt.hasShadowDeny = (stages & (1 << SHADOW_DENY)) != 0;
  rt.hasDeny = (stages & (1 << DENY)) != 0;
  rt.hasShadowAllow = (stages & (1 << SHADOW_ALLOW)) != 0;
  rt.hasAllow = (stages & (1 << ALLOW)) != 0;
  if (rt.hasCustom) resolveCustomProvider(t, applicable, rt);
  rt.ruleCount = ruleBlob.len;
  rt.ruleBlob = ruleBlob.take();
  ruleBlob.free();
  reach.idStart.push(<u32>reach.ids.len);
  rt.details = reach.ids.take();
  rt.detailsAt = reach.idStart.take();
  reach.free();
  if (kind == EngineKind.Indexed) {
    const finder = new KeyFinder(t, g);
    rt.custom.buildIndex(t, g, slots, finder);
    rt.audit.buildIndex(t, g, slots, finder);
    rt.shadowDeny.buildIndex(t, g, slots, finder);
    rt.deny.buildIndex(t, g, slots, finder);
    rt.shadowAllow.buildIndex(t, g, slots, finder);
    rt.allow.buildIndex(t, g, slots, finder);
    finder.free();
  }
  p.tables = t;
  p.ruleCount = rt.ruleCount;
  p.rt = rt;
  p.invalid = false;
  p.reason = "";
  return p;
}

/** Istio's builder (builder.go buildHTTP): one provider per workload unless
 *  PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS (default off); that provider must be defined. */
function resolveCustomProvider(t: Tables, applicable: StaticArray<u8>, rt: Runtime): void {
  let name: u32 = NONE;
  for (let i: u32 = 0; i < t.policyCount; i++) {
    if (unchecked(applicable[i]) == 0 || engineFor(t, i) != CUSTOM) continue;
    const n = t.policyProvider(i);
    if (name == NONE) name = n;
    else if (!bytesEqual(t.strPtr(n), t.strLen(n), t.strPtr(name), t.strLen(name))) rt.customMultiple = true;
  }
  if (name == NONE || rt.customMultiple) return;
  for (let k: u32 = 0; k < t.providerCount; k++) {
    const pn = t.providerName(k);
    if (bytesEqual(t.strPtr(pn), t.strLen(pn), t.strPtr(name), t.strLen(name))) {
      rt.customProvider = <i32>k;
      return;
    }
  }
}

/** The engine of policy i's rules, or -1 for a dry-run AUDIT or CUSTOM policy. */
function engineFor(t: Tables, i: u32): i32 {
  const action = t.policyAction(i);
  const dry = (t.policyFlags(i) & POLICY_DRY_RUN) != 0;
  if (action == Action.Custom) return dry ? -1 : CUSTOM;
  if (action == Action.Audit) return dry ? -1 : AUDIT;
  if (action == Action.Deny) return dry ? SHADOW_DENY : DENY;
  return dry ? SHADOW_ALLOW : ALLOW;
}

// @ts-ignore: decorator
@inline function list(lists: usize, i: i32): U32Buf {
  return changetype<U32Buf>(load<usize>(lists + (<usize>i << 2)));
}

function engineOf(lists: usize, e: i32, unknownMatches: bool): Engine {
  const rules = list(lists, 2 * e);
  const roots = list(lists, 2 * e + 1);
  const n = rules.len;
  const engine = new Engine(rules.take(), roots.take(), n, unknownMatches);
  rules.free();
  roots.free();
  return engine;
}
