// The AssemblyScript unit tests (tests/assembly/*.spec.ts) run by as-pect, reported here one
// test per spec file so that node's test runner, whose summary CI reads, counts them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../", import.meta.url));
const run = spawnSync(process.execPath, [`${repo}node_modules/@as-pect/cli/bin/asp.js`, "--config", "as-pect.config.js"], {
  cwd: repo,
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
});
const output = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
const files = [...output.matchAll(/^(✔|❌) (\S+\.spec\.ts) Pass: (\d+) \/ (\d+)/gm)];

test("as-pect ran every spec file", () => {
  assert.ok(files.length > 0, `no as-pect results in its output:\n${output.slice(-4000)}`);
  assert.match(output, /\[Result\]: ✔ Pass!/, output.slice(-4000));
  assert.equal(run.status, 0);
});

for (const [, mark, file, passed, total] of files) {
  test(`as-pect ${file}: ${passed}/${total}`, () => {
    const failed = output.split(`${mark} ${file}`)[1]?.split(/\n(?=✔|❌|\s*\[Summary\])/)[0] ?? "";
    assert.equal(mark, "✔", failed);
    assert.equal(passed, total);
  });
}
