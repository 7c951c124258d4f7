// The manifest writer handles scalars of any length (js-yaml's dump overflowed the stack at ~2 MB).
import assert from "node:assert/strict";
import { test } from "node:test";
import * as yaml from "js-yaml";
import { dumpYaml, LONG_SCALAR } from "../../tools/package/yaml-writer.ts";

test("a 3 MB base64 scalar (a 10,000-policy mesh's blob) is written and reads back exactly", () => {
  const policy = Buffer.from(Buffer.alloc(2_300_000, 0).map((_, i) => (i * 2654435761) >>> 24)).toString("base64");
  assert.ok(policy.length > 3_000_000);
  const doc = { kind: "WasmPlugin", spec: { url: "oci://r.example/m", pluginConfig: { policy } } };
  const text = dumpYaml(doc);
  assert.deepEqual(yaml.load(text), doc);
});

test("long strings that YAML would misread or that need escapes survive, wherever they are", () => {
  const tricky = [
    "1".repeat(LONG_SCALAR), // would resolve as an int if written plain
    `true${" ".repeat(LONG_SCALAR)}`,
    `#: - "quoted" 'single' \\ back\nnew line\ttab \u0000 nul é ☃ ${"x".repeat(LONG_SCALAR)}`,
  ];
  const doc = { a: tricky, b: { c: tricky[2], short: "yes", n: 1, z: null }, list: [{ d: tricky[0] }] };
  assert.deepEqual(yaml.load(dumpYaml(doc)), doc);
});

test("short values are styled by js-yaml as before", () => {
  const doc = { apiVersion: "v1", yes: "yes", n: "1", list: ["a", "b"] };
  assert.equal(dumpYaml(doc), yaml.dump(doc, { lineWidth: -1, noRefs: true }));
});
