// Hostile blobs and plugin configurations, fixed sample (issue #5). The filter must never trap; a
// configuration it cannot trust must be logged at critical and every request denied with 403 and details
// meshauthz_invalid_config (docs/filter-io.md). Mutations that leave the CRC wrong must be rejected (100%);
// mutations with the CRC recomputed may be rejected or evaluated, never trap.
// Campaign: `npm run fuzz -- --blobs 100000 --json`.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { readFilterWasm } from "../../tools/cases/filter-decision.ts";
import { blobCrc, fixHeader, headerConsistent, hostileConfigText, Rng, runBlobCampaign, runConfig } from "./hostile-blobs.ts";
import { type Craft, craftBlob, notChain, STRINGS } from "./craft-blob.ts";

const wasm = readFilterWasm();
const VECTORS = fileURLToPath(new URL("../vectors/", import.meta.url));
const vector = (n: string) => new Uint8Array(readFileSync(`${VECTORS}${n}.blob`));
const BASES = ["minimal", "all-kinds", "seed"].map(vector);
const json = (b: Uint8Array) => JSON.stringify({ policy: Buffer.from(b).toString("base64") });
const networkJson = (b: Uint8Array) => JSON.stringify({ policy: Buffer.from(b).toString("base64"), mode: "network" });

async function assertFailClosed(config: Uint8Array | string, what: string, network = false): Promise<void> {
  const o = await runConfig(wasm, config, network);
  assert.equal(o.trap, null, `${what}: trap`);
  assert.deepEqual(o.violations, [], `${what}: ${o.violations.join("; ")}`);
  assert.equal(o.failClosed, true, `${what}: not rejected (accepted=${o.accepted})`);
}

describe("hostile blobs", () => {
  test("the checks are not vacuous: valid blobs are accepted and evaluated", async () => {
    for (const b of BASES) {
      for (const config of [b, json(b)]) {
        const o = await runConfig(wasm, config);
        assert.deepEqual({ trap: o.trap, accepted: o.accepted, failClosed: o.failClosed, violations: o.violations }, { trap: null, accepted: true, failClosed: false, violations: [] });
      }
    }
  });

  test("every bad-* vector is rejected, fail closed, with a critical log", async () => {
    const bad = readdirSync(VECTORS).filter((f) => /^bad-.*\.blob$/.test(f));
    assert.ok(bad.length >= 10);
    for (const f of bad) {
      const b = vector(f.replace(/\.blob$/, ""));
      // TCP_RULES damage is seen by the sidecars that read it: network filters.
      if (f.startsWith("bad-tcp-")) {
        assert.equal((await runConfig(wasm, networkJson(vector("seed")), true)).accepted, true, "the network check is not vacuous");
        await assertFailClosed(networkJson(b), f, true);
      } else await assertFailClosed(json(b), f);
    }
  });

  test("every truncation of a valid blob is rejected (raw and in pluginConfig)", async () => {
    const b = BASES[0]!;
    for (let n = 0; n < b.length; n++) await assertFailClosed(n % 2 === 0 ? json(b.subarray(0, n)) : b.subarray(0, n), `truncated to ${n}`);
  });

  test("a bit flip in every byte of a valid blob is rejected when the CRC is left wrong", async () => {
    const b = BASES[0]!;
    for (let i = 0; i < b.length; i++) {
      const m = Uint8Array.from(b);
      m[i]! ^= 1 << (i % 8);
      assert.ok(i < 8 || !headerConsistent(m), `flip at ${i} kept the header consistent`);
      await assertFailClosed(json(m), `bit flip at byte ${i}`);
    }
  });

  test("every word of a valid blob set to 0 / 0xFFFFFFFF / +1 with the CRC recomputed: never a trap", async () => {
    for (const b of BASES) {
      for (let off = 24; off + 4 <= b.length; off += b.length > 2000 ? 28 : 4) {
        for (const f of [() => 0, () => 0xffffffff, (v: number) => v + 1]) {
          const m = Uint8Array.from(b);
          const dv = new DataView(m.buffer);
          dv.setUint32(off, f(dv.getUint32(off, true)) >>> 0, true);
          const o = await runConfig(wasm, json(fixHeader(m)));
          assert.equal(o.trap, null, `word at ${off}`);
          assert.deepEqual(o.violations, [], `word at ${off}: ${o.violations.join("; ")}`);
          assert.ok(o.failClosed || o.accepted);
        }
      }
    }
  });

  test("broken pluginConfig texts fail closed", async () => {
    const rng = new Rng(7);
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 18; i++) {
      const h = hostileConfigText(rng, BASES[1]!);
      if (seen.has(h.kind)) continue;
      seen.add(h.kind);
      await assertFailClosed(h.config, h.kind);
    }
    assert.ok(seen.size >= 15, `only ${seen.size} kinds`);
  });

  test("fixed-seed sample of 1500 hostile configurations: no trap, 100% of CRC-wrong rejected", async (t) => {
    const s = await runBlobCampaign(wasm, BASES, 1500, 424242);
    t.diagnostic(JSON.stringify({ ...s, problems: undefined }));
    assert.deepEqual(s.problems, []);
    assert.equal(s.traps, 0);
    assert.equal(s.crc_wrong_rejected, s.crc_wrong);
    assert.ok(s.crc_wrong > 300 && s.crc_fixed > 300, "sample lost its mix");
    assert.ok(s.crc_fixed_accepted > 0 && s.crc_fixed_rejected > 0, "CRC-fixed mutations never reached both outcomes");
    assert.equal(s.fail_closed + s.accepted, s.blobs);
  });

  test("helpers: the CRC is zlib's CRC-32 over [16, length)", () => {
    const b = BASES[0]!;
    assert.equal(new DataView(b.buffer, b.byteOffset).getUint32(12, true), blobCrc(b));
    assert.ok(headerConsistent(b));
  });
});

describe("crafted structural blobs (tests/fuzz/craft-blob.ts)", () => {
  const GET = { protocol: "HTTP" as const, method: "GET", path: "/", host: "h", headers: {}, source_principal: null, source_ip: "10.0.0.1", remote_ip: "10.0.0.1", destination_ip: "10.0.0.2", destination_port: 8080, sni: null, jwt: null };
  async function decisions(blob: Uint8Array) {
    const { startFilter } = await import("../../tools/cases/filter-decision.ts");
    const f = await startFilter(wasm, blob, { namespace: "default" });
    return [f.decide(GET), f.decide({ ...GET, method: "POST" })];
  }

  test("the writer is sound: a one-leaf DENY rule denies GET only", async () => {
    const [get, post] = await decisions(craftBlob(notChain(1)));
    assert.deepEqual([get!.decision, get!.policy, post!.decision, get!.config_error], ["DENY", "ns[default]-policy[p]-rule[0]", "ALLOW", undefined]);
  });

  test("depth 32 is evaluated; depth 33 and 10,000 are rejected without a trap", async () => {
    // 31 NOTs over GET: NOT(GET) -> POST denied
    const [get, post] = await decisions(craftBlob(notChain(32)));
    assert.deepEqual([get!.decision, post!.decision, post!.config_error], ["ALLOW", "DENY", undefined]);
    await assertFailClosed(craftBlob(notChain(33)), "depth 33");
    await assertFailClosed(craftBlob(notChain(10_000)), "depth 10000");
  });

  test("cycles, forward and out-of-range references, bad ops and counts are rejected", async () => {
    const base = notChain(2);
    const bad: Array<[string, Partial<Craft>]> = [
      ["self-cycle", { nodes: [{ op: 4, count: 1, arg: 0 }], children: [0], rules: [{ id: 4, root: 0 }] }],
      ["forward-child", { nodes: [{ op: 4, count: 1, arg: 0 }, { op: 5, count: 0, arg: 0 }], children: [1], rules: [{ id: 4, root: 0 }] }],
      ["leaf-out-of-range", { nodes: [{ op: 5, count: 0, arg: 7 }], children: [], rules: [{ id: 4, root: 0 }] }],
      ["root-out-of-range", { rules: [{ id: 4, root: 99 }] }],
      ["root-none", { rules: [{ id: 4, root: 0xffffffff }] }],
      ["children-overflow", { nodes: [{ op: 5, count: 0, arg: 0 }, { op: 3, count: 5, arg: 0xfffffffe }], children: [0], rules: [{ id: 4, root: 1 }] }],
      ["and-empty", { nodes: [{ op: 5, count: 0, arg: 0 }, { op: 2, count: 0, arg: 0 }], children: [], rules: [{ id: 4, root: 1 }] }],
      ["not-two", { nodes: [{ op: 5, count: 0, arg: 0 }, { op: 4, count: 2, arg: 0 }], children: [0, 0], rules: [{ id: 4, root: 1 }] }],
      ["op-0", { nodes: [{ op: 0, count: 0, arg: 0 }], children: [], rules: [{ id: 4, root: 0 }] }],
      ["op-6", { nodes: [{ op: 6, count: 0, arg: 0 }], children: [], rules: [{ id: 4, root: 0 }] }],
      ["id-out-of-range", { rules: [{ id: 99, root: 1 }] }],
      ["leaf-attribute-0", { leaves: [[0, 1, 0, 0xffffffff, 5, 0]] }],
      ["leaf-attribute-13", { leaves: [[13, 1, 0, 0xffffffff, 5, 0]] }],
      ["leaf-kind-9", { leaves: [[7, 9, 0, 0xffffffff, 5, 0]] }],
      ["leaf-value-out-of-range", { leaves: [[7, 1, 0, 0xffffffff, 77, 0]] }],
      ["leaf-pattern-missing", { leaves: [[9, 6, 0, 0xffffffff, 0xffffffff, 0]] }],
      ["leaf-cidr-bad-length", { leaves: [[2, 7, 0, 0xffffffff, 5, 33]] }],
      ["leaf-flags", { leaves: [[7, 1, 0x80, 0xffffffff, 5, 0]] }],
    ];
    for (const [what, patch] of bad) await assertFailClosed(craftBlob({ ...base, ...patch }), what);
  });

  test("65,535-way OR and 20,000 rules are evaluated without a trap", async () => {
    const wide = craftBlob({ ...notChain(1), nodes: [{ op: 5, count: 0, arg: 0 }, { op: 3, count: 65535, arg: 0 }], children: new Array(65535).fill(0), rules: [{ id: 4, root: 1 }] });
    const [get, post] = await decisions(wide);
    assert.deepEqual([get!.decision, post!.decision, get!.config_error], ["DENY", "ALLOW", undefined]);
    const n = 20_000;
    const strings = [...STRINGS, ...Array.from({ length: n }, (_, i) => `ns[default]-policy[p]-rule[${String(i).padStart(5, "0")}]`)];
    const many = craftBlob({ ...notChain(1), strings, rules: Array.from({ length: n }, (_, i) => ({ id: STRINGS.length + i, root: 0 })) });
    const o = await runConfig(wasm, many);
    assert.equal(o.trap, null);
    assert.deepEqual(o.violations, []);
    assert.ok(o.accepted || o.failClosed);
  });
});
