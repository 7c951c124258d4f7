// Issue 9 (classes 1, 2, 3, 7) end to end: tests/e2e/cases/issue9.yaml through `meshauthz test`,
// the compiler and the real .wasm in the Envoy-like host.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { lastJsonLine, meshauthz } from "./cli-runner.ts";

const CASES = fileURLToPath(new URL("./cases/issue9.yaml", import.meta.url));

test("issue 9 cases: RE2 .+, typed claims, struct-only paths, space-delimited claims", () => {
  const r = meshauthz(["test", CASES, "-o", "json"]);
  const report = lastJsonLine(r.stdout);
  const failures = report.results.filter((x: any) => x.status !== "pass").map((x: any) => `${x.id}: ${x.reason}`);
  assert.deepEqual(failures, []);
  assert.equal(r.status, 0);
  assert.ok(report.total >= 25);
});

test("a RequestAuthentication in a case file is validated", () => {
  const bad = CASES.replace("issue9.yaml", "bad-request-authentication.yaml");
  const r = meshauthz(["test", bad, "-o", "json"]);
  const report = lastJsonLine(r.stdout);
  assert.equal(r.status, 1);
  assert.match(report.results[0].reason, /policies\[1\]\.spec\.jwtRules\[0\]\.issuer: issuer must be set/);
  assert.match(report.results[0].reason, /spaceDelimitedClaims\[0\]: must be a non-empty string/);
});
