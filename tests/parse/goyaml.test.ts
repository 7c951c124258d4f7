// YAML as kubectl reads it (sigs.k8s.io/yaml YAMLToJSON over go-yaml v2): resolve.go's scalars, decode.go's
// merge keys, and what YAMLToJSON does with keys. Expected values were worked out from that source.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatFloat32G, resolveScalar } from "../../tools/parse/goyaml-scalar.ts";
import { parseYamlStream } from "../../tools/parse/yaml.ts";

const one = (text: string) => {
  const r = parseYamlStream(text);
  assert.deepEqual(r.errors, [], JSON.stringify(r.errors));
  return r.documents[0].value as Record<string, unknown>;
};

describe("plain scalars as go-yaml v2 resolves them", () => {
  const cases: Array<[string, unknown]> = [
    ["080", 80], // not octal (8), matches the float regex: 80
    ["0800", 800],
    ["0777", 511], // ParseInt base 0: a leading 0 is octal
    ["1e3", 1000],
    ["10:30", "10:30"], // no sexagesimal in go-yaml v2 (YAML 1.1 libraries say 630)
    ["1_000", 1000],
    ["0x1F", 31],
    ["0o17", 15],
    ["0b101", 5],
    ["-0b11", -3],
    ["+12", 12],
    [".5", 0.5],
    ["1.", 1],
    ["1e400", "1e400"], // out of float range: ParseFloat fails, so a string
    ["2001-12-14", "2001-12-14"], // timestamps stay strings when decoded into interface{}
    ["2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"],
    ["yes", true], ["Yes", true], ["YES", true], ["on", true], ["ON", true], ["y", true], ["Y", true], ["true", true],
    ["no", false], ["off", false], ["n", false], ["N", false], ["False", false],
    ["yES", "yES"], ["oN", "oN"],
    ["~", null], ["null", null], ["Null", null], ["NULL", null], ["", null],
    ["<<", "<<"], // a merge key only as a key
    ["-x", "-x"], ["._1", "._1"], ["0x", "0x"], ["1_2.5e1", 125],
  ];
  for (const [text, want] of cases) {
    test(`${JSON.stringify(text)} -> ${JSON.stringify(want)}`, () => {
      assert.deepEqual(one(`v: ${text}\n`).v, want);
    });
  }

  test("quoted and block scalars are strings", () => {
    assert.deepEqual(one(`a: "080"\nb: '1e3'\nc: |\n  yes\n`), { a: "080", b: "1e3", c: "yes\n" });
  });

  test("explicit tags", () => {
    assert.deepEqual(one(`a: !!str 080\nb: !!int "12"\nc: !!float 1\nd: !!bool yes\ne: !foo bar\nf: !!binary aGk=\n`), {
      a: "080",
      b: 12,
      c: 1,
      d: true,
      e: "bar",
      f: "hi",
    });
    assert.throws(() => resolveScalar("abc", true, "!!int"), /cannot decode !!str `abc` as a !!int/);
  });

  test("NaN and infinities cannot become JSON: an error, as YAMLToJSON's json.Marshal fails", () => {
    for (const v of [".inf", "-.Inf", ".nan"]) {
      const r = parseYamlStream(`a:\n  b: ${v}\n`, { filename: "x.yaml" });
      assert.equal(r.errors.length, 1);
      assert.match(r.errors[0].message, /json: unsupported value/);
      assert.equal(r.errors[0].offset, 8);
    }
  });

  test("case files may read !!binary as raw bytes (binaryAsBytes); kubectl's reading is a string", () => {
    const r = parseYamlStream("a: !!binary /w==\nb: &b !!binary AAE=\nc: *b\n", { binaryAsBytes: true });
    const v = r.documents[0].value as Record<string, Uint8Array>;
    assert.deepEqual([...v.a], [0xff]);
    assert.deepEqual([...v.c], [0, 1]);
    assert.notEqual(v.b, v.c);
    assert.equal((one("a: !!binary aGk=\n") as any).a, "hi");
  });

  test("case files keep one-letter y/n as strings (letterBools: false), everything else as kubectl", () => {
    const r = parseYamlStream("a: n\nb: Y\nc: no\nd: 080\n", { letterBools: false });
    assert.deepEqual(r.documents[0].value, { a: "n", b: "Y", c: false, d: 80 });
  });
});

describe("keys as YAMLToJSON writes them", () => {
  test("bools, ints and floats become strings", () => {
    assert.deepEqual(Object.keys(one("yes: 1\nn: 2\n1e3: 3\n0x10: 4\n0.5: 5\n123456789: 6\n1.5e7: 7\n")), [
      "16",
      "1000",
      "123456789",
      "true",
      "false",
      "0.5",
      "1.5e+07",
    ]);
    assert.equal(formatFloat32G(0.0001), "0.0001");
    assert.equal(formatFloat32G(0.00001), "1e-05");
    assert.equal(formatFloat32G(123456.7), "123456.7");
  });
  test("a null key, a mapping key: errors", () => {
    assert.match(parseYamlStream("~: 1\n").errors[0].message, /unsupported map key/);
    assert.match(parseYamlStream("? {a: 1}\n: 2\n").errors[0].message, /invalid map key/);
  });
});

describe("merge keys (decode.go mapping/merge)", () => {
  test("single mapping and alias: keys after `<<` win", () => {
    assert.deepEqual(one("b: &b {x: 1, q: 2}\nm:\n  <<: *b\n  q: 3\n").m, { x: 1, q: 3 });
  });
  test("a list of mappings: earlier ones win", () => {
    assert.deepEqual(one("m:\n  <<: [{x: 1, z: 1}, {x: 2, w: 2}]\n").m, { x: 1, z: 1, w: 2 });
  });
  test("a key written before `<<` is overwritten (go-yaml v2 applies `<<` in place), with a warning", () => {
    const r = parseYamlStream("b: &b {x: 1}\nm:\n  x: 0\n  <<: *b\n");
    assert.deepEqual((r.documents[0].value as any).m, { x: 1 });
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0].message, /merge key overrides "x" written above it at line 3, column 3/);
  });
  test("nested merges and a quoted \"<<\" (not a merge key)", () => {
    assert.deepEqual(one("a: &a {p: 1}\nb: &b {<<: *a, q: 2}\nc: {<<: *b, r: 3}\nd: {\"<<\": *a}\n"), {
      a: { p: 1 },
      b: { p: 1, q: 2 },
      c: { p: 1, q: 2, r: 3 },
      d: { "<<": { p: 1 } },
    });
  });
  test("a merge value that is not a mapping is an error", () => {
    for (const bad of ["m: {<<: 1}\n", "s: &s [1]\nm: {<<: *s}\n", "m: {<<: [1]}\n"]) {
      assert.match(parseYamlStream(bad).errors[0]?.message ?? "", /map merge requires map or sequence of maps/, bad);
    }
  });
  test("merged keys are located where they are written", () => {
    const r = parseYamlStream("base: &b\n  method: GET\nreq:\n  <<: *b\n  path: /x\n");
    const req = r.documents[0].positions.children!.get("req")!;
    assert.equal(req.children!.get("method")!.offset, 11); // in the anchored mapping
    assert.equal(req.children!.get("path")!.offset, 39);
  });
  test("an alias is a copy: changing one place does not change another", () => {
    const v = one("a: &a {x: [1]}\nb: *a\n") as any;
    v.b.x.push(2);
    assert.deepEqual(v.a.x, [1]);
  });
});

describe("duplicate keys", () => {
  test("an error naming both places (go-yaml v2 would keep the last one silently)", () => {
    const r = parseYamlStream("a: 1\nb:\n  c: 1\n  c: 2\n");
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0].offset, 17);
    assert.match(r.errors[0].message, /mapping key "c" already defined at line 3, column 3/);
  });
  test("keys that only look different to YAML but not to YAMLToJSON collide too", () => {
    assert.match(parseYamlStream("yes: 1\ntrue: 2\n").errors[0].message, /mapping key "true" already defined/);
  });
});

describe("documents", () => {
  test("a broken document does not hide the others; indices and offsets stay those of the whole stream", () => {
    const r = parseYamlStream("a: 1\n---\nb: [\n---\nc: 3\n");
    assert.deepEqual(r.documents.map((d) => [d.index, d.value]), [[0, { a: 1 }], [2, { c: 3 }]]);
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0].documentIndex, 1);
    assert.equal(r.documents[1].offset, 18);
  });
  test("directives: the stream is parsed whole", () => {
    const r = parseYamlStream("%YAML 1.1\n---\na: 1\n---\nb: 2\n");
    assert.deepEqual(r.documents.map((d) => d.value), [{ a: 1 }, { b: 2 }]);
  });
});
