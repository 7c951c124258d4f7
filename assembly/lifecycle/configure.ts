// proxy_on_configure: plugin configuration -> blob -> tables -> engines for this workload.
// Any failure leaves a plugin that denies every request (fail closed) and is logged at critical
// with its reason; the callback still returns 1 so Envoy keeps the filter in the chain.
import { Status } from "../abi/codes";
import { getPluginConfig } from "../abi/plugin-config";
import { lastLen, lastPtr } from "../abi/value";
import { logCritical, logInfo } from "../abi/log";
import { setTickPeriod } from "../abi/metrics";
import { ConfigError, EngineKind, parsePluginConfig } from "../config/plugin-config";
import { decodeBlob } from "../decode/decoder";
import { DecodeError } from "../decode/errors";
import { Plugin, buildPlugin } from "../decide/plugin";
import { readWorkload } from "../decide/workload";
import { defineCounters } from "../report/counters";
import { buildPolicyCounters } from "../report/policy-counters";
import { bytesToString } from "../bytes/range";
import { Delivery, Role } from "../delivery/role";

/** How often pending counts are added to Envoy's counters. */
const TICK_MS: u32 = 1000;

/** Builds a plugin from a configuration buffer (ownership taken) for the current node. */
export function configureFrom(p: usize, n: usize): Plugin {
  const cfg = parsePluginConfig(p, n);
  if (cfg.error != ConfigError.None) return Plugin.failed(cfg.message);
  const d = decodeBlob(cfg.blob, cfg.blobLen);
  const t = d.tables;
  if (d.error != DecodeError.None || t === null) {
    heap.free(cfg.blob);
    const f = Plugin.failed("policy blob rejected (" + d.message + ")");
    f.network = cfg.network;
    return f;
  }
  const w = readWorkload();
  if (w.error.length > 0) {
    t.dispose();
    const f = Plugin.failed(w.error);
    f.network = cfg.network;
    return f;
  }
  if (cfg.role == Role.Namespace && !w.inNamespace(cfg.namespace)) {
    // Istio delivers a namespace's WasmPlugin to that namespace's sidecars only; anything else is
    // a misconfiguration, and its marker would make the root instance skip this workload.
    t.dispose();
    return Plugin.failed("pluginConfig: role \"namespace\" for namespace \"" + cfg.namespace + "\" loaded by a workload in namespace \"" + w.namespaceText() + "\"");
  }
  const plugin = buildPlugin(t, w, cfg.engine, cfg.network);
  plugin.network = cfg.network;
  const rt = plugin.rt;
  if (rt !== null) {
    rt.policyCounters = buildPolicyCounters(t, rt.ruleBlob, rt.ruleCount, cfg.counters, cfg.network);
    rt.decisionLog = cfg.decisionLog;
    rt.denyHeader = cfg.denyHeader;
    if (cfg.role != Role.Standalone) rt.delivery = Delivery.create(cfg.role, cfg.rootDigest);
  }
  plugin.role = cfg.role;
  plugin.bufferCap = cfg.bufferCap;
  return plugin;
}

export function configure(size: u32): Plugin {
  setTickPeriod(TICK_MS);
  let plugin: Plugin;
  if (size == 0) {
    plugin = Plugin.failed("no plugin configuration (expected pluginConfig {\"policy\": \"<base64>\"})");
  } else {
    const st = getPluginConfig(size);
    plugin = st == Status.Ok ? configureFrom(lastPtr(), lastLen()) : Plugin.failed("cannot read the plugin configuration (status " + st.toString() + ")");
  }
  // The counter family of what this root decides (an invalid config still counts its denials:
  // as HTTP unless it asked for the network mode).
  defineCounters(plugin.network);
  if (plugin.invalid) defineCounters(!plugin.network);
  if (plugin.invalid) {
    logCritical("meshauthz: invalid configuration, denying every request: " + plugin.reason);
  } else {
    const t = plugin.tables!;
    logInfo(
      "meshauthz: " + plugin.policyCount.toString() + " of " + t.policyCount.toString() + " policies and " +
        plugin.ruleCount.toString() + " rules apply" + (plugin.network ? " to connections (network filter, " : " (") +
        (plugin.engineKind == EngineKind.Linear ? "linear" : "indexed") +
        " engine, " + roleName(plugin.role) + ", blob by " + bytesToString(t.strPtr(t.generator), t.strLen(t.generator)) + ")",
    );
  }
  return plugin;
}

function roleName(r: Role): string {
  return r == Role.Namespace ? "namespace role" : r == Role.Root ? "root role" : "standalone";
}
