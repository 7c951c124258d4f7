// Memory (issue #5): 50,000 requests (ordinary and hostile: 60 KiB of headers, long SANs, big JWTs) through
// one VM pair leave linear memory where it was after warm-up. Campaign: `npm run fuzz -- --memory 1000000`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readFilterWasm } from "../../tools/cases/filter-decision.ts";
import { memoryCampaign } from "./memory.ts";

test("50,000 requests through one VM pair: linear memory flat after warm-up", async (t) => {
  const r = await memoryCampaign(readFilterWasm(), 50_000, 20251125);
  t.diagnostic(JSON.stringify(r));
  assert.equal(r.traps, 0);
  assert.ok(r.policies > 0 && r.memory_before > 0);
  assert.deepEqual(r.workers.map(([, after]) => after), r.workers.map(([before]) => before), "a worker's linear memory grew");
  assert.equal(r.memory_after, r.memory_before);
});

test("pluginConfig updates at 10,000 policies: peak linear memory with two configurations at most 2x steady, and no growth over 30 more updates", async (t) => {
  const { reconfigureMemory } = await import("./memory.ts");
  const r = await reconfigureMemory(readFilterWasm(), 10_000);
  t.diagnostic(JSON.stringify(r));
  assert.ok(r.peak_bytes <= 2 * r.steady_bytes, `peak ${r.peak_bytes} > 2 x steady ${r.steady_bytes}`);
  assert.ok(r.settled_bytes <= 2 * r.steady_bytes, `after 30 updates ${r.settled_bytes} > 2 x steady ${r.steady_bytes}`);
});
