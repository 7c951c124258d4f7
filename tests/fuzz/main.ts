// `npm run fuzz -- ...`: long fuzzing campaigns against build/meshauthz.wasm (issue #5).
//
//   --cases N [--seed S] [--requests R] [--shrink K]   differential fuzzing, N request cases
//   --hostile N [--seed S]                             hostile requests (limits, NUL, IPv6, path confusion), N cases
//   --blobs N [--seed S]                               hostile blobs and plugin configurations
//   --memory N [--seed S]                              N requests through one VM pair after warm-up
//   --reconfigure N                                    peak memory of a pluginConfig update at N policies
//   --replay FILE                                      a case file through the filter AND the reference, every field
//   --json                                             last line: one JSON object with the numbers
//   --out PATH                                         where reproducing case files go (default .scratch/fuzz-repro-*.yaml)
//   --wasm FILE                                        filter module (default build/meshauthz.wasm)
//
// Exit code: 0 when nothing was found, 1 when a mismatch, trap or fail-open was found, 2 on usage errors.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import fc from "fast-check";
import { load } from "js-yaml";
import { readFilterWasm } from "../../tools/cases/filter-decision.ts";
import { meshSettings } from "../../tools/cases/case-file.ts";
import type { CaseFile } from "../../tools/model/case-file.ts";
import { compilePolicyObjects } from "../../tools/pipeline/policy-set.ts";
import { scenarioArb } from "./arbitraries.ts";
import { type Campaign, judge, newStats, observe, reproCase, reproFile, runCampaign, runScenario, type Stats } from "./differential.ts";
import { runBlobCampaign } from "./hostile-blobs.ts";
import { hostileScenarioArb } from "./hostile-requests.ts";
import { memoryCampaign, reconfigureMemory } from "./memory.ts";
import { minimize } from "./minimize.ts";
import { startFilter } from "../../tools/cases/filter-decision.ts";
import { pluginConfigJson } from "../../tools/pipeline/plugin-config.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

function usage(msg: string): never {
  process.stderr.write(`fuzz: ${msg}\nusage: npm run fuzz -- (--cases N | --hostile N | --blobs N | --memory N | --replay FILE) [--seed S] [--json] [--out PATH]\n`);
  process.exit(2);
}

const { values } = parseArgs({
  args: process.argv.slice(2),
  strict: true,
  options: {
    cases: { type: "string" },
    hostile: { type: "string" },
    blobs: { type: "string" },
    memory: { type: "string" },
    reconfigure: { type: "string" },
    replay: { type: "string" },
    seed: { type: "string" },
    requests: { type: "string" },
    shrink: { type: "string" },
    json: { type: "boolean" },
    out: { type: "string" },
    wasm: { type: "string" },
  },
});

const num = (v: string | undefined, name: string, dflt: number): number => {
  if (v === undefined) return dflt;
  const n = Number(v.replace(/_/g, ""));
  if (!Number.isInteger(n) || n < 0) usage(`--${name} wants a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
};

const seed = num(values.seed, "seed", Date.now() % 1_000_000_007);
const wasm = readFilterWasm(values.wasm ?? new URL("../../build/meshauthz.wasm", import.meta.url));
const json = values.json === true;
const info = (s: string) => process.stderr.write(s + "\n");
const started = performance.now();
const seconds = () => Math.round((performance.now() - started) / 100) / 10;

function writeRepro(yaml: string, n: number): string {
  const base = values.out ?? join(REPO, ".scratch", `fuzz-repro-${seed}.yaml`);
  const path = n === 0 ? base : base.replace(/(\.ya?ml)?$/, (ext) => `-${n + 1}${ext || ".yaml"}`);
  mkdirSync(dirname(resolve(path)), { recursive: true });
  writeFileSync(path, yaml);
  return path;
}

function finish(result: Record<string, unknown>, bad: boolean): never {
  const line = JSON.stringify(result);
  if (json) process.stdout.write(line + "\n");
  else info(line);
  process.exit(bad ? 1 : 0);
}

function reportRepros(c: Campaign): string[] {
  const files: string[] = [];
  c.repros.forEach((r, i) => {
    process.stderr.write(`\n--- mismatch ${r.signature}: ${r.problems.join("; ")}\n${r.yaml}\n`);
    const f = writeRepro(r.yaml, i);
    files.push(f);
    info(`reproduce: npx meshauthz test ${f}   (all fields: npm run fuzz -- --replay ${f})`);
  });
  return files;
}

function summary(s: Stats) {
  return {
    cases: s.cases, mismatches: s.mismatches, traps: s.traps, scenarios: s.scenarios, linear_scenarios: s.linear_scenarios, generator_rejects: s.generator_rejects,
    xff_cases: s.xff_cases, tcp_cases: s.tcp_cases, allow: s.allow, deny: s.deny, rule_decided: s.rule_decided, shadow_cases: s.shadow_cases, audit_cases: s.audit_cases,
    signatures: s.signatures, deviations: s.deviations, undeliverable: s.undeliverable,
  };
}

if (values.replay) {
  // Every decision case of a case file through the filter and the reference (with the documented deviation).
  const file = load(readFileSync(values.replay, "utf8")) as CaseFile;
  let bad = 0;
  let n = 0;
  for (const c of file.cases ?? []) {
    n++;
    const mesh = meshSettings(file.meta, c.mesh);
    const policies = c.policies ?? [];
    const compiled = compilePolicyObjects(policies, mesh);
    if (!compiled.blob) {
      bad++;
      info(`${c.id}: policies rejected: ${compiled.diagnostics.filter((d) => d.severity === "error").map((d) => d.message).join("; ")}`);
      continue;
    }
    const filter = await startFilter(wasm, pluginConfigJson(compiled.blob), c.workload);
    const obs = observe(filter, c.request);
    const v = judge(policies, c.workload, c.request, mesh, obs);
    const ref = v.reference;
    const problems = v.deviation ? [] : v.problems;
    if (problems.length > 0) bad++;
    const dev = v.deviation ? `documented deviation ${v.deviation.names.join("+")}${v.deviation.allowSide ? " (allow side)" : ""}: ${v.problems.join("; ")}` : null;
    info(`${c.id}: ${dev ?? (problems.length === 0 ? "agree" : problems.join("; "))}\n  reference ${JSON.stringify(ref)}\n  filter    ${JSON.stringify(obs)}`);
  }
  finish({ cases: n, mismatches: bad }, bad > 0);
}

if (values.cases !== undefined) {
  const cases = num(values.cases, "cases", 10000);
  info(`differential: ${cases} cases, seed ${seed}`);
  let last = 0;
  const c = await runCampaign(wasm, {
    seed,
    cases,
    requests: num(values.requests, "requests", 200),
    shrink: num(values.shrink, "shrink", 3),
    onProgress: (s) => {
      if (s.cases - last >= 100000) {
        last = s.cases;
        info(`  ${s.cases} cases, ${s.mismatches} mismatches, ${s.traps} traps, ${seconds()} s`);
      }
    },
  });
  const files = reportRepros(c);
  const s = c.stats;
  finish({ ...summary(s), seed, seconds: seconds(), repro_files: files }, s.mismatches > 0 || s.traps > 0 || s.generator_rejects > 0);
}

if (values.hostile !== undefined) {
  const cases = num(values.hostile, "hostile", 10000);
  info(`hostile requests: ${cases} cases, seed ${seed}`);
  const stats = newStats();
  const repros: string[] = [];
  const seen = new Set<string>();
  for (let b = 0; stats.cases < cases; b++) {
    for (const sc of fc.sample(hostileScenarioArb(20), { seed: (seed + b * 7919) | 0, numRuns: 50 })) {
      if (stats.cases >= cases) break;
      const ms = await runScenario(wasm, sc, stats);
      for (const m of ms) {
        if (seen.has(m.signature) || seen.size >= num(values.shrink, "shrink", 3)) continue;
        seen.add(m.signature);
        const min = await minimize(wasm, { mesh: sc.mesh, policies: sc.policies, workload: m.workload, request: m.request, signature: m.signature }, 1000);
        const one = min ?? { policies: sc.policies, workload: m.workload, request: m.request, mismatch: m };
        const yaml = reproFile({ mesh: sc.mesh, policies: one.policies }, [reproCase({ mesh: sc.mesh, policies: one.policies }, one.mismatch, `fuzz-hostile-${seed}-${repros.length + 1}`, `meshauthz hostile-request fuzzer, seed ${seed}, batch ${b}, minimized`)]);
        process.stderr.write(`\n--- mismatch ${m.signature}: ${one.mismatch.problems.join("; ")}\n${yaml}\n`);
        repros.push(writeRepro(yaml, repros.length));
      }
    }
  }
  finish({ ...summary(stats), seed, seconds: seconds(), repro_files: repros }, stats.mismatches > 0 || stats.traps > 0);
}

if (values.blobs !== undefined) {
  const n = num(values.blobs, "blobs", 10000);
  info(`hostile blobs: ${n}, seed ${seed}`);
  // bases: the shared vectors and a few generated policy sets (many leaf kinds, patterns, CIDRs)
  const bases: Uint8Array[] = ["minimal", "all-kinds", "seed"].map((v) => new Uint8Array(readFileSync(join(REPO, "tests", "vectors", `${v}.blob`))));
  for (const sc of fc.sample(scenarioArb({ requests: 1, maxPolicies: 8 }), { seed, numRuns: 20 })) {
    const b = compilePolicyObjects(sc.policies, sc.mesh).blob;
    if (b) bases.push(b);
  }
  const s = await runBlobCampaign(wasm, bases, n, seed, (st) => {
    if (st.blobs % 10000 === 0) info(`  ${st.blobs} blobs, ${st.traps} traps, ${st.violations} violations, ${seconds()} s`);
  });
  for (const p of s.problems) info(`problem: blob #${p.index} (${p.kind}) with --seed ${seed}: ${p.problem}`);
  const pct = (a: number, b: number) => (b === 0 ? 100 : Math.round((10000 * a) / b) / 100);
  finish(
    {
      blobs: s.blobs, traps: s.traps, fail_closed: s.fail_closed, accepted: s.accepted,
      crc_wrong: s.crc_wrong, crc_wrong_rejected: s.crc_wrong_rejected, crc_wrong_rejected_pct: pct(s.crc_wrong_rejected, s.crc_wrong),
      crc_fixed: s.crc_fixed, crc_fixed_rejected: s.crc_fixed_rejected, crc_fixed_accepted: s.crc_fixed_accepted,
      config_texts: s.config_texts, option_texts: s.option_texts, violations: s.violations, seed, seconds: seconds(),
    },
    s.traps > 0 || s.violations > 0,
  );
}

if (values.reconfigure !== undefined) {
  const n = num(values.reconfigure, "reconfigure", 10_000);
  info(`reconfigure: a pluginConfig update at ${n} policies with a stream holding the old configuration`);
  const r = await reconfigureMemory(wasm, n);
  finish({ ...r, seconds: seconds() }, r.peak_over_steady > 2 || r.settled_bytes > r.peak_bytes);
}
if (values.memory !== undefined) {
  const n = num(values.memory, "memory", 1_000_000);
  info(`memory: ${n} requests through one VM pair, seed ${seed}`);
  const r = await memoryCampaign(wasm, n, seed, (done) => info(`  ${done} requests, ${seconds()} s`));
  finish({ ...r, seed, seconds: seconds() }, r.memory_after !== r.memory_before || r.traps > 0);
}

usage("nothing to do");
