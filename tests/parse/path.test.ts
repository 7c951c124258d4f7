import { test } from "node:test";
import assert from "node:assert/strict";
import { joinIndex, joinKey, splitPath } from "../../tools/parse/path.ts";

test("joinKey / joinIndex build Diagnostic paths", () => {
  assert.equal(joinKey("", "spec"), "spec");
  assert.equal(joinIndex(joinKey("spec", "rules"), 0), "spec.rules[0]");
  assert.equal(joinKey("metadata.annotations", "istio.io/dry-run"), "metadata.annotations[istio.io/dry-run]");
  assert.equal(joinKey("m", "a]b"), 'm["a]b"]');
  assert.equal(joinKey("m", ""), 'm[""]');
  assert.equal(joinKey("m", "app-version"), "m.app-version");
});

test("splitPath is the inverse of joinKey/joinIndex", () => {
  const keys = ["spec", "rules", "0", "from", "x.y/z", 'q"uote', "a]b", "", "[", "app"];
  let p = "";
  for (const k of keys) p = /^\d+$/.test(k) ? joinIndex(p, Number(k)) : joinKey(p, k);
  assert.deepEqual(splitPath(p), keys);
  assert.deepEqual(splitPath("spec.rules[0].from[0].source.principals[1]"), ["spec", "rules", "0", "from", "0", "source", "principals", "1"]);
  assert.deepEqual(splitPath(""), []);
});

test("splitPath rejects malformed paths", () => {
  for (const bad of ["a..b", "a[0", ".a", "a.", 'a["x]', "a[0]b"]) assert.equal(splitPath(bad), undefined, bad);
});
