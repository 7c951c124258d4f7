// Errors the user can fix are messages, never stack traces.
import assert from "node:assert/strict";
import { test } from "node:test";
import { meshauthz, tempFile } from "./cli-runner.ts";

test("a missing filter module says how to build it, without a stack trace", () => {
  const request = tempFile("errors-request.yaml", "workload: {namespace: default}\nrequest: {method: GET, path: /}\n");
  const r = meshauthz(["check", "--wasm", "/nonexistent/meshauthz.wasm", "--policies", "deploy/examples/seed/manifests", "--request", request]);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr, "meshauthz: cannot read the filter module /nonexistent/meshauthz.wasm: run `npm run build` first\n");
});
