// proxy_on_request_headers: decide with the stream's plugin, then report. Per-request state lives
// in the plugin's preallocated cache and is released before returning, whatever happened.
import { Plugin } from "../decide/plugin";
import { decide } from "../decide/decision";
import { applyDecision, denyInvalid } from "../report/outcome";

export function onRequestHeaders(p: Plugin | null): u32 {
  if (p === null || p.invalid) return denyInvalid();
  p.evaluator.begin();
  const d = decide(p);
  const status = applyDecision(p.tables!, d);
  p.cache.end();
  return status;
}
