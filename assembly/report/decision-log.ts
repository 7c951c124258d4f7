// Opt-in debugging aids (pluginConfig "decisionLog", "denyHeader"; docs/filter-io.md): one log line
// per request naming the decision and the deciding rule, at the configured level, and a response
// header naming the deciding rule on denials. Both are off by default: the header tells callers
// the names of the policies that stopped them.
import { log } from "../abi/log";
import { getRequestHeader } from "../abi/header";
import { lastLen, lastPtr, release } from "../abi/value";
import { Status } from "../abi/codes";
import { Runtime } from "../decide/plugin";
import { Decision, Verdict } from "../decide/decision";
import { bytesToString, lit, litLen, litPtr } from "../bytes/range";

export const DENY_HEADER = lit("x-meshauthz-denied-by");
const METHOD = lit(":method");
const PATH = lit(":path");
const NONE = lit("none");

function header(name: usize): string {
  if (getRequestHeader(litPtr(name), litLen(name)) != Status.Ok) return "-";
  const p = lastPtr();
  const s = bytesToString(p, min(lastLen(), 256));
  release(p);
  return s;
}

/** "meshauthz: DENY GET /admin by ns[..]-policy[..]-rule[0]" at the configured level. */
export function logDecision(rt: Runtime, d: Decision, level: i32): void {
  const allowed = d.verdict == Verdict.Allow;
  log(<u32>level, "meshauthz: " + (allowed ? "ALLOW " : "DENY ") + header(METHOD) + " " + header(PATH) + " " + decidedBy(rt, d));
}

/** "by <effective policy id>", or why no rule decided. */
export function decidedBy(rt: Runtime, d: Decision): string {
  if (d.rule >= 0) return "by " + bytesToString(rt.idPtr(<u32>d.rule), rt.idLen(<u32>d.rule));
  return d.verdict == Verdict.Allow ? "(no ALLOW policy applies)" : "(no ALLOW rule matched)";
}

/** The deny header's value: the deciding rule's id, or "none". */
export function deniedByPtr(rt: Runtime, d: Decision): usize {
  return d.rule >= 0 ? rt.idPtr(<u32>d.rule) : litPtr(NONE);
}

export function deniedByLen(rt: Runtime, d: Decision): usize {
  return d.rule >= 0 ? rt.idLen(<u32>d.rule) : litLen(NONE);
}
