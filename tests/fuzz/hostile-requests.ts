// Hostile requests (issue #5): headers up to Envoy's limits (60 KiB, 100 headers), control characters
// (NUL, CR, LF in a header value only in 1 request of 20: a codec refuses them before any filter), non-ASCII and ill-formed UTF-16 (what the host turns into U+FFFD bytes), repeated headers,
// very long SANs, IPv6 edge forms (compressed, full, upper-case, v4-mapped, zone-less), odd
// X-Forwarded-For values, path-confusion forms (`..`, `%2e%2e`, `%2F`, `//`, `;`, `#`, `?`, case variants:
// CVE-2019-9901, CVE-2021-31920, CVE-2021-39156).
//
// Each request is handed to both sides as Envoy hands it to the filter: the raw path goes through the BASE
// normalizer (normalize.ts) into `path_normalized`, strings are made well-formed as the host's UTF-8
// encoding makes them, and remote_ip is what Envoy derives from X-Forwarded-For.

import fc from "fast-check";
import type { CaseRequest } from "../../tools/model/case-file.ts";
import { parseIp } from "../reference/cidr.ts";
import { type GenRequest, type Hints, hintsFrom, type Pool, poolArb, policiesArb, workloadArb, type Scenario } from "./arbitraries.ts";
import { formatIp, type IpBytes, type V6Style } from "./ip.ts";
import { normalizeBase } from "./normalize.ts";

/** Envoy's limits on request headers (max_request_headers_kb 60, max_headers_count 100). */
export const MAX_HEADER_BYTES = 60 * 1024;
export const MAX_HEADERS = 100;

const PATH_CONFUSION = [
  "/public/../admin", "/public/%2e%2e/admin", "/public/%2E%2E/admin", "/./admin", "/admin/./", "/admin/..", "/a/b/../../admin",
  "/admin%2Fsecret", "/admin%2fsecret", "/admin%5Csecret", "/public%2F..%2Fadmin", "//admin", "/admin//x", "///admin",
  "/admin;jsessionid=1", "/admin;/x", "/admin#frag", "/public#/../admin", "/admin?x=1#y", "/admin?", "/admin#", "/ADMIN", "/Admin",
  "/%61dmin", "/%41dmin", "/admin%20", "/admin\\..\\x", "\\admin", "/public\\..\\admin", "/admin/%2e", "/%2e%2e/admin", "/..;/admin",
  "/admin%00", "/adm%69n/x", "/admin/\u00e9", "/%E2%82%AC", "/api/v1/../../admin/x", "/api/v1/%2e%2e/%2e%2e/admin",
];

const CONTROL = ["\0", "\x01", "\x7f", "\t", "\u00ff", "\u00e9", "\u2028", "\ud800", "\udfff", "\ud83d\ude00", "\ufffd", "\ufeff", ",", '"'];

/** Strings with control characters, NUL, non-ASCII and lone surrogates mixed into tokens. */
function hostileString(tokens: readonly string[], maxLen = 64): fc.Arbitrary<string> {
  return fc
    .array(fc.oneof({ arbitrary: fc.constantFrom(...tokens), weight: 3 }, { arbitrary: fc.constantFrom(...CONTROL), weight: 1 }, { arbitrary: fc.string({ unit: "binary", maxLength: 4 }), weight: 1 }), { maxLength: 6 })
    .map((parts) => parts.join("").slice(0, maxLen));
}

function ipEdge(): fc.Arbitrary<string> {
  const v6: Array<[IpBytes, V6Style]> = [
    [new Array(16).fill(0), "compressed"],
    [[...new Array(15).fill(0), 1], "compressed"],
    [[...new Array(15).fill(0), 1], "full"],
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3], "mixed"],
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3], "compressed"],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "upper"],
    [[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "compressed"],
    [new Array(16).fill(0xff), "compressed"],
  ];
  return fc.oneof(
    fc.constantFrom(...v6).map(([b, st]) => formatIp(b, st)),
    fc.constantFrom("0.0.0.0", "255.255.255.255", "127.0.0.1", "10.1.2.3", "192.168.0.1"),
  );
}

/** Envoy derives the remote address from the right-most XFF entry if it parses as a bare IP. */
function remoteFromXff(xff: string, peer: string): string {
  const comma = xff.lastIndexOf(",");
  const last = (comma >= 0 && comma + 1 < xff.length ? xff.slice(comma + 1) : xff).replace(/^[ \t]+|[ \t]+$/g, "");
  return parseIp(last) !== null ? last : peer;
}

function xffArb(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.array(ipEdge(), { minLength: 1, maxLength: 4 }).map((ips) => ips.join(", ")),
    fc.constantFrom("", ",", " ", "unknown", "1.2.3.4,", "  10.1.2.3  ", "fe80::1%eth0", "[::1]", "::ffff:10.1.2.3", "01.2.3.4", "1.2.3.4:80", "10.1.2.3,garbage", "garbage,10.1.2.3"),
    fc.integer({ min: 100, max: 1000 }).map((n) => Array.from({ length: n }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`).join(",")),
  );
}

function bigHeaders(pool: Pool, hints: Hints): fc.Arbitrary<Record<string, string | string[]>> {
  const names = [...new Set([...pool.headerNames, ...hints.headerNames])].filter((n) => !n.startsWith(":") && n.toLowerCase() !== "x-forwarded-for" && n.toLowerCase() !== "host");
  const values = [...pool.headerValues, ...hints.headerValues];
  return fc
    .record({
      count: fc.integer({ min: 0, max: MAX_HEADERS - 12 }),
      long: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: MAX_HEADER_BYTES - 20 * 1024 })),
      seed: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...names), fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/)), hostileString(values)), { maxLength: 12 }),
      repeats: fc.array(fc.tuple(fc.constantFrom(...names), fc.array(hostileString(values, 16), { minLength: 2, maxLength: 5 })), { maxLength: 2 }),
      // NUL, CR and LF never reach a filter (the codec answers 400): keep them in 1 request of 20
      codecBait: fc.nat(19),
    })
    .map(({ count, long, seed, repeats, codecBait }) => {
      const h: Record<string, string | string[]> = {};
      const used = new Set<string>();
      const deliverable = (v: string) => (codecBait === 0 ? v : v.replace(/[\0\r\n]/g, ""));
      const put = (k: string, v: string | string[]) => {
        if (used.has(k.toLowerCase())) return;
        used.add(k.toLowerCase());
        h[k] = Array.isArray(v) ? v.map(deliverable) : deliverable(v);
      };
      for (const [k, v] of seed) put(k, v);
      for (const [k, vs] of repeats) put(k, vs);
      for (let i = 0; Object.keys(h).length < Math.min(count, MAX_HEADERS - 12) && i < 200; i++) put(`x-filler-${i}`, "v".repeat(i % 7));
      if (long > 0) {
        // one long value, the rest of the budget; total stays under 60 KiB
        let size = 0;
        for (const [k, v] of Object.entries(h)) size += k.length + (Array.isArray(v) ? v.join("").length + v.length * k.length : v.length);
        const room = Math.max(0, MAX_HEADER_BYTES - 20 * 1024 - size); // XFF may take up to ~13 KiB
        put(names[0] ?? "x-long", "a".repeat(Math.min(long, room)));
      }
      return h;
    });
}

function toWellFormed(s: string): string {
  return Buffer.from(s, "utf8").toString("utf8");
}

/** Make every string well-formed UTF-16 the way the host's UTF-8 encoding does (lone surrogates -> U+FFFD). */
export function wellFormed<T>(x: T): T {
  if (typeof x === "string") return toWellFormed(x) as T;
  if (Array.isArray(x)) return x.map(wellFormed) as T;
  if (x !== null && typeof x === "object") return Object.fromEntries(Object.entries(x).map(([k, v]) => [toWellFormed(k), wellFormed(v)])) as T;
  return x;
}

export function hostileRequestArb(pool: Pool, hints: Hints): fc.Arbitrary<GenRequest> {
  const tokens = [...pool.paths, ...hints.paths.filter((p) => p.startsWith("/"))];
  const rawPath = fc.oneof(
    { arbitrary: fc.constantFrom(...PATH_CONFUSION), weight: 4 },
    {
      arbitrary: fc.tuple(fc.constantFrom(...tokens), fc.constantFrom(...PATH_CONFUSION)).map(([a, b]) => a.replace(/\/$/, "") + b),
      weight: 3,
    },
    { arbitrary: fc.constantFrom(...tokens).map((t) => t.replace(/\//g, () => ["/", "//", "/./", "/%2F", "\\", "/;/"][t.length % 6]!)), weight: 1 },
    { arbitrary: fc.integer({ min: 1, max: 16 * 1024 }).map((n) => "/" + "a/".repeat(n >> 1)), weight: 1 },
  );
  return fc
    .record({
      workload: fc.nat(7),
      method: fc.oneof(fc.constantFrom(...pool.methods), fc.constantFrom("get", "GET ", "", "G\0T", "M".repeat(1000), "\u00c9T")),
      rawPath,
      host: fc.oneof(fc.constantFrom(...pool.hosts), fc.constantFrom("[::1]:8080", "[2001:DB8::1]", "BACKEND.SHOP:8080", "backend.", "h".repeat(4096), "a\0b", "\u00e9xample.com", "")),
      headers: bigHeaders(pool, hints),
      xff: fc.option(xffArb(), { nil: undefined, freq: 2 }),
      san: fc.oneof(
        fc.constant(null),
        fc.constantFrom(...pool.serviceAccounts).map((sa) => `spiffe://${pool.mesh.trustDomain}/ns/${pool.namespaces[0]}/sa/${sa}`),
        fc.integer({ min: 1024, max: 64 * 1024 }).map((n) => `spiffe://${pool.mesh.trustDomain}/ns/${pool.namespaces[0]}/sa/${"s".repeat(n)}`),
        fc.integer({ min: 1024, max: 32 * 1024 }).map((n) => `spiffe://${"t".repeat(n)}/ns/x/sa/y`),
        hostileString(["spiffe://", "cluster.local", "/ns/", "/sa/", "a"], 256),
      ),
      sourceIp: ipEdge(),
      destinationIp: ipEdge(),
      port: fc.constantFrom(1, 80, 8080, 65535),
      sni: fc.oneof(fc.constant(null), hostileString(pool.snis, 512), fc.constant("s".repeat(255))),
      jwt: fc.oneof(
        fc.constant(null),
        fc.record({ iss: hostileString(pool.issuers), sub: hostileString(pool.subjects), groups: fc.array(hostileString(pool.claimValues), { maxLength: 50 }) }),
        fc.constant({ iss: pool.issuers[0], sub: "x", nested: { role: { deeper: { deepest: ["admin"] } } }, groups: new Array(1000).fill("admin") }),
      ),
    })
    .map((r) => {
      const headers: Record<string, string | string[]> = { ...r.headers };
      const request: CaseRequest = {
        protocol: "HTTP",
        method: r.method,
        path: r.rawPath,
        host: r.host,
        source_principal: r.san,
        source_ip: r.sourceIp,
        remote_ip: r.sourceIp,
        destination_ip: r.destinationIp,
        destination_port: r.port,
        sni: r.sni,
        jwt: r.jwt as Record<string, unknown> | null,
      };
      if (r.xff !== undefined) {
        headers["X-Forwarded-For"] = r.xff;
        request.remote_ip = remoteFromXff(r.xff, r.sourceIp);
      }
      request.headers = headers;
      const fixed = wellFormed(request);
      // What Envoy hands the filter after BASE normalization; a path Envoy rejects falls back to "/" here
      // (such a request never reaches any filter).
      fixed.path_normalized = normalizeBase(fixed.path!) ?? "/";
      return { workload: r.workload, request: fixed };
    });
}

export function hostileScenarioArb(requests = 20): fc.Arbitrary<Scenario> {
  return poolArb.chain((pool) =>
    fc
      .array(workloadArb(pool), { minLength: 1, maxLength: 2 })
      .chain((workloads) => fc.tuple(fc.constant(workloads), policiesArb(pool, workloads, 6)))
      .chain(([workloads, policies]) =>
        fc.record({
          mesh: fc.constant(pool.mesh),
          policies: fc.constant(policies),
          workloads: fc.constant(workloads),
          requests: fc.array(hostileRequestArb(pool, hintsFrom(policies)), { minLength: 1, maxLength: requests, size: "max" }),
        }),
      ),
  );
}
