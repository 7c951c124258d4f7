// Regenerates ../re2-table.json with the real RE2 (needs g++ and libre2-dev; not part of npm test):
//   node --import tsx tests/reference/re2-oracle/generate.ts
// re2check.cc matches like Envoy (source/common/common/regex.cc: re2::RE2(regex, RE2::Quiet), FullMatch).
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rows } from "./cases.ts";

const here = new URL(".", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "re2check-"));
const bin = join(dir, "re2check");
execFileSync("g++", ["-O1", "-o", bin, join(here, "re2check.cc"), "-lre2"], { stdio: "inherit" });
const version = execFileSync("sh", ["-c", "dpkg-query -W -f '${Version}' libre2-dev 2>/dev/null || echo unknown"]).toString();
const rs = rows();
const input = rs.map((r) => `${Buffer.from(r.pattern, "utf8").toString("hex")} ${r.input === "" ? "-" : r.input}`).join("\n") + "\n";
const res = execFileSync(bin, { input }).toString().trim().split("\n");
if (res.length !== rs.length) throw new Error(`re2check answered ${res.length} of ${rs.length}`);
const table = {
  note: "RE2::FullMatch results of the real libre2 (tests/reference/re2-oracle/generate.ts); inputs are hex bytes",
  libre2: version,
  rows: rs.map((r, i) => ({ pattern: r.pattern, input: r.input, match: res[i] === "1" })),
};
writeFileSync(join(here, "..", "re2-table.json"), JSON.stringify(table, null, 0).replaceAll('},{"pattern"', '},\n{"pattern"') + "\n");
console.log(`${rs.length} rows, ${table.rows.filter((r) => r.match).length} matches, libre2 ${version}`);
