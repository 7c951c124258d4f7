// `meshauthz ... | head -1`: a reader that goes away ends the command quietly, for every command.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { CLI_ENV, REPO, tempFile } from "./cli-runner.ts";

/** Runs the CLI with its stdout already closed by the reader: every write fails with EPIPE. */
function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${REPO}bin/meshauthz.js`, ...args], { cwd: REPO, env: CLI_ENV, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

const request = tempFile(
  "pipe-request.yaml",
  `workload: {namespace: default, labels: {app: backend}}
request: {method: POST, path: /api/v1/data, source_principal: spiffe://cluster.local/ns/default/sa/frontend}
`,
);

for (const args of [
  ["explain", "--policies", "deploy/examples/seed/manifests", "--request", request],
  ["explain", "--all", "-o", "json", "--policies", "deploy/examples/seed/manifests", "--request", request],
  ["check", "--policies", "deploy/examples/seed/manifests", "--request", request],
  ["lint", "deploy/examples/seed/manifests"],
  ["test", "deploy/examples/seed/seed-cases.yaml", "-v"],
  ["compile", "deploy/examples/seed/manifests", "-o", "-"],
  ["coverage", "--policies", "deploy/examples/seed/manifests", "deploy/examples/seed/seed-cases.yaml"],
  ["diff", "--before", "deploy/examples/seed/manifests/allow-frontend-get-data.yaml", "--after", "deploy/examples/seed/manifests", "--requests", "deploy/examples/seed/seed-cases.yaml"],
  ["--help"],
]) {
  test(`meshauthz ${args[0]} ${args[1]}: no stack trace when stdout is closed`, async () => {
    const r = await withClosedStdout(args);
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled 'error' event|\n\s+at /, r.stderr);
    // The command's own exit code when it had finished, else 141 like a tool ended by SIGPIPE.
    assert.ok(r.code === 0 || r.code === 1 || r.code === 141, `exit ${r.code}: ${r.stderr}`);
  });
}
