// Runs every decision case of the shared conformance corpus through the reference evaluator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { load } from "js-yaml";
import type { CaseFile, DecisionCase } from "../../tools/model/case-file.ts";
import { checkCase } from "./conformance.ts";

// The corpus lives in shared/, beside the repository checkout (MESHAUTHZ_CONFORMANCE overrides).
const CORPUS =
  process.env.MESHAUTHZ_CONFORMANCE ??
  fileURLToPath(new URL("../../../shared/conformance/istio-cases.yaml", import.meta.url));

test(
  "reference evaluator agrees with every decision case of istio-cases.yaml",
  { skip: existsSync(CORPUS) ? false : `conformance corpus not found at ${CORPUS}` },
  (t) => {
    const file = load(readFileSync(CORPUS, "utf8")) as CaseFile;
    const cases = file.cases ?? [];
    assert.ok(cases.length > 0, "corpus has no decision cases");
    const mismatches = cases.flatMap((c) => checkCase(c, file.meta));
    assert.deepEqual(mismatches, [], `${mismatches.length} mismatch(es) over ${cases.length} cases:\n${mismatches.join("\n")}`);
    t.diagnostic(`${cases.length} decision cases match`);
  },
);

test("the conformance check reports a wrong expectation (the check can fail)", () => {
  const c: DecisionCase = {
    id: "self-check",
    workload: { namespace: "default" },
    request: { protocol: "HTTP", method: "GET", path: "/" },
    expected: { decision: "DENY", decided_by: "none" },
  };
  assert.deepEqual(checkCase(c, undefined), [
    "self-check: decision ALLOW, expected DENY",
    "self-check: decided_by no-enforced-allow-policy, expected none",
  ]);
});
