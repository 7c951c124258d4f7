// The network-filter lifecycle (a WasmPlugin of type NETWORK, Envoy's envoy.filters.network.wasm):
// one decision per connection, made like Envoy's network RBAC filter (filters/network/rbac
// rbac_filter.cc, enforcement ONE_TIME_ON_FIRST_BYTE): on the first downstream data, when the TLS
// handshake is done and the peer certificate is known, not in proxy_on_new_connection. A denied
// connection is closed (proxy_close_stream downstream) and every later read is stopped.
// Decisions use the TCP projection of the policies (pluginConfig mode "network", docs/tcp.md).
import { Network } from "../abi/codes";
import { logCritical } from "../abi/log";
import { StreamTable } from "../lifecycle/contexts";
import { Runtime } from "../decide/plugin";
import { Verdict, decide, decideAfterCustom } from "../decide/decision";
import { ProviderKind } from "../decode/format";
import { applyConnectionDecision, denyConnectionInvalid } from "./outcome";

const ALLOWED: u32 = 1;
const DENIED: u32 = 2;

/** Connection context -> ALLOWED / DENIED once decided (absent: not yet). */
const decided = new StreamTable();
let warnedHttpMode = false;

/** The decision waits for the first bytes (see above): the connection may still be in its TLS
 *  handshake, so its peer identity is not known yet. */
export function onNewConnection(): u32 {
  return Network.Continue;
}

/** rt: the connection's runtime, 0 when its root is unknown or its configuration invalid. */
export function onDownstreamData(ctx: u32, rt: usize): u32 {
  const st = decided.get(ctx);
  if (st == ALLOWED) return Network.Continue;
  if (st == DENIED) return Network.StopIteration;
  let allowed = false;
  if (rt == 0) {
    denyConnectionInvalid();
  } else {
    const r = changetype<Runtime>(rt);
    if (!r.cache.network) {
      // An HTTP-mode configuration has no TCP projection: a connection cannot be decided.
      if (!warnedHttpMode) {
        warnedHttpMode = true;
        logCritical("meshauthz: running as a network filter with an HTTP configuration (pluginConfig mode is not \"network\"): closing every connection");
      }
      denyConnectionInvalid();
    } else {
      r.evaluator.begin();
      const d = decide(r);
      // Istio builds no network ext_authz for an HTTP provider (builder.go buildTCP: "ignored
      // CUSTOM action with HTTP provider on TCP filter chain"): its CUSTOM rules do not apply.
      if (d.verdict == Verdict.CallProvider && r.tables.providerKind(<u32>r.customProvider) == ProviderKind.Http) {
        d.reset();
        decideAfterCustom(r, d);
      }
      allowed = applyConnectionDecision(r, d);
      r.cache.end();
    }
  }
  decided.set(ctx, allowed ? ALLOWED : DENIED);
  return allowed ? Network.Continue : Network.StopIteration;
}

/** Upstream bytes of a denied connection go nowhere. */
export function onUpstreamData(ctx: u32): u32 {
  return decided.get(ctx) == DENIED ? Network.StopIteration : Network.Continue;
}

/** proxy_on_delete of a connection context. Returns true when ctx was one. */
export function connectionDeleted(ctx: u32): bool {
  return decided.delete(ctx);
}

/** Connections decided and not yet deleted (tests). */
export function connectionCount(): u32 {
  return decided.count;
}
