// proxy_on_request_headers: decide with the stream's plugin, then report. Per-request state lives
// in the plugin's preallocated cache and is released before returning, whatever happened.
import { Runtime } from "../decide/plugin";
import { Headers } from "../abi/codes";
import { enforcedUpstream, markEnforced } from "../delivery/role";
import { Verdict, decide } from "../decide/decision";
import { startExtAuthz } from "../extauthz/stage";
import { applyDecision, denyInvalid } from "../report/outcome";

/** rt: the stream's runtime, 0 when its root is unknown or its configuration invalid. A root
 *  configured for connections (mode "network") cannot decide HTTP requests: denied. */
export function onRequestHeaders(rt: usize, ctx: u32): u32 {
  if (rt == 0 || changetype<Runtime>(rt).cache.network) return denyInvalid();
  const r = changetype<Runtime>(rt);
  const delivery = r.delivery;
  if (delivery == 0) return onRequest(r, ctx);
  // Exactly once per request when a namespace and the root instance share the chain (delivery/role.ts).
  // A request paused for ext_authz is marked when it resumes allowed (extauthz/stage.ts afterAllow).
  if (enforcedUpstream(delivery)) return Headers.Continue;
  const status = onRequest(r, ctx);
  if (status == Headers.Continue) markEnforced(delivery);
  return status;
}

function onRequest(rt: Runtime, ctx: u32): u32 {
  rt.evaluator.begin();
  const d = decide(rt);
  if (d.verdict == Verdict.CallProvider) {
    // A CUSTOM rule matched: the provider decides first (extauthz/stage.ts), the stream waits.
    rt.cache.end();
    return startExtAuthz(rt, ctx, d.rule);
  }
  const status = applyDecision(rt, d);
  rt.cache.end();
  return status;
}
