// Cross-checks the host's copy of Envoy's import table against the independent checker
// (../shared/tools/envoy_abi_check.py) by parsing its ENV / WASI / CALLBACKS dicts as text.
// The host never imports or runs that script; this test only compares the two tables.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  ENVOY_ENV_BY_ABI,
  ENVOY_ENV_COMMON,
  ENVOY_WASI,
  envoyCallbackSignatures,
  envoyImportTable,
  formatFuncType,
  type FuncType,
} from "../../tools/host/index.ts";

const SCRIPT = fileURLToPath(new URL("../../../shared/tools/envoy_abi_check.py", import.meta.url));
const skip = existsSync(SCRIPT) ? false : `independent checker not present at ${SCRIPT} (e.g. CI without shared/)`;

/** Parses `NAME = { "x": sig([I]*3), "y": sig([I, L], ()), ... }` from the script text. */
function parseDict(text: string, name: string): Map<string, FuncType> {
  const start = text.indexOf(`${name} = {`);
  assert.ok(start >= 0, `${name} dict not found in the script`);
  const end = text.indexOf("\n}", start);
  const body = text.slice(start, end);
  const out = new Map<string, FuncType>();
  const entry = /"(\w+)":\s*sig\(\[([^\]]*)\](?:\*(\d+))?(?:,\s*\(([^)]*)\))?\)/g;
  for (const m of body.matchAll(entry)) {
    const [, fn, list, times, result] = m;
    const one = list.split(",").map((s) => s.trim()).filter(Boolean).map(typeName);
    const params = times ? Array.from({ length: Number(times) }, () => one).flat() : one;
    // sig(params) defaults to an i32 result; sig(params, ()) has none.
    const results = result === undefined ? ["i32"] : result.split(",").map((s) => s.trim()).filter(Boolean).map(typeName);
    out.set(fn, { params, results });
  }
  assert.ok(out.size > 0, `no entries parsed from ${name}`);
  return out;
}

function typeName(t: string): string {
  if (t === "I") return "i32";
  if (t === "L") return "i64";
  throw new Error(`unknown type token ${t}`);
}

function compare(label: string, theirs: Map<string, FuncType>, ours: Record<string, FuncType>): void {
  const problems: string[] = [];
  for (const [name, t] of theirs) {
    const mine = ours[name];
    if (!mine) problems.push(`${label}.${name}: in the checker, missing here`);
    else if (formatFuncType(mine) !== formatFuncType(t)) problems.push(`${label}.${name}: checker ${formatFuncType(t)}, here ${formatFuncType(mine)}`);
  }
  for (const name of Object.keys(ours)) if (!theirs.has(name)) problems.push(`${label}.${name}: here, not in the checker`);
  assert.deepEqual(problems, []);
}

test("env table for ABI 0.2.1 agrees with the independent checker, both ways", { skip }, () => {
  const text = readFileSync(SCRIPT, "utf8");
  compare("env", parseDict(text, "ENV"), { ...ENVOY_ENV_COMMON, ...ENVOY_ENV_BY_ABI["0.2.1"] });
});

test("WASI table agrees with the independent checker, both ways", { skip }, () => {
  const text = readFileSync(SCRIPT, "utf8");
  compare("wasi", parseDict(text, "WASI"), { ...ENVOY_WASI });
  // Both module names carry the same table.
  const table = envoyImportTable("0.2.1");
  assert.deepEqual(table.wasi_unstable, table.wasi_snapshot_preview1);
});

test("callback signatures agree with the checker's CALLBACKS", { skip }, () => {
  const text = readFileSync(SCRIPT, "utf8");
  const theirs = parseDict(text, "CALLBACKS");
  const ours = envoyCallbackSignatures("0.2.1");
  for (const [name, t] of theirs) {
    assert.ok(ours[name], `${name} missing from the host's callback table`);
    assert.equal(formatFuncType(ours[name]), formatFuncType(t), name);
  }
});

test("ABI-specific functions follow the spec (no checker needed)", () => {
  const t010 = envoyImportTable("0.1.0").env;
  const t020 = envoyImportTable("0.2.0").env;
  const t021 = envoyImportTable("0.2.1").env;
  assert.ok(t010.proxy_clear_route_cache && t010.proxy_get_configuration && t010.proxy_continue_request);
  assert.ok(!t010.proxy_continue_stream && !t010.proxy_get_log_level);
  assert.ok(t020.proxy_continue_stream && t020.proxy_close_stream && !t020.proxy_get_log_level && !t020.proxy_clear_route_cache);
  assert.ok(t021.proxy_get_log_level && t021.proxy_continue_stream && !t021.proxy_clear_route_cache);
  for (const n of ["abort", "trace", "seed", "Date.now", "console.log"]) assert.equal(t021[n], undefined, `env.${n} must not exist`);
  assert.equal(formatFuncType(t021.proxy_increment_metric), "(i32, i64) -> (i32)");
  assert.equal(formatFuncType(envoyImportTable(null).wasi_unstable.proc_exit), "(i32) -> ()");
  assert.equal(envoyCallbackSignatures("0.1.0").proxy_on_request_headers.params.length, 2);
  assert.equal(envoyCallbackSignatures("0.2.1").proxy_on_request_headers.params.length, 3);
});
