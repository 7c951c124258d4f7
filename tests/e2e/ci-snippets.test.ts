// deploy/ci/: the CI snippets run the three CI commands, and the git pre-commit hook blocks a
// commit that stages an invalid policy.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import * as yaml from "js-yaml";
import { CLI_ENV, REPO } from "./cli-runner.ts";

test("the GitHub Actions and GitLab CI snippets lint to SARIF, test to JUnit and compile", () => {
  const gh = yaml.load(readFileSync(join(REPO, "deploy/ci/github-actions.yml"), "utf8")) as any;
  const runs = gh.jobs.policies.steps.map((s: any) => s.run ?? "").join("\n");
  const gl = (yaml.load(readFileSync(join(REPO, "deploy/ci/gitlab-ci.yml"), "utf8")) as any).meshauthz;
  for (const script of [runs, gl.script.join("\n")]) {
    assert.match(script, /meshauthz lint "\$POLICIES" -o sarif > meshauthz\.sarif/);
    assert.match(script, /meshauthz test "\$CASES" --junit meshauthz-junit\.xml/);
    assert.match(script, /meshauthz compile "\$POLICIES" -o policy\.blob/);
  }
  assert.equal(gl.artifacts.reports.junit, "meshauthz-junit.xml");
  assert.ok(gh.jobs.policies.steps.some((s: any) => String(s.uses).startsWith("github/codeql-action/upload-sarif") && s.if === "always()"));
});

const GOOD = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-get, namespace: default}
spec:
  rules: [{to: [{operation: {methods: ["GET"]}}]}]
`;

test("the pre-commit hook lets a valid policy through and blocks an invalid one", () => {
  const dir = mkdtempSync(join(tmpdir(), "meshauthz-hook-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  // `meshauthz` on PATH, as npm link would put it.
  writeFileSync(join(bin, "meshauthz"), `#!/bin/sh\nexec "${process.execPath}" "${REPO}bin/meshauthz.js" "$@"\n`);
  chmodSync(join(bin, "meshauthz"), 0o755);
  const repo = join(dir, "repo");
  mkdirSync(join(repo, "policies"), { recursive: true });
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8" });
  git("init", "-q");
  git("config", "user.email", "ci@example.invalid");
  git("config", "user.name", "ci");
  git("config", "core.hooksPath", join(REPO, "deploy/ci"));
  const env = { ...CLI_ENV, PATH: `${bin}:${process.env.PATH}` };
  const commit = () => spawnSync("git", ["commit", "-q", "-m", "policies"], { cwd: repo, env, encoding: "utf8" });

  writeFileSync(join(repo, "policies/allow.yaml"), GOOD);
  git("add", "-A");
  const ok = commit();
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);

  writeFileSync(join(repo, "policies/bad.yaml"), GOOD.replace("allow-get", "bad").replace('["GET"]', '[""]'));
  git("add", "-A");
  const blocked = commit();
  assert.equal(blocked.status, 1, blocked.stdout + blocked.stderr);
  assert.match(blocked.stdout + blocked.stderr, /policies\/bad\.yaml:5:\d+: error/);
});
