// Writes a decision to the host: for a denial the local reply 403 "RBAC: access denied" with Envoy
// RBAC's response code details (prebuilt per rule at configure), the deciding ALLOW rule's id, and
// the audit and dry-run results when there are any, as filter state (wasm.meshauthz.*). A request
// allowed without any of those makes no host call. Counters are kept in memory (counters.ts).
import { Headers } from "../abi/codes";
import { sendLocalResponse, sendLocalResponseWithHeader } from "../abi/reply";
import { Runtime } from "../decide/plugin";
import { Decision, Verdict } from "../decide/decision";
import { lit, litLen, litPtr } from "../bytes/range";
import { countDecision, countInvalid } from "./counters";
import { ByteBuf, u32At } from "../bytes/buf";
import { POLICY, putId, reportCommon } from "./filter-state";
import { DENY_HEADER, deniedByLen, deniedByPtr, logDecision } from "./decision-log";


const BODY = lit("RBAC: access denied");
const DETAILS_NONE = lit("rbac_access_denied_matched_policy[none]");
const DETAILS_INVALID = lit("meshauthz_invalid_config");
const DETAILS_OPEN_ = lit("rbac_access_denied_matched_policy[istio-ext-authz-");
const BAD_CUSTOM_CLOSE = lit("-deny-due-to-bad-CUSTOM-action]");

function deny(d: usize, dl: usize): u32 {
  sendLocalResponse(403, d, dl, litPtr(BODY), litLen(BODY));
  return Headers.StopAllIterationAndWatermark;
}

function denyConst(b: usize): u32 {
  return deny(litPtr(b), litLen(b));
}

/** A denial with the opt-in x-meshauthz-denied-by header. */
function denyWith(p: Runtime, d: Decision, details: usize, detailsLen: usize): u32 {
  if (!p.denyHeader) return deny(details, detailsLen);
  sendLocalResponseWithHeader(403, details, detailsLen, litPtr(BODY), litLen(BODY), litPtr(DENY_HEADER), litLen(DENY_HEADER), deniedByPtr(p, d), deniedByLen(p, d));
  return Headers.StopAllIterationAndWatermark;
}

/** Applies the decision; returns what proxy_on_request_headers returns. */
export function applyDecision(p: Runtime, d: Decision): u32 {
  countDecision(d);
  reportCommon(p, d);
  if (p.decisionLog >= 0) logDecision(p, d, p.decisionLog);
  if (d.verdict == Verdict.Allow) {
    if (d.rule >= 0) putId(POLICY, p, d.rule);
    return Headers.Continue;
  }
  if (d.verdict == Verdict.DenyBadCustom) return denyBadCustom(p, d);
  if (d.rule >= 0) return denyWith(p, d, p.detailsPtr(<u32>d.rule), p.detailsLen(<u32>d.rule));
  return denyWith(p, d, litPtr(DETAILS_NONE), litLen(DETAILS_NONE));
}

/** Istio's DENY rule for a CUSTOM rule whose provider is undefined (or one of several), named
 *  istio-ext-authz-<provider>-<rule id>-deny-due-to-bad-CUSTOM-action (builder.go policyName,
 *  getBadCustomDenyRules): its denial details, heap.alloc'd (caller frees), length in
 *  badCustomDetailsLen. Built per denial: a misconfiguration, not the hot path. */
export function badCustomDetails(p: Runtime, rule: i32): usize {
  const t = p.tables;
  const name = t.policyProvider(t.rulePolicy(u32At(p.ruleBlob, <u32>rule)));
  const b = new ByteBuf();
  b.bytes(litPtr(DETAILS_OPEN_), litLen(DETAILS_OPEN_));
  b.bytes(t.strPtr(name), t.strLen(name));
  b.byte(0x2d); // '-'
  b.bytes(p.idPtr(<u32>rule), p.idLen(<u32>rule));
  b.bytes(litPtr(BAD_CUSTOM_CLOSE), litLen(BAD_CUSTOM_CLOSE));
  badCustomDetailsLen = b.len;
  const ptr = b.take();
  b.free();
  return ptr;
}
export let badCustomDetailsLen: usize = 0;

function denyBadCustom(p: Runtime, d: Decision): u32 {
  const ptr = badCustomDetails(p, d.rule);
  const r = denyWith(p, d, ptr, badCustomDetailsLen);
  heap.free(ptr);
  return r;
}

/** Every request of an untrusted configuration: 403 meshauthz_invalid_config. */
export function denyInvalid(): u32 {
  countInvalid();
  return denyConst(DETAILS_INVALID);
}
