// A connection's decision written to the host: a denial closes the downstream connection (there is
// no HTTP status at L4; Envoy's network RBAC closes too, with termination details
// rbac_access_denied_matched_policy[<id>|none], which a Wasm filter cannot set, so they go to
// filter state wasm.meshauthz.termination_details). The audit flag, the deciding ALLOW rule and the
// dry-run results are the same filter state keys as for HTTP (docs/filter-io.md).
import { setProperty } from "../abi/property";
import { closeDownstream } from "../abi/connection";
import { Runtime } from "../decide/plugin";
import { Decision, Verdict } from "../decide/decision";
import { badCustomDetails, badCustomDetailsLen } from "../report/outcome";
import { lit, litLen, litPtr } from "../bytes/range";
import { countTcpDecision, countTcpInvalid } from "../report/counters";
import { POLICY, putId, reportCommon } from "../report/filter-state";
import { log } from "../abi/log";
import { decidedBy } from "../report/decision-log";

const TERMINATION = lit("meshauthz.termination_details");
const DETAILS_NONE = lit("rbac_access_denied_matched_policy[none]");
const DETAILS_INVALID = lit("meshauthz_invalid_config");
const DETAILS_TCP_EXT_AUTHZ = lit("meshauthz_tcp_ext_authz_unsupported");

function close(d: usize, dl: usize): bool {
  setProperty(litPtr(TERMINATION), litLen(TERMINATION), d, dl);
  closeDownstream();
  return false;
}

/** Applies the decision; returns whether the connection may proceed. */
export function applyConnectionDecision(p: Runtime, d: Decision): bool {
  countTcpDecision(d);
  reportCommon(p, d);
  if (p.decisionLog >= 0) logConnection(p, d);
  if (d.verdict == Verdict.Allow) {
    if (d.rule >= 0) putId(POLICY, p, d.rule);
    return true;
  }
  if (d.verdict == Verdict.CallProvider) {
    // A CUSTOM rule of a gRPC provider matched: Istio's network ext_authz would ask it; this filter
    // does not call providers for connections (docs/ext-authz.md), so it closes (fail closed).
    putId(POLICY, p, d.rule);
    return close(litPtr(DETAILS_TCP_EXT_AUTHZ), litLen(DETAILS_TCP_EXT_AUTHZ));
  }
  if (d.verdict == Verdict.DenyBadCustom) {
    const ptr = badCustomDetails(p, d.rule);
    const r = close(ptr, badCustomDetailsLen);
    heap.free(ptr);
    return r;
  }
  if (d.rule >= 0) return close(p.detailsPtr(<u32>d.rule), p.detailsLen(<u32>d.rule));
  return close(litPtr(DETAILS_NONE), litLen(DETAILS_NONE));
}

/** pluginConfig "decisionLog": one line per connection (there is no method or path at L4). */
function logConnection(p: Runtime, d: Decision): void {
  log(<u32>p.decisionLog, "meshauthz: " + (d.verdict == Verdict.Allow ? "ALLOW" : "DENY") + " connection " + decidedBy(p, d));
}

/** A connection under an untrusted configuration is closed. */
export function denyConnectionInvalid(): void {
  countTcpInvalid();
  close(litPtr(DETAILS_INVALID), litLen(DETAILS_INVALID));
}
