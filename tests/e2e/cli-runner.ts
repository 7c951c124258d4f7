// Runs the meshauthz CLI as a user would, in a child process.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const SHARED = fileURLToPath(new URL("../../../shared/", import.meta.url));

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

/** bin/meshauthz.js runs dist/ when it exists; while sources are newer than the last
 *  `npm run build:cli` (editing, running one test file), the tests run the sources instead. */
export const RUNS_DIST = (() => {
  try {
    return statSync(`${REPO}dist/cli/main.js`).mtimeMs >= newestMtime(`${REPO}tools`);
  } catch {
    return false;
  }
})();
export const CLI_ENV = RUNS_DIST ? process.env : { ...process.env, MESHAUTHZ_FROM_SOURCE: "1" };

export function meshauthz(args: string[], input?: string): CliResult {
  const r = spawnSync(process.execPath, [`${REPO}bin/meshauthz.js`, ...args], {
    cwd: REPO,
    env: CLI_ENV,
    input,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function lastJsonLine(stdout: string): any {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

let scratch: string | undefined;

/** A file in a fresh temporary folder; returns its path. */
export function tempFile(name: string, content: string | Uint8Array): string {
  scratch ??= mkdtempSync(join(tmpdir(), "meshauthz-test-"));
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}
