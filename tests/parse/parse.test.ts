import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadPolicies, loadPolicyText, MAX_FILE_BYTES } from "../../tools/parse/index.ts";
import { formatDiagnostic } from "../../tools/model/diagnostic.ts";
import type { LoadResult } from "../../tools/parse/index.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "meshauthz-parse-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(rel: string, text: string | Buffer): string {
  const full = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, text);
  return full;
}

function show(r: LoadResult): string {
  return r.diagnostics.map(formatDiagnostic).join("\n") || "(no diagnostics)";
}

const POLICY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-frontend
  namespace: shop
spec:
  selector:
    matchLabels:
      app: backend
  rules:
  - from:
    - source:
        principals:
        - cluster.local/ns/shop/sa/frontend
        - "cluster.local/ns/shop/sa/admin"
    to:
    - operation:
        methods: ["GET", 'POST']
`;

describe("documents and kinds", () => {
  test("a single policy, with its fields", () => {
    const r = loadPolicyText(POLICY, "p.yaml");
    assert.equal(r.diagnostics.length, 0, show(r));
    assert.equal(r.policies.length, 1);
    const p = r.policies[0];
    assert.equal(p.file, "p.yaml");
    assert.equal(p.documentIndex, 0);
    assert.equal(p.namespaceDefaulted, false);
    assert.equal(p.policy.metadata.namespace, "shop");
    assert.deepEqual(p.policy.spec?.rules?.[0].to?.[0].operation?.methods, ["GET", "POST"]);
  });

  test("multi-document stream: policies, other kinds skipped, empty documents ignored", () => {
    const text = [
      "---",
      POLICY,
      "---",
      "# only a comment",
      "---",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
      "---",
      "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}",
      "---",
      POLICY.replace("allow-frontend", "second").replace("  namespace: shop\n", ""),
      "...",
      "",
    ].join("\n");
    const r = loadPolicyText(text, "multi.yaml");
    // The one diagnostic: "second" has no namespace (issue 9 class 6: a warning, kubectl would use -n).
    assert.equal(r.diagnostics.length, 1, show(r));
    assert.equal(r.diagnostics[0].severity, "warning");
    assert.match(r.diagnostics[0].message, /metadata\.namespace is not set/);
    assert.deepEqual(r.policies.map((p) => [p.policy.metadata.name, p.documentIndex]), [["allow-frontend", 0], ["second", 4]]);
    assert.deepEqual(
      r.skipped.map((s) => [s.kind, s.documentIndex, s.name, s.apiVersion, s.location?.line]),
      [["Deployment", 2, "web", "apps/v1", 24], ["ServiceAccount", 3, "sa", "v1", 30]],
    );
  });

  test("missing namespace defaults to 'default' and is recorded", () => {
    const r = loadPolicyText("apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata:\n  name: x\n", "d.yaml");
    assert.equal(r.policies.length, 1);
    assert.equal(r.policies[0].policy.metadata.namespace, "default");
    assert.equal(r.policies[0].namespaceDefaulted, true);
  });

  test("kind: List as kubectl get -o yaml prints it, items located inside the list", () => {
    const text = `apiVersion: v1
items:
- apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata:
    name: one
    namespace: a
    resourceVersion: "123"
  spec:
    action: DENY
    rules:
    - to:
      - operation:
          paths: ["/admin"]
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: cm}
- apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata:
    name: two
    namespace: b
kind: List
metadata:
  resourceVersion: ""
`;
    const r = loadPolicyText(text, "list.yaml");
    assert.equal(r.diagnostics.length, 0, show(r));
    assert.deepEqual(r.policies.map((p) => [p.policy.metadata.name, p.itemIndex, p.documentIndex]), [["one", 0, 0], ["two", 2, 0]]);
    assert.deepEqual(r.skipped.map((s) => [s.kind, s.itemIndex]), [["ConfigMap", 1]]);
    assert.deepEqual(r.policies[0].locate("spec.rules[0].to[0].operation.paths[0]"), { file: "list.yaml", line: 14, column: 19 });
    assert.deepEqual(r.policies[1].locate("metadata.name"), { file: "list.yaml", line: 21, column: 5 });
    assert.deepEqual(r.policies[1].locate(""), { file: "list.yaml", line: 18, column: 3 });
  });

  test("JSON documents, and a JSON List", () => {
    const obj = {
      apiVersion: "v1",
      kind: "List",
      items: [{ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "j", namespace: "n" }, spec: { rules: [{}] } }],
    };
    const r = loadPolicyText(JSON.stringify(obj, null, "\t"), "x.json");
    assert.equal(r.diagnostics.length, 0, show(r));
    assert.equal(r.policies[0].policy.metadata.name, "j");
    // line 14 is five tabs then "{}"
    assert.deepEqual(r.policies[0].locate("spec.rules[0]"), { file: "x.json", line: 14, column: 6 });
  });

  test("a document that is not a mapping is an error", () => {
    for (const [text, what] of [["just text\n", "a string"], ["- a\n- b\n", "a sequence"], ["42\n", "a number"]] as const) {
      const r = loadPolicyText(text, "s.yaml");
      assert.equal(r.diagnostics.length, 1, show(r));
      assert.match(r.diagnostics[0].message, new RegExp(`expected a mapping .* found ${what}`));
      assert.equal(r.diagnostics[0].stage, "parse");
      assert.deepEqual(r.diagnostics[0].location, { file: "s.yaml", line: 1, column: 1 });
    }
  });

  test("AuthorizationPolicy with an unsupported or missing apiVersion is an error", () => {
    const bad = loadPolicyText("apiVersion: security.istio.io/v1alpha1\nkind: AuthorizationPolicy\nmetadata: {name: x}\n", "v.yaml");
    assert.equal(bad.policies.length, 0);
    assert.equal(bad.diagnostics.length, 1);
    assert.match(bad.diagnostics[0].message, /apiVersion "security\.istio\.io\/v1alpha1"; expected security\.istio\.io\/v1 or security\.istio\.io\/v1beta1/);
    assert.deepEqual(bad.diagnostics[0].location, { file: "v.yaml", line: 1, column: 1 });
    assert.equal(bad.diagnostics[0].policy, "default/x");
    assert.equal(bad.diagnostics[0].path, "apiVersion");
    const none = loadPolicyText("kind: AuthorizationPolicy\nmetadata: {name: x}\n", "v.yaml");
    assert.match(none.diagnostics[0].message, /has no apiVersion/);
    const linkerd = loadPolicyText("apiVersion: policy.linkerd.io/v1alpha1\nkind: AuthorizationPolicy\nmetadata: {name: x}\n", "v.yaml");
    assert.equal(linkerd.diagnostics.length, 1);
  });

  test("a mapping without kind is an error", () => {
    const r = loadPolicyText("\n\napiVersion: v1\nmetadata: {name: x}\n", "k.yaml");
    assert.equal(r.diagnostics.length, 1);
    assert.match(r.diagnostics[0].message, /Object 'Kind' is missing/);
    assert.deepEqual(r.diagnostics[0].location, { file: "k.yaml", line: 3, column: 1 });
  });

  test("YAML 1.1 scalars as kubectl reads them: yes is a boolean, timestamps stay strings", () => {
    const r = loadPolicyText(
      "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: a\n  creationTimestamp: 2024-01-01T00:00:00Z\n  annotations:\n    istio.io/dry-run: yes\n    x: on\n    z: 'yes'\n    y: n\n",
      "y.yaml",
    );
    const meta = r.policies[0].policy.metadata as unknown as Record<string, any>;
    assert.equal(meta.annotations["istio.io/dry-run"], true);
    assert.equal(meta.annotations.x, true);
    assert.equal(meta.annotations.z, "yes");
    // YAML 1.1 (go-yaml v2, hence kubectl): the key `y` is the boolean true, and so is the value `n` false
    assert.equal(meta.annotations.true, false);
    assert.equal(meta.creationTimestamp, "2024-01-01T00:00:00Z");
  });

  test("merge keys work", () => {
    const r = loadPolicyText(
      "base: &b {principals: [a]}\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: m}\nspec:\n  rules:\n  - from:\n    - source:\n        <<: {namespaces: [x]}\n        principals: [p]\n",
      "m.yaml",
    );
    assert.equal(r.diagnostics.filter((d) => d.severity === "error").length, 1, show(r)); // document 0 has no kind
    assert.deepEqual(r.policies[0].policy.spec?.rules?.[0].from?.[0].source, { namespaces: ["x"], principals: ["p"] });
  });
});

describe("positions", () => {
  const r = loadPolicyText(POLICY, "p.yaml");
  const locate = r.policies[0].locate;

  test("mapping keys point at the key, sequence items at the item (quoted: at the quote)", () => {
    assert.deepEqual(locate("spec"), { file: "p.yaml", line: 6, column: 1 });
    assert.deepEqual(locate("spec.selector.matchLabels.app"), { file: "p.yaml", line: 9, column: 7 });
    assert.deepEqual(locate("spec.rules[0]"), { file: "p.yaml", line: 11, column: 5 });
    assert.deepEqual(locate("spec.rules[0].from[0].source.principals[0]"), { file: "p.yaml", line: 14, column: 11 });
    assert.deepEqual(locate("spec.rules[0].from[0].source.principals[1]"), { file: "p.yaml", line: 15, column: 11 });
    assert.deepEqual(locate("spec.rules[0].to[0].operation.methods[0]"), { file: "p.yaml", line: 18, column: 19 });
    assert.deepEqual(locate("spec.rules[0].to[0].operation.methods[1]"), { file: "p.yaml", line: 18, column: 26 });
  });

  test("a missing node resolves to its nearest existing ancestor", () => {
    assert.deepEqual(locate("spec.rules[0].from[0].source.principals[7]"), locate("spec.rules[0].from[0].source.principals"));
    assert.deepEqual(locate("spec.rules[0].when[0].key"), locate("spec.rules[0]"));
    assert.deepEqual(locate("spec.action"), locate("spec"));
    assert.deepEqual(locate(""), { file: "p.yaml", line: 1, column: 1 });
  });

  test("bracketed map keys", () => {
    const t = loadPolicyText(
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: a\n  annotations:\n    istio.io/dry-run: "maybe"\n    "we]ird": x\n',
      "b.yaml",
    );
    assert.deepEqual(t.policies[0].locate("metadata.annotations[istio.io/dry-run]"), { file: "b.yaml", line: 6, column: 5 });
    assert.deepEqual(t.policies[0].locate('metadata.annotations["we]ird"]'), { file: "b.yaml", line: 7, column: 5 });
  });

  test("positions are per document and CRLF files count lines right", () => {
    const text = `${POLICY}---\n${POLICY}`.replace(/\n/g, "\r\n");
    const t = loadPolicyText(text, "c.yaml");
    assert.equal(t.policies.length, 2);
    assert.deepEqual(t.policies[1].locate("spec.rules[0].to[0].operation.methods[1]"), { file: "c.yaml", line: 37, column: 26 });
  });

  test("a UTF-8 BOM does not shift columns", () => {
    const t = loadPolicyText("\ufeff" + POLICY, "bom.yaml");
    assert.deepEqual(t.policies[0].locate("metadata.name"), { file: "bom.yaml", line: 4, column: 3 });
  });
});

describe("YAML errors become diagnostics with file:line:col", () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ["tab indentation", "apiVersion: v1\nkind: X\nmetadata:\n\tname: a\n", "t.yaml:4:1:", /tab characters must not be used in indentation/],
    ["bad indentation", "a:\n  b: 1\n c: 2\n", "t.yaml:3:2:", /bad indentation of a mapping entry/],
    ["duplicate key", POLICY.replace("  namespace: shop\n", "  namespace: shop\n  name: again\n"), "t.yaml:6:3:", /mapping key "name" already defined at line 4, column 3/],
    ["duplicate key in flow mapping", "a: {x: 1, x: 2}\n", "t.yaml:1:11:", /mapping key "x" already defined at line 1, column 5/],
    ["tag that cannot apply (go-yaml v2: cannot decode)", "a: !!int x\n", "t.yaml:1:4:", /cannot decode !!str `x` as a !!int/],
    ["too deep", "a: " + "[".repeat(150) + "]".repeat(150) + "\n", "t.yaml:1:", /maxDepth/],
  ];
  for (const [name, text, where, msg] of cases) {
    test(name, () => {
      const r = loadPolicyText(text, "t.yaml");
      assert.equal(r.diagnostics.length, 1, show(r));
      const line = formatDiagnostic(r.diagnostics[0]);
      assert.ok(line.startsWith(where), line);
      assert.match(line, msg);
      assert.equal(r.diagnostics[0].severity, "error");
      assert.equal(r.diagnostics[0].stage, "parse");
    });
  }

  test("a bad document does not hide the good ones around it", () => {
    const r = loadPolicyText(`${POLICY}---\na: 1\na: 2\n---\n${POLICY.replace("allow-frontend", "third")}`, "t.yaml");
    assert.equal(r.diagnostics.length, 1, show(r));
    assert.match(r.diagnostics[0].message, /document 1/);
    assert.deepEqual(r.policies.map((p) => p.policy.metadata.name), ["allow-frontend", "third"]);
  });

  test("never throws, whatever the input", () => {
    for (const text of ["{", "]", "a: *nope", "&a [*a]", "? [a]\n: b", "- !!binary x", "%YAML 9.9\n---\na", "\u0000", "a: 'x"]) {
      const r = loadPolicyText(text, "t.yaml");
      assert.ok(r.diagnostics.length >= 1, `${JSON.stringify(text)}: ${show(r)}`);
    }
  });
});

describe("resource bounds", () => {
  const bomb = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...["b", "c", "d", "e", "f", "g", "h", "i"].map((n, k) => {
      const prev = "abcdefgh"[k];
      return `${n}: &${n} [${Array(9).fill(`*${prev}`).join(",")}]`;
    }),
  ].join("\n");

  test("billion laughs is refused quickly with a clear message", () => {
    const t0 = Date.now();
    const r = loadPolicyText(bomb, "bomb.yaml");
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(r.diagnostics.length, 1, show(r));
    assert.match(r.diagnostics[0].message, /expands to more than 1000000 YAML nodes through aliases/);
    assert.match(r.diagnostics[0].message, /YAML bomb/);
    assert.equal(r.diagnostics[0].location?.file, "bomb.yaml");
  });

  test("moderate alias use is fine, and the bound is configurable", () => {
    const text = "x: &x [1, 2, 3]\ny: [*x, *x]\nkind: Foo\n";
    assert.equal(loadPolicyText(text, "a.yaml").diagnostics.length, 0);
    const r = loadPolicyText(text, "a.yaml", { maxExpandedNodes: 8 });
    assert.equal(r.diagnostics.length, 1);
    assert.match(r.diagnostics[0].message, /more than 8 YAML nodes/);
  });

  test("recursive aliases are refused", () => {
    const r = loadPolicyText("a: &x\n  b: *x\n", "r.yaml");
    assert.equal(r.diagnostics.length, 1);
    assert.match(formatDiagnostic(r.diagnostics[0]), /^r\.yaml:2:6: error: .*recursive alias/);
  });

  test("files above the size limit are refused before reading", () => {
    assert.equal(MAX_FILE_BYTES, 16 * 1024 * 1024);
    const f = write("big/big.yaml", "a: " + "x".repeat(2000) + "\n");
    const r = loadPolicies([f], { maxFileBytes: 1000 });
    assert.equal(r.diagnostics.length, 1);
    assert.match(r.diagnostics[0].message, /larger than 1000 bytes/);
    assert.deepEqual(r.diagnostics[0].location, { file: f, line: 1, column: 1 });
    const s = loadPolicies(["-"], { maxFileBytes: 10, readStdin: () => "kind: Foo\nname: long enough\n" });
    assert.match(s.diagnostics[0].message, /larger than 10 bytes/);
  });
});

describe("inputs: files, directories, stdin", () => {
  test("directories are walked recursively, sorted, *.yaml/*.yml/*.json only", () => {
    write("tree/b.yaml", POLICY.replace("allow-frontend", "b"));
    write("tree/a.yml", POLICY.replace("allow-frontend", "a"));
    write("tree/sub/c.json", JSON.stringify({ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "c", namespace: "shop" } }));
    write("tree/sub/deeper/d.YAML", POLICY.replace("allow-frontend", "d"));
    write("tree/README.md", "kind: AuthorizationPolicy\n");
    write("tree/notes.txt", "{");
    write("tree/A_upper.yaml", POLICY.replace("allow-frontend", "upper"));
    const r = loadPolicies([path.join(tmp, "tree")]);
    assert.equal(r.diagnostics.length, 0, show(r));
    assert.deepEqual(r.policies.map((p) => p.policy.metadata.name), ["upper", "a", "b", "c", "d"]);
    assert.equal(r.policies[2].file, path.join(tmp, "tree", "b.yaml"));
  });

  test("directory order does not depend on creation order or the filesystem", () => {
    // 40 files created in a scrambled order: an unsorted readdir order shows up with near certainty.
    const names = Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(2, "0")}`);
    const scrambled = names.map((n, i) => [n, (i * 17) % 40] as const).sort((x, y) => x[1] - y[1]).map(([n]) => n);
    for (const n of scrambled) write(`many/${n}.yaml`, POLICY.replace("allow-frontend", n));
    const r = loadPolicies([path.join(tmp, "many")]);
    assert.deepEqual(r.policies.map((p) => p.policy.metadata.name), names);
  });

  test("an explicit file is read whatever its extension; order of inputs is kept", () => {
    const f = write("explicit/policy.txt", POLICY.replace("allow-frontend", "txt"));
    const g = write("explicit/other.yaml", POLICY.replace("allow-frontend", "other"));
    const r = loadPolicies([g, f]);
    assert.deepEqual(r.policies.map((p) => p.policy.metadata.name), ["other", "txt"]);
  });

  test("stdin with '-'", () => {
    const r = loadPolicies(["-"], { readStdin: () => POLICY });
    assert.equal(r.policies.length, 1);
    assert.equal(r.policies[0].file, "<stdin>");
    assert.deepEqual(r.policies[0].locate("metadata.name"), { file: "<stdin>", line: 4, column: 3 });
  });

  test("a missing input, invalid UTF-8, and errors in one file do not stop the others", () => {
    const bad = write("mixed/bad.yaml", Buffer.from([0x61, 0x3a, 0x20, 0xff, 0xfe, 0x0a]));
    const good = write("mixed/good.yaml", POLICY);
    const r = loadPolicies([path.join(tmp, "nope.yaml"), bad, good]);
    assert.equal(r.policies.length, 1);
    assert.equal(r.diagnostics.length, 2, show(r));
    assert.match(formatDiagnostic(r.diagnostics[0]), /nope\.yaml:1:1: error: no such file or directory/);
    assert.match(r.diagnostics[1].message, /not valid UTF-8/);
  });

  test("symlink loops in directories terminate", (t) => {
    const dir = path.join(tmp, "loop");
    fs.mkdirSync(dir, { recursive: true });
    write("loop/p.yaml", POLICY);
    try {
      fs.symlinkSync(dir, path.join(dir, "self"), "dir");
    } catch {
      t.skip("symlinks not permitted here");
      return;
    }
    const r = loadPolicies([dir]);
    assert.equal(r.policies.length, 1);
  });
});
