// The CLI as users install it: `npm pack` (the package's `files`), a global install into a
// temporary prefix, and the `meshauthz` command on PATH, run outside the repository. The tarball
// carries dist/ and build/meshauthz.wasm but no TypeScript sources, so this proves the installed
// command runs the compiled JavaScript and needs no runtime dependencies.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { REPO, tempFile } from "./cli-runner.ts";

test("npm pack + npm install -g gives a working meshauthz that runs dist/", () => {
  assert.ok(existsSync(join(REPO, "dist/cli/main.js")), "dist/ is missing: npm run build");
  const dir = mkdtempSync(join(tmpdir(), "meshauthz-install-"));
  // Under `npm test`, PATH starts with node_modules/.bin, where as-pect's dependencies put an old
  // npm 6; the npm running the script is npm_execpath.
  const npmCli = process.env.npm_execpath?.endsWith("npm-cli.js") ? process.env.npm_execpath : undefined;
  const npm = (args: string[]) =>
    npmCli
      ? execFileSync(process.execPath, [npmCli, ...args], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
      : execFileSync("npm", args, { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  npm(["pack", "--ignore-scripts", "--silent", "--pack-destination", dir]);
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
  const listing = execFileSync("tar", ["-tzf", join(dir, tarball)], { encoding: "utf8" });
  assert.match(listing, /package\/dist\/cli\/main\.js/);
  assert.match(listing, /package\/build\/meshauthz\.wasm/);
  assert.doesNotMatch(listing, /package\/tools\//);
  // --offline: the package has no runtime dependencies to fetch (they are bundled into dist/).
  npm(["install", "-g", "--offline", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", join(dir, "prefix"), join(dir, tarball)]);
  const bin = join(dir, "prefix", "bin", "meshauthz");
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(dir, "prefix", "bin")}:${process.env.PATH}` };
  delete env.MESHAUTHZ_FROM_SOURCE;
  const run = (args: string[]) => spawnSync("meshauthz", args, { cwd: dir, env, encoding: "utf8" });
  assert.ok(existsSync(bin));

  const request = tempFile("installed-request.yaml", "workload: {namespace: default, labels: {app: backend}}\nrequest: {method: GET, path: /api/v1/data}\n");
  const check = run(["check", "--policies", join(REPO, "deploy/examples/seed/manifests"), "--request", request]);
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /^DENY \(403\) by ns\[default\]-policy\[deny-all-backend\]-rule\[0\]/);
  const t = run(["test", join(REPO, "deploy/examples/seed/seed-cases.yaml")]);
  assert.equal(t.status, 0, t.stdout + t.stderr);
  assert.match(t.stdout, /\d+ passed, 0 failed/);
  const sarif = run(["lint", join(REPO, "deploy/examples/seed/manifests"), "-o", "sarif"]);
  assert.equal(JSON.parse(sarif.stdout).version, "2.1.0");
});

test("a checkout that was never built runs the TypeScript sources", () => {
  const r = spawnSync(process.execPath, [join(REPO, "bin/meshauthz.js"), "--help"], { env: { ...process.env, MESHAUTHZ_FROM_SOURCE: "1" }, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^meshauthz: Istio AuthorizationPolicy/);
});
