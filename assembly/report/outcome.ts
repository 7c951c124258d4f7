// Writes a decision to the host: filter state (wasm.meshauthz.*), counters and, for a denial, the
// local reply 403 "RBAC: access denied" with Envoy RBAC's response code details. Ids and fixed
// strings are sent straight from the blob's string pool and static buffers: nothing is copied
// except the details, composed in a reused buffer.
import { FilterHeadersStatusValues } from "@gcoredev/proxy-wasm-sdk-as/assembly/runtime";
import { setProperty } from "../abi/property";
import { sendLocalResponse } from "../abi/reply";
import { Tables } from "../decode/tables";
import { Decision, Verdict } from "../decide/decision";
import { utf8 } from "../bytes/range";
import { countDecision, countInvalid } from "./counters";

const RESULT = utf8("meshauthz.result");
const POLICY = utf8("meshauthz.policy");
const AUDIT = utf8("meshauthz.audit");
const SHADOW_DENY = utf8("meshauthz.shadow_deny");
const SHADOW_DENY_POLICY = utf8("meshauthz.shadow_deny_policy");
const SHADOW_ALLOW = utf8("meshauthz.shadow_allow");
const SHADOW_ALLOW_POLICY = utf8("meshauthz.shadow_allow_policy");
const ALLOWED = utf8("allowed");
const DENIED = utf8("denied");
const TRUE_ = utf8("true");

const BODY = utf8("RBAC: access denied");
const DETAILS_OPEN = utf8("rbac_access_denied_matched_policy[");
const DETAILS_NONE = utf8("rbac_access_denied_matched_policy[none]");
const DETAILS_INVALID = utf8("meshauthz_invalid_config");
const DETAILS_CUSTOM = utf8("meshauthz_custom_unsupported");

// Details scratch, grown to the longest policy id seen.
let details: usize = 0;
let detailsCap: usize = 0;

function put(key: ArrayBuffer, value: ArrayBuffer): void {
  setProperty(changetype<usize>(key), <usize>key.byteLength, changetype<usize>(value), <usize>value.byteLength);
}

function putId(key: ArrayBuffer, t: Tables, rule: i32): void {
  const id = t.ruleId(<u32>rule);
  setProperty(changetype<usize>(key), <usize>key.byteLength, t.strPtr(id), t.strLen(id));
}

function deny(d: usize, dl: usize): u32 {
  sendLocalResponse(403, d, dl, changetype<usize>(BODY), <usize>BODY.byteLength);
  return FilterHeadersStatusValues.StopAllIterationAndWatermark;
}

function denyConst(b: ArrayBuffer): u32 {
  return deny(changetype<usize>(b), <usize>b.byteLength);
}

/** details = rbac_access_denied_matched_policy[<id>] */
function denyWithId(t: Tables, rule: i32): u32 {
  const id = t.ruleId(<u32>rule);
  const ip = t.strPtr(id);
  const il = t.strLen(id);
  const open = <usize>DETAILS_OPEN.byteLength;
  const n = open + il + 1;
  if (n > detailsCap) {
    if (details != 0) heap.free(details);
    detailsCap = n < 256 ? 256 : n;
    details = heap.alloc(detailsCap);
  }
  memory.copy(details, changetype<usize>(DETAILS_OPEN), open);
  memory.copy(details + open, ip, il);
  store<u8>(details + open + il, 93); // ']'
  return deny(details, n);
}

/** Applies the decision; returns what proxy_on_request_headers returns. */
export function applyDecision(t: Tables, d: Decision): u32 {
  countDecision(d);
  if (d.audit) put(AUDIT, TRUE_);
  if (d.shadowDenyRan) {
    put(SHADOW_DENY, d.shadowDenyMatched ? DENIED : ALLOWED);
    if (d.shadowDenyRule >= 0) putId(SHADOW_DENY_POLICY, t, d.shadowDenyRule);
  }
  if (d.shadowAllowRan) {
    put(SHADOW_ALLOW, d.shadowAllowMatched ? ALLOWED : DENIED);
    if (d.shadowAllowRule >= 0) putId(SHADOW_ALLOW_POLICY, t, d.shadowAllowRule);
  }
  if (d.rule >= 0) putId(POLICY, t, d.rule);
  if (d.verdict == Verdict.Allow) {
    put(RESULT, ALLOWED);
    return FilterHeadersStatusValues.Continue;
  }
  put(RESULT, DENIED);
  if (d.verdict == Verdict.DenyCustom) return denyConst(DETAILS_CUSTOM);
  if (d.rule >= 0) return denyWithId(t, d.rule);
  return denyConst(DETAILS_NONE);
}

/** Every request of an untrusted configuration: 403 meshauthz_invalid_config. */
export function denyInvalid(): u32 {
  countInvalid();
  put(RESULT, DENIED);
  return denyConst(DETAILS_INVALID);
}
