// Compiler robustness through the CLI (issue #5): malformed YAML, wrong types, unknown fields, YAML bombs,
// deep nesting, huge files, binary garbage -> a clear error (file:line:col where there is a position), exit
// 1, no stack trace, and the process finishes on its own within a 256 MiB heap (a hang guard kills it after
// a generous limit; that is a bound, not a timing assertion).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { REPO, tempFile } from "../e2e/cli-runner.ts";

const HEAP_MB = 256;
const HANG_GUARD_MS = 180_000;

function compile(name: string, content: string | Uint8Array): { status: number | null; signal: string | null; stderr: string; file: string } {
  const file = tempFile(name, content);
  const r = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, `${REPO}bin/meshauthz.js`, "compile", file, "-o", tempFile(`${name}.blob`, "")], {
    cwd: REPO,
    encoding: "utf8",
    timeout: HANG_GUARD_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, signal: r.signal, stderr: r.stderr, file };
}

/** Exit 1, an `error:` line (at file:line:col when `located`), no stack trace, no internal error. */
function assertCleanError(r: ReturnType<typeof compile>, located: boolean, needle?: RegExp, maxStderr = 200_000): void {
  assert.equal(r.signal, null, `killed (${r.signal}): hang or out of memory`);
  assert.equal(r.status, 1, r.stderr.slice(0, 2000));
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at .+:\d+:\d+|FATAL ERROR|heap out of memory/i, "stack trace or crash");
  const escaped = r.file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  assert.match(r.stderr, located ? new RegExp(`${escaped}:\\d+:\\d+: error: `) : /error/, r.stderr.slice(0, 2000));
  if (needle) assert.match(r.stderr, needle);
  assert.ok(r.stderr.length < maxStderr, `error output is ${r.stderr.length} bytes`);
}

const POLICY = (body: string) => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: p\n  namespace: shop\nspec:\n${body}`;

describe("compiler robustness (CLI)", () => {
  test("malformed YAML: position and no stack trace", () => {
    assertCleanError(compile("unclosed.yaml", POLICY("  rules: [{to: [{operation: {methods: [GET]}}]\n")), true);
    assertCleanError(compile("indent.yaml", POLICY("  rules:\n  - to:\n     - operation:\n    methods: [GET]\n")), true);
    assertCleanError(compile("tab.yaml", POLICY("\trules: []\n")), true);
    assertCleanError(compile("dupkey.yaml", POLICY("  action: DENY\n  action: ALLOW\n  rules: [{}]\n")), true);
    assertCleanError(compile("badquote.yaml", POLICY('  rules: [{when: [{key: "request.headers[x, values: [a]}]}]\n')), true);
  });

  test("wrong types are errors with the field path", () => {
    assertCleanError(compile("rules-string.yaml", POLICY('  rules: "everything"\n')), true, /spec\.rules: .*must be of type array/);
    assertCleanError(compile("principals-int.yaml", POLICY("  rules: [{from: [{source: {principals: [1, true]}}]}]\n")), true, /principals\[0\]/);
    assertCleanError(compile("action-int.yaml", POLICY("  action: 3\n  rules: [{}]\n")), true, /spec\.action/);
    assertCleanError(compile("metadata-list.yaml", "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: [a, b]\nspec: {}\n"), true);
    assertCleanError(compile("yes-bool.yaml", POLICY("  rules: [{to: [{operation: {methods: [yes]}}]}]\n")), true, /methods\[0\]/);
  });

  test("unknown fields: `principal:` is an error, with a hint", () => {
    const r = compile("principal.yaml", POLICY("  rules:\n  - from:\n    - source:\n        principal: [cluster.local/ns/a/sa/b]\n"));
    assertCleanError(r, true, /unknown field "spec\.rules\[0\]\.from\[0\]\.source\.principal" \(did you mean "principals"\?\)/);
    assertCleanError(compile("rule.yaml", POLICY("  rule: [{}]\n")), true, /unknown field "spec\.rule"/);
    assertCleanError(compile("nmae.yaml", "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  nmae: p\n  name: p\nspec: {}\n"), true, /metadata\.nmae/);
  });

  test("YAML bombs: billion laughs, recursive alias, merge-key fan-out, deep nesting", () => {
    const laughs = ["a: &a [x,x,x,x,x,x,x,x,x,x]"];
    for (let i = 1; i < 10; i++) {
      const p = String.fromCharCode(96 + i);
      const n = String.fromCharCode(97 + i);
      laughs.push(`${n}: &${n} [${new Array(10).fill(`*${p}`).join(",")}]`);
    }
    assertCleanError(compile("laughs.yaml", laughs.join("\n") + "\n"), true, /alias|bomb|expand/i);
    assertCleanError(compile("recursive.yaml", "a: &a [*a]\n"), true);
    const merge = ["a0: &a0 {k0: 1, k1: 2, k2: 3, k3: 4, k4: 5, k5: 6, k6: 7, k7: 8}"];
    for (let i = 1; i < 8; i++) merge.push(`a${i}: &a${i} [${new Array(10).fill(`*a${i - 1}`).join(", ")}]`);
    assertCleanError(compile("merge.yaml", merge.join("\n") + "\n"), true);
    assertCleanError(compile("deep.yaml", "[".repeat(100_000) + "]".repeat(100_000) + "\n"), false);
    assertCleanError(compile("deep-map.yaml", Array.from({ length: 5000 }, (_, i) => " ".repeat(i) + "a:").join("\n") + " 1\n"), false);
  });

  test("huge inputs: over the size bound, one giant value, thousands of policies", () => {
    assertCleanError(compile("over.yaml", "# " + "x".repeat(17 * 1024 * 1024) + "\n"), false, /larger than/);
    // a single 8 MiB principal: a valid policy; it must compile or be refused cleanly, within the heap bound
    const giant = compile("giant.yaml", POLICY(`  rules: [{from: [{source: {principals: ["${"p".repeat(8 * 1024 * 1024)}"]}}]}]\n`));
    assert.equal(giant.signal, null);
    assert.ok(giant.status === 0 || giant.status === 1, giant.stderr.slice(0, 500));
    assert.doesNotMatch(giant.stderr, /internal error|\n\s+at .+:\d+:\d+|heap out of memory/i);
    // 3000 valid policies in one stream compile
    const many = Array.from({ length: 3000 }, (_, i) => POLICY(`  rules: [{to: [{operation: {paths: ["/p${i}/*"], methods: [GET]}}]}]\n`).replace("name: p", `name: p${i}`)).join("---\n");
    const ok = compile("many.yaml", many);
    assert.equal(ok.status, 0, ok.stderr.slice(0, 1000));
    assert.match(ok.stderr, /compiled 3000 policies/);
    // and 3000 broken ones: errors in proportion (a few lines per policy), no stack traces
    assertCleanError(compile("many-bad.yaml", many.replaceAll("methods: [GET]", "method: [GET]")), true, /did you mean "methods"/, 3000 * 500);
  });

  test("binary garbage, NUL bytes, invalid UTF-8, empty input", () => {
    const garbage = new Uint8Array(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 2654435761) >>> 24;
    assertCleanError(compile("garbage.yaml", garbage), false);
    assertCleanError(compile("nul.yaml", POLICY("  rules: [{to: [{operation: {methods: [\"G\0T\"]}}]}]\n").replace("\\0", "\0")), false);
    const invalidUtf8 = Buffer.concat([Buffer.from(POLICY('  rules: [{to: [{operation: {paths: ["/')), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"]}}]}]\n')]);
    const r = compile("invalid-utf8.yaml", invalidUtf8);
    assert.equal(r.signal, null);
    assert.ok(r.status === 0 || r.status === 1);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at .+:\d+:\d+/);
    const empty = compile("empty.yaml", "");
    assert.equal(empty.signal, null);
    assert.ok(empty.status === 0 || empty.status === 1, empty.stderr);
    assert.doesNotMatch(empty.stderr, /internal error|\n\s+at .+:\d+:\d+/);
  });
});
