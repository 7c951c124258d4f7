// `meshauthz test --junit FILE`: the report as JUnit XML, the shape GitLab (artifacts:reports:junit),
// Jenkins (junit step) and GitHub test-report actions read: testsuites > testsuite (one per case
// file) > testcase (one per case) with <failure> or <skipped>. Checked in tests against the
// Jenkins JUnit XSD (tests/e2e/ci-formats.test.ts).
import { basename, extname } from "node:path";
import type { TestReport } from "../cases/run-cases.ts";
import { openTag, xmlText } from "./xml.ts";

const secs = (s: number | undefined) => (s ?? 0).toFixed(3);

export function junitXml(caseFile: string, report: TestReport, opts: { timestamp?: Date } = {}): string {
  const suite = basename(caseFile, extname(caseFile));
  const total = report.results.reduce((t, r) => t + (r.seconds ?? 0), 0);
  const counts = { tests: report.total, failures: report.failed, errors: 0 };
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', openTag("testsuites", { name: "meshauthz test", ...counts, time: secs(total) })];
  out.push(
    `  ${openTag("testsuite", {
      name: caseFile,
      ...counts,
      skipped: report.skipped,
      time: secs(total),
      timestamp: (opts.timestamp ?? new Date()).toISOString().slice(0, 19),
    })}`,
  );
  for (const r of report.results) {
    const attrs = { name: r.id, classname: suite, time: secs(r.seconds) };
    if (r.status === "pass") {
      out.push(`    ${openTag("testcase", attrs, true)}`);
      continue;
    }
    out.push(`    ${openTag("testcase", attrs)}`);
    if (r.status === "skip") {
      // The Jenkins schema gives <skipped> text content only, no attributes.
      out.push(`      <skipped>${xmlText(r.reason)}</skipped>`);
    } else {
      const detail = `${r.reason}\nexpected: ${JSON.stringify(r.expected)}\nactual: ${JSON.stringify(r.actual)}`;
      out.push(`      ${openTag("failure", { message: r.reason, type: "meshauthz.CaseFailure" })}${xmlText(detail)}</failure>`);
    }
    out.push("    </testcase>");
  }
  out.push("  </testsuite>", "</testsuites>", "");
  return out.join("\n");
}
