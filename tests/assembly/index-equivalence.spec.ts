// The indexed engine must decide exactly like the linear one (same verdict, same effective ids,
// same shadow results), while evaluating only candidate rules.
import { buffer, jwt, vList, vNum, vStr } from "./helpers/proto";
import { Host } from "./helpers/host";
import { A, ALLOW, AUDIT, BlobBuilder, DENY, IGNORE_CASE, K, LIST, pairs } from "./helpers/blob";
import { configureJson, node, request, typicalRequest } from "./helpers/filter";
import { rootPlugin } from "../../assembly/lifecycle/contexts";
export { malloc } from "./helpers/host";

let seed: u32 = 0x2545f491;
function rnd(n: i32): i32 {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return <i32>(seed % <u32>n);
}

const METHODS = ["GET", "POST", "PUT", "DELETE"];
const PATHS = ["/a", "/b", "/api/v1", "/api/v2/x", "/d/e", "/", "/static/x.css", "/A"];
const PREFIXES = ["/api/", "/d/", "/", "/static/", "/a"];
const HOSTS = ["shop.example.com", "SHOP.example.com", "api.example.com", "other"];
const TENANTS = ["acme", "beta", "gamma"];
const PRINCIPALS = ["ns/shop/sa/web", "ns/shop/sa/api", "ns/other/sa/x"];
const GROUPS = ["admins", "devs", "ops"];

function randomLeaf(b: BlobBuilder): u32 {
  switch (rnd(11)) {
    case 0: return b.leaf(A.Method, K.Exact, METHODS[rnd(METHODS.length)]);
    case 1: return b.leaf(A.UrlPath, K.Exact, PATHS[rnd(PATHS.length)]);
    case 2: return b.leaf(A.UrlPath, K.Prefix, PREFIXES[rnd(PREFIXES.length)]);
    case 3: return b.leaf(A.Host, K.Exact, HOSTS[rnd(HOSTS.length)], "", IGNORE_CASE);
    case 4: return b.leaf(A.Header, K.Exact, TENANTS[rnd(TENANTS.length)], "x-tenant");
    case 5: return b.leaf(A.PeerPrincipal, K.Exact, "spiffe://cluster.local/" + PRINCIPALS[rnd(PRINCIPALS.length)]);
    case 6: return b.cidr(A.SourceIp, [10, <u8>rnd(3), 0, 0], 16);
    case 7: return rnd(2) == 0 ? b.claimLeaf(K.Exact, GROUPS[rnd(GROUPS.length)], ["groups"], LIST) : b.claimLeaf(K.Exact, GROUPS[rnd(GROUPS.length)], ["sub"]);
    case 8: return b.leaf(A.UrlPath, K.Suffix, ".css");
    case 9: return b.leaf(A.Header, K.Prefix, TENANTS[rnd(TENANTS.length)].substring(0, 2), "x-tenant", IGNORE_CASE);
    default: return b.leaf(A.PeerPrincipal, K.NonEmpty);
  }
}

function randomTree(b: BlobBuilder, depth: i32): u32 {
  const r = rnd(10);
  if (depth <= 0 || r < 3) return randomLeaf(b);
  if (r == 3) return b.not(randomTree(b, depth - 1));
  if (r == 4) return b.any();
  const n = 1 + rnd(3);
  const kids = new Array<u32>();
  for (let i = 0; i < n; i++) kids.push(randomTree(b, depth - 1));
  return r < 8 ? b.and(kids) : b.or(kids);
}

function randomBlob(): ArrayBuffer {
  const b = new BlobBuilder();
  const pols: Array<u32> = [
    b.policy("shop", "allow-a", ALLOW),
    b.policy("shop", "allow-b", ALLOW),
    b.policy("shop", "deny-a", DENY),
    b.policy("shop", "dry-deny", DENY, true),
    b.policy("shop", "dry-allow", ALLOW, true),
    b.policy("istio-system", "audit", AUDIT),
  ];
  const counts: Array<u32> = [0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 400; i++) {
    const p = rnd(pols.length);
    // Narrow DENY rules (three leaves AND-ed) so that many requests reach the ALLOW stage.
    const root = p == 2 || p == 3 ? b.and([randomLeaf(b), randomLeaf(b), randomLeaf(b)]) : randomTree(b, 3);
    b.rule(pols[p], counts[p]++, root);
  }
  return b.build();
}

function randomRequest(): void {
  typicalRequest(METHODS[rnd(METHODS.length)], PATHS[rnd(PATHS.length)] + (rnd(3) == 0 ? "?q=1" : ""), rnd(4) == 0 ? "" : PRINCIPALS[rnd(PRINCIPALS.length)]);
  Host.header(":authority", HOSTS[rnd(HOSTS.length)]);
  if (rnd(3) != 0) Host.property("request\0headers\0x-tenant", TENANTS[rnd(TENANTS.length)]);
  Host.property("source\0address", "10." + rnd(4).toString() + ".1.1:" + (rnd(5) == 0 ? "0" : "4000"));
  if (rnd(6) == 0) Host.header("x-forwarded-for", "1.2.3.4");
  if (rnd(2) == 0) {
    const sub = rnd(3) == 0 ? vList([vStr(GROUPS[rnd(3)])]) : rnd(2) == 0 ? vNum(2) : vStr(GROUPS[rnd(3)]);
    Host.propertyBytes("metadata", buffer(jwt(["groups", "sub"], [vList([vStr(GROUPS[rnd(3)]), vStr(GROUPS[rnd(3)])]), sub])));
  }
}

const KEYS = ["meshauthz.policy", "meshauthz.audit", "meshauthz.shadow_deny", "meshauthz.shadow_deny_policy", "meshauthz.shadow_allow", "meshauthz.shadow_allow_policy"];

function outcome(root: u32, requestSeed: u32): string {
  Host.resetRequest();
  seed = requestSeed;
  randomRequest();
  let s = request(root).toString();
  const d = Host.replyDetails();
  s += "|" + (d === null ? "-" : d);
  for (let i = 0; i < KEYS.length; i++) {
    const v = Host.filterState(KEYS[i]);
    s += "|" + (v === null ? "-" : v);
  }
  return s;
}

describe("indexed engine = linear engine", () => {
  it("on random policies and requests", () => {
    let allowed = 0;
    let denied = 0;
    for (let round = 0; round < 4; round++) {
      seed = 0x9e3779b9 + <u32>round * 7919;
      const blob = randomBlob();
      Host.resetRequest();
      node("shop");
      const linear = configureJson(blob, "linear");
      Host.resetRequest();
      node("shop");
      const indexed = configureJson(blob, "indexed");
      for (let i = 0; i < 150; i++) {
        const rs = <u32>(round * 100003 + i * 7 + 1);
        const a = outcome(linear, rs);
        const b = outcome(indexed, rs);
        expect<string>(b).toBe(a);
        if (a.startsWith("0|")) allowed++;
        else denied++;
      }
    }
    // Both verdicts are well represented.
    expect<i32>(allowed).toBeGreaterThan(60);
    expect<i32>(denied).toBeGreaterThan(60);
  });
});

describe("indexed engine cost", () => {
  it("evaluates only candidates: 1 of 2000 exact-path rules", () => {
    const b = new BlobBuilder();
    const p = b.policy("shop", "allow-paths", ALLOW);
    for (let i: u32 = 0; i < 2000; i++) {
      b.rule(p, i, b.and([b.leaf(A.Method, K.Exact, "GET"), b.leaf(A.UrlPath, K.Exact, "/p" + i.toString())]));
    }
    const blob = b.build();
    Host.resetRequest();
    node("shop");
    const linear = configureJson(blob, "linear");
    Host.resetRequest();
    node("shop");
    const indexed = configureJson(blob, "indexed");

    Host.resetRequest();
    typicalRequest("GET", "/p1999");
    expect<u32>(request(linear)).toBe(0);
    const linearEvaluated = rootPlugin(linear)!.rt!.allow.evaluated;
    Host.resetRequest();
    typicalRequest("GET", "/p1999");
    expect<u32>(request(indexed)).toBe(0);
    expect<string | null>(Host.filterState("meshauthz.policy")).toBe("ns[shop]-policy[allow-paths]-rule[1999]");
    const indexedEvaluated = rootPlugin(indexed)!.rt!.allow.evaluated;
    // rule[1999] is the 1109th id in byte order; linear evaluates every rule before it.
    expect<u32>(linearEvaluated).toBe(1109);
    expect<u32>(indexedEvaluated).toBe(1);

    Host.resetRequest();
    typicalRequest("GET", "/nope");
    expect<u32>(request(indexed)).toBe(4);
    expect<u32>(rootPlugin(indexed)!.rt!.allow.evaluated).toBe(0);
  });
  it("prefixes of many lengths, case-folded hosts and the always-candidates keep blob order", () => {
    const b = new BlobBuilder();
    const p = b.policy("shop", "allow", ALLOW);
    b.rule(p, 0, b.leaf(A.UrlPath, K.Prefix, "/a/b/c/"));
    b.rule(p, 1, b.leaf(A.UrlPath, K.Prefix, "/a/"));
    b.rule(p, 2, b.not(b.leaf(A.Method, K.Exact, "GET"))); // not keyable: always a candidate
    b.rule(p, 3, b.leaf(A.Host, K.Exact, "API.example.com", "", IGNORE_CASE));
    b.rule(p, 4, b.leaf(A.UrlPath, K.Prefix, ""));
    const blob = b.build();
    Host.resetRequest();
    node("shop");
    const indexed = configureJson(blob, "indexed");
    // Ids in byte order: rule[0] < rule[1] < rule[2] < rule[3] < rule[4].
    Host.resetRequest();
    typicalRequest("GET", "/a/b/c/d");
    request(indexed);
    expect<string | null>(Host.filterState("meshauthz.policy")).toBe("ns[shop]-policy[allow]-rule[0]");
    Host.resetRequest();
    typicalRequest("GET", "/a/b");
    request(indexed);
    expect<string | null>(Host.filterState("meshauthz.policy")).toBe("ns[shop]-policy[allow]-rule[1]");
    Host.resetRequest();
    typicalRequest("POST", "/x");
    request(indexed);
    expect<string | null>(Host.filterState("meshauthz.policy")).toBe("ns[shop]-policy[allow]-rule[2]");
    Host.resetRequest();
    typicalRequest("GET", "/x");
    Host.header(":authority", "api.EXAMPLE.com");
    request(indexed);
    expect<string | null>(Host.filterState("meshauthz.policy")).toBe("ns[shop]-policy[allow]-rule[3]");
    Host.resetRequest();
    typicalRequest("GET", "/x");
    request(indexed);
    expect<string | null>(Host.filterState("meshauthz.policy")).toBe("ns[shop]-policy[allow]-rule[4]");
  });
});
