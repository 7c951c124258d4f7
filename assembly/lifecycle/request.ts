// proxy_on_request_headers: decide with the stream's plugin, then report. Per-request state lives
// in the plugin's preallocated cache and is released before returning, whatever happened.
import { Runtime } from "../decide/plugin";
import { Headers } from "../abi/codes";
import { enforcedUpstream, markEnforced } from "../delivery/role";
import { decide } from "../decide/decision";
import { applyDecision, denyInvalid } from "../report/outcome";

/** rt: the stream's runtime, 0 when its root is unknown or its configuration invalid. A root
 *  configured for connections (mode "network") cannot decide HTTP requests: denied. */
export function onRequestHeaders(rt: usize): u32 {
  if (rt == 0 || changetype<Runtime>(rt).cache.network) return denyInvalid();
  const r = changetype<Runtime>(rt);
  const delivery = r.delivery;
  if (delivery == 0) return onRequest(r);
  // Exactly once per request when a namespace and the root instance share the chain (delivery/role.ts).
  if (enforcedUpstream(delivery)) return Headers.Continue;
  const status = onRequest(r);
  if (status == Headers.Continue) markEnforced(delivery);
  return status;
}

function onRequest(rt: Runtime): u32 {
  rt.evaluator.begin();
  const d = decide(rt);
  const status = applyDecision(rt, d);
  rt.cache.end();
  return status;
}
