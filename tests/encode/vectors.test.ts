// The committed vectors are exactly what the encoder makes today: a change to the blob format
// must regenerate them (npm run vectors), which the AssemblyScript decoder tests then read.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { crc32 } from "node:zlib";
import { buildVectors, VECTORS } from "../vectors/vectors.ts";
import { FORMAT_MINOR } from "../../tools/encode/format.ts";

for (const v of buildVectors()) {
  test(`vector ${v.name} matches the committed file`, () => {
    const committed = readFileSync(new URL(`${v.name}.blob`, VECTORS));
    assert.deepEqual(Buffer.from(v.blob), committed, `${v.name}.blob differs: run npm run vectors`);
    const expect = JSON.parse(readFileSync(new URL(`${v.name}.json`, VECTORS), "utf8"));
    assert.deepEqual(expect, JSON.parse(JSON.stringify(v.expect)));
  });
}

test("valid vectors carry a correct header", () => {
  for (const v of buildVectors().filter((x) => x.expect.ok)) {
    const view = new DataView(v.blob.buffer, v.blob.byteOffset, v.blob.byteLength);
    const tcp = v.expect.tcp_dropped !== null;
    assert.equal(Buffer.from(v.blob.subarray(0, 4)).toString("latin1"), "MAZB");
    assert.equal(view.getUint16(4, true), 1);
    assert.equal(view.getUint16(6, true), tcp ? FORMAT_MINOR : 0, v.name);
    assert.equal(view.getUint32(8, true), v.blob.length);
    assert.equal(view.getUint32(12, true), crc32(v.blob.subarray(16)));
    assert.equal(view.getUint32(20, true), tcp ? 9 : 7, v.name); // 1.3: TCP_RULES and PROVIDERS
  }
});

test("rule ids are in Envoy's byte order, where rule[10] sorts before rule[2]", () => {
  const allKinds = buildVectors().find((v) => v.name === "all-kinds")!;
  const ids = allKinds.expect.rule_ids as string[];
  const i10 = ids.indexOf("ns[shop]-policy[kinds]-rule[10]");
  const i2 = ids.indexOf("ns[shop]-policy[kinds]-rule[2]");
  assert.ok(i10 >= 0 && i2 >= 0 && i10 < i2);
  assert.deepEqual([...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))), ids);
});
