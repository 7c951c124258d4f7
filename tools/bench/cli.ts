// npm run bench:cli [-- --policies N] [-- --runs R] [-- --json]
// The CLI as pipelines run it: wall time and peak resident memory of each command, in child
// processes of the built bin/meshauthz.js (the file `npm link` and global installs point at), on
// a generated N-policy YAML (default 10,000) and on the seed; bare `node -e 0` is the startup
// floor. Runs are interleaved and each figure is the median of R runs of this one invocation.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as yaml from "js-yaml";
import type { AuthorizationPolicy } from "../model/policy.ts";
import { BENCH_WORKLOAD, benchRequests, meshPolicies } from "./mesh-policies.ts";

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const N = flag("--policies", 10000);
const RUNS = flag("--runs", 5);
const json = argv.includes("--json");

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "bin/meshauthz.js");
const DIR = join(ROOT, "build/bench-cli");
const TIME = "/usr/bin/time";

/** The generated mesh, with the other fields real policies use (hosts, ports, notPaths, source
 *  namespaces, JWT claims, ipBlocks) sprinkled over it, so every validator and matcher kind runs. */
export function realisticPolicies(n: number): AuthorizationPolicy[] {
  return meshPolicies(n).map((p, k) => {
    for (const rule of p.spec?.rules ?? []) {
      const op = rule.to?.[0]?.operation;
      if (op && k % 5 === 0) {
        op.hosts = [`svc-${k}.ns.svc.cluster.local`, `svc-${k}.example.com`];
        op.ports = ["8080", "9090"];
      }
      if (op && k % 11 === 0) op.notPaths = ["/internal/*"];
      if (k % 13 === 0) rule.from?.push({ source: { namespaces: [`ns-${k % 40}`, "istio-system"], notPrincipals: ["cluster.local/ns/untrusted/sa/*"] } });
      if (k % 17 === 0) (rule.when ??= []).push({ key: "request.auth.claims[groups]", values: [`team-${k % 9}`] });
      if (k % 29 === 0) (rule.when ??= []).push({ key: "source.ip", values: ["10.0.0.0/8"], notValues: ["10.9.0.0/16"] });
    }
    return p;
  });
}

function writeInputs(): { policies: string; request: string; seedRequest: string } {
  mkdirSync(DIR, { recursive: true });
  const policies = join(DIR, `policies-${N}.yaml`);
  if (!existsSync(policies)) {
    writeFileSync(policies, realisticPolicies(N).map((p) => yaml.dump(p, { lineWidth: -1 })).join("---\n"));
  }
  const request = join(DIR, "request.yaml");
  writeFileSync(request, yaml.dump({ workload: BENCH_WORKLOAD, request: benchRequests(1)[0] }));
  const seedRequest = join(DIR, "seed-request.yaml");
  writeFileSync(
    seedRequest,
    yaml.dump({
      workload: { namespace: "default", labels: { app: "backend" } },
      request: { method: "GET", path: "/api/v1/data", host: "backend.default.svc.cluster.local", source_principal: "spiffe://cluster.local/ns/default/sa/frontend" },
    }),
  );
  return { policies, request, seedRequest };
}

interface Run {
  ms: number;
  /** user + system CPU time: on a shared machine, wall time also counts waiting for a core. */
  cpuMs: number | null;
  rssMb: number | null;
}

function runOnce(args: string[], expectStatus: number): Run {
  const timeFile = join(DIR, "time.txt");
  const useTime = existsSync(TIME);
  const cmd = useTime ? TIME : args[0];
  const cmdArgs = useTime ? ["-f", "%M %U %S", "-o", timeFile, ...args] : args.slice(1);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, cmdArgs, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== expectStatus) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
  if (!useTime) return { ms, cpuMs: null, rssMb: null };
  const [kb, user, sys] = readFileSync(timeFile, "utf8").trim().split("\n").at(-1)!.split(" ").map(Number);
  return { ms, cpuMs: (user + sys) * 1000, rssMb: kb / 1024 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, "dist/cli/main.js"))) throw new Error("dist/ is missing: npm run build first");
  const inputs = writeInputs();
  const node = process.execPath;
  const blob = join(DIR, "policy.blob");
  const commands: Array<{ name: string; args: string[]; status?: number }> = [
    { name: "node -e 0", args: [node, "-e", "0"] },
    { name: "seed check", args: [node, BIN, "check", "--policies", "deploy/examples/seed/manifests", "--request", inputs.seedRequest] },
    { name: `compile ${N}`, args: [node, BIN, "compile", inputs.policies, "-o", blob] },
    { name: `lint ${N}`, args: [node, BIN, "lint", inputs.policies] },
    { name: `check ${N}`, args: [node, BIN, "check", "--policies", inputs.policies, "--request", inputs.request] },
    { name: `check --blob ${N}`, args: [node, BIN, "check", "--blob", blob, "--request", inputs.request] },
    { name: `explain ${N}`, args: [node, BIN, "explain", "--policies", inputs.policies, "--request", inputs.request] },
    { name: `explain --all ${N}`, args: [node, BIN, "explain", "--all", "--policies", inputs.policies, "--request", inputs.request] },
  ];
  runOnce(commands[2].args, 0); // writes the blob check --blob reads, and warms the page cache
  const runs = new Map<string, Run[]>(commands.map((c) => [c.name, []]));
  for (let r = 0; r < RUNS; r++) {
    for (const c of commands) runs.get(c.name)!.push(runOnce(c.args, c.status ?? 0));
  }
  const rows = commands.map((c) => {
    const rs = runs.get(c.name)!;
    const rss = rs.map((x) => x.rssMb).filter((x): x is number => x !== null);
    const cpu = rs.map((x) => x.cpuMs).filter((x): x is number => x !== null);
    return {
      command: c.name,
      ms: +median(rs.map((x) => x.ms)).toFixed(1),
      cpu_ms: cpu.length ? +median(cpu).toFixed(0) : null,
      max_rss_mb: rss.length ? +Math.max(...rss).toFixed(1) : null,
    };
  });
  const floor = rows[0].ms;
  const summary = {
    node: process.version,
    policies: N,
    yaml_bytes: readFileSync(inputs.policies).length,
    runs: RUNS,
    rows: rows.map((r) => ({ ...r, over_node: +(r.ms / floor).toFixed(2) })),
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  process.stdout.write(`meshauthz CLI, ${N} policies (${(summary.yaml_bytes / 1e6).toFixed(1)} MB YAML), median of ${RUNS} interleaved runs, ${process.version}\n`);
  process.stdout.write(`${"command".padEnd(22)} ${"wall ms".padStart(9)} ${"x node".padStart(7)} ${"cpu ms".padStart(8)} ${"max RSS MB".padStart(11)}\n`);
  for (const r of summary.rows) {
    process.stdout.write(
      `${r.command.padEnd(22)} ${r.ms.toFixed(1).padStart(9)} ${r.over_node.toFixed(2).padStart(7)} ${String(r.cpu_ms ?? "n/a").padStart(8)} ${(r.max_rss_mb?.toFixed(1) ?? "n/a").padStart(11)}\n`,
    );
  }
  if (argv.includes("--clean")) rmSync(DIR, { recursive: true, force: true });
}

await main();
