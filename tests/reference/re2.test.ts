// The reference's RE2 matcher against results of the real libre2 (re2-table.json, re2-oracle/).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { re2 } from "./re2.ts";

const table = JSON.parse(readFileSync(new URL("./re2-table.json", import.meta.url), "utf8")) as {
  rows: Array<{ pattern: string; input: string; match: boolean }>;
};
const bytes = (...b: number[]) => Uint8Array.from(b);
const text = (s: string) => new TextEncoder().encode(s);

describe("re2 subset: full match over bytes", () => {
  test("agrees with the real libre2 on every row of the table", () => {
    const wrong = table.rows.filter((r) => re2(r.pattern).fullMatch(Buffer.from(r.input, "hex")) !== r.match);
    assert.ok(table.rows.length > 2000);
    assert.deepEqual(wrong.slice(0, 5), []);
  });

  test("`.` is one UTF-8 sequence of RE2's automaton, never `\\n`", () => {
    const any = re2(".+");
    assert.equal(any.fullMatch(text("user\n1")), false);
    assert.equal(any.fullMatch(text("user\u00001")), true);
    assert.equal(any.fullMatch(bytes(0xc3)), false); // truncated
    assert.equal(any.fullMatch(bytes(0x80)), false); // lone continuation
    assert.equal(any.fullMatch(bytes(0xc0, 0x80)), false); // C0/C1 never lead
    assert.equal(any.fullMatch(bytes(0xed, 0xa0, 0x80)), true); // surrogate: Add_80_10ffff is lenient
    assert.equal(any.fullMatch(bytes(0xf4, 0x90, 0x80, 0x80)), true); // > U+10FFFF
    assert.equal(any.fullMatch(bytes(0xf5, 0x80, 0x80, 0x80)), false);
    assert.equal(any.fullMatch(new Uint8Array(0)), false);
  });

  test("a negated class matches `\\n` (ClassNL), a literal non-ASCII rune only its own bytes", () => {
    assert.equal(re2("spiffe://[^/]*\\.com/.*").fullMatch(text("spiffe://a\n.com/x")), true);
    assert.equal(re2("spiffe://[^/]*\\.com/.*").fullMatch(text("spiffe://a.com/x\n")), false);
    assert.equal(re2("é.*").fullMatch(text("éx")), true);
    assert.equal(re2("é.*").fullMatch(bytes(0xc3, 0x89)), false);
  });

  test("outside the subset it refuses instead of guessing", () => {
    for (const p of ["a{2}", "\\d", "(?i)a", "[[:alpha:]]", "(a", "a)"]) assert.throws(() => re2(p), /re2 subset/);
  });

  test("linear time on long input", () => {
    const long = new Uint8Array(60 * 1024).fill(0x61);
    assert.equal(re2(".*,a\\.b,.*|.*,a\\.b|a\\.b,.*").fullMatch(long), false);
  });
});
