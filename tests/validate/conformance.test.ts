// Runs every `validation_cases` entry of the shared conformance corpus through validatePolicy and checks
// valid / warning / message_contains.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { load } from "js-yaml";
import { validatePolicy } from "../../tools/validate/index.ts";
import { formatDiagnostic } from "../../tools/model/diagnostic.ts";
import type { CaseFile } from "../../tools/model/case-file.ts";

const CASES = process.env.MESHAUTHZ_CASES ?? "/work/shared/conformance/istio-cases.yaml";

if (!fs.existsSync(CASES)) {
  test("conformance validation_cases", { skip: `${CASES} not found` }, () => {});
} else {
  const file = load(fs.readFileSync(CASES, "utf8")) as CaseFile;
  const cases = file.validation_cases ?? [];

  test("the corpus has validation cases", () => {
    assert.ok(cases.length > 0, "no validation_cases in the corpus");
  });

  for (const c of cases) {
    test(`conformance ${c.id}`, () => {
      const diags = validatePolicy(c.policy);
      const shown = diags.map(formatDiagnostic).join("\n  ") || "(no diagnostics)";
      const valid = !diags.some((d) => d.severity === "error");
      const warning = diags.some((d) => d.severity === "warning");
      assert.equal(valid, c.expected.valid, `valid: expected ${c.expected.valid}, got:\n  ${shown}`);
      assert.equal(warning, c.expected.warning ?? false, `warning: expected ${c.expected.warning}, got:\n  ${shown}`);
      if (c.expected.message_contains !== undefined) {
        const needle = c.expected.message_contains;
        assert.ok(
          diags.some((d) => d.message.includes(needle)),
          `no diagnostic contains ${JSON.stringify(needle)}:\n  ${shown}`,
        );
      }
      for (const d of diags) {
        assert.equal(d.stage, "validate");
        assert.equal(d.policy, `${c.policy.metadata.namespace ?? "default"}/${c.policy.metadata.name}`);
      }
    });
  }
}
