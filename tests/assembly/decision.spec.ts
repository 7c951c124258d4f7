// Decisions of blob-format §4 through the whole filter (fake host), for both engines.
import { Host } from "./helpers/host";
import { A, ALLOW, AUDIT, BlobBuilder, CUSTOM, DENY, IGNORE_CASE, JWT_FILTER, K, LIST, LIST_ONLY, bytesOf, pairs } from "./helpers/blob";
import { Bytes, buffer, cat, hex, jwt, metadata, struct, vBool, vList, vNull, vNum, vRaw, vStr, vStruct } from "./helpers/proto";
import { configureJson, node, policy, request, result, typicalRequest } from "./helpers/filter";
export { malloc } from "./helpers/host";

/** Linear and indexed roots for the same blob and workload. */
function roots(blob: ArrayBuffer, ns: string = "shop", labels: Array<string> = []): Array<u32> {
  const r = new Array<u32>();
  Host.resetRequest();
  node(ns, labels);
  r.push(configureJson(blob, "linear"));
  Host.resetRequest();
  node(ns, labels);
  r.push(configureJson(blob, "indexed"));
  return r;
}

// Request set-up is replayed for each engine: a function that sets host state.
type Setup = () => void;

/** Runs the request on every root and checks status and details (null = allowed). */
function expectDecision(rs: Array<u32>, setup: Setup, details: string | null, effective: string | null = null): void {
  for (let i = 0; i < rs.length; i++) {
    Host.resetRequest();
    setup();
    const status = request(rs[i]);
    if (details === null) {
      expect<u32>(status).toBe(0, "allowed");
      expect<i32>(Host.replyCount()).toBe(0);
      expect<string | null>(result()).toBe("allowed");
    } else {
      expect<u32>(status).toBe(4, "denied");
      expect<i32>(Host.replyStatus()).toBe(403);
      expect<string | null>(Host.replyDetails()).toBe(details);
      expect<string | null>(Host.replyBody()).toBe("RBAC: access denied");
      expect<string | null>(result()).toBe("denied");
    }
    expect<string | null>(policy()).toBe(effective);
  }
}

function deniedBy(id: string): string {
  return "rbac_access_denied_matched_policy[" + id + "]";
}

const NONE_DETAILS = "rbac_access_denied_matched_policy[none]";

describe("decision order", () => {
  it("no policies: allow, nothing recorded", () => {
    const rs = roots(new BlobBuilder().build());
    expectDecision(rs, () => typicalRequest("GET", "/"), null);
    expect<i32>(Host.filterStateCount()).toBe(0);
    expect<i32>(Host.calls("proxy_set_property")).toBe(0);
  });
  it("an ALLOW policy without rules allows nothing", () => {
    const b = new BlobBuilder();
    b.policy("shop", "allow-nothing", ALLOW);
    expectDecision(roots(b.build()), () => typicalRequest("GET", "/"), NONE_DETAILS);
  });
  it("a dry-run ALLOW policy alone does not restrict", () => {
    const b = new BlobBuilder();
    b.policy("shop", "dry-allow-nothing", ALLOW, true);
    expectDecision(roots(b.build()), () => typicalRequest("GET", "/"), null);
    expect<string | null>(Host.filterState("meshauthz.shadow_allow")).toBe("denied");
  });
  it("ALLOW: first matching rule is the effective id; a miss denies with none", () => {
    const b = new BlobBuilder();
    const p = b.policy("shop", "allow-api", ALLOW);
    b.rule(p, 0, b.and([b.leaf(A.Method, K.Exact, "GET"), b.leaf(A.UrlPath, K.Prefix, "/api/")]));
    b.rule(p, 1, b.leaf(A.UrlPath, K.Exact, "/health"));
    const rs = roots(b.build());
    expectDecision(rs, () => typicalRequest("GET", "/api/v1?x=1"), null, "ns[shop]-policy[allow-api]-rule[0]");
    expectDecision(rs, () => typicalRequest("GET", "/health#frag"), null, "ns[shop]-policy[allow-api]-rule[1]");
    expectDecision(rs, () => typicalRequest("POST", "/api/v1"), NONE_DETAILS);
  });
  it("DENY wins over ALLOW (Istio's deny-all + allow example)", () => {
    const b = new BlobBuilder();
    const d = b.policy("shop", "deny-all", DENY);
    b.rule(d, 0, b.any());
    const a = b.policy("shop", "allow-frontend", ALLOW);
    b.rule(a, 0, b.leaf(A.PeerPrincipal, K.Exact, "spiffe://cluster.local/ns/default/sa/frontend"));
    expectDecision(roots(b.build()), () => typicalRequest("GET", "/api/v1/data", "ns/default/sa/frontend"), deniedBy("ns[shop]-policy[deny-all]-rule[0]"), "ns[shop]-policy[deny-all]-rule[0]");
  });
  it("the effective id is the first in byte order: rule[10] before rule[2]", () => {
    const b = new BlobBuilder();
    const d = b.policy("shop", "deny", DENY);
    for (let i: u32 = 0; i < 11; i++) b.rule(d, i, b.leaf(A.UrlPath, K.Exact, i == 2 || i == 10 ? "/x" : "/y" + i.toString()));
    expectDecision(roots(b.build()), () => typicalRequest("GET", "/x"), deniedBy("ns[shop]-policy[deny]-rule[10]"), "ns[shop]-policy[deny]-rule[10]");
  });
  it("CUSTOM with an undefined provider is istiod's bad-CUSTOM DENY, before anything else; no match passes through", () => {
    const b = new BlobBuilder();
    const c = b.policy("shop", "ext", CUSTOM, false, "opa");
    b.rule(c, 0, b.leaf(A.UrlPath, K.Prefix, "/ext/"));
    const au = b.policy("shop", "audit", AUDIT);
    b.rule(au, 0, b.any());
    const rs = roots(b.build());
    const before = Host.metric("rbac.allowed");
    expectDecision(rs, () => typicalRequest("GET", "/ext/a"), deniedBy("istio-ext-authz-opa-ns[shop]-policy[ext]-rule[0]-deny-due-to-bad-CUSTOM-action"), "istio-ext-authz-opa-ns[shop]-policy[ext]-rule[0]-deny-due-to-bad-CUSTOM-action");
    expect<f64>(Host.metric("rbac.allowed")).toBe(before); // AUDIT never reached
    expect<string | null>(Host.filterState("meshauthz.audit")).toBeNull();
    expectDecision(rs, () => typicalRequest("GET", "/other"), null);
    expect<string | null>(Host.filterState("meshauthz.audit")).toBe("true");
  });
  it("AUDIT marks, never decides, and counts allowed", () => {
    const b = new BlobBuilder();
    const au = b.policy("istio-system", "mesh-audit", AUDIT);
    b.rule(au, 0, b.leaf(A.UrlPath, K.Prefix, "/audit/"));
    const rs = roots(b.build());
    const before = Host.metric("rbac.allowed");
    expectDecision(rs, () => typicalRequest("GET", "/audit/x"), null);
    expect<string | null>(Host.filterState("meshauthz.audit")).toBe("true");
    expectDecision(rs, () => typicalRequest("GET", "/other"), null);
    expect<string | null>(Host.filterState("meshauthz.audit")).toBeNull();
    expect<f64>(Host.metric("rbac.allowed")).toBe(before + 4);
  });
});

describe("host calls of a decision", () => {
  it("an allow by a rule writes its id; a denial writes nothing; counters wait for the tick", () => {
    const b = new BlobBuilder();
    const d = b.policy("shop", "deny-admin", DENY);
    b.rule(d, 0, b.leaf(A.UrlPath, K.Prefix, "/admin"));
    const a = b.policy("shop", "allow-get", ALLOW);
    b.rule(a, 0, b.leaf(A.Method, K.Exact, "GET"));
    const rs = roots(b.build());
    expect<u32>(Host.tickPeriod()).toBe(1000);
    const allowed0 = Host.metric("rbac.allowed");
    const denied0 = Host.metric("rbac.denied");
    for (let i = 0; i < rs.length; i++) {
      Host.resetRequest();
      typicalRequest("GET", "/x");
      expect<u32>(request(rs[i])).toBe(0);
      expect<i32>(Host.calls("proxy_set_property")).toBe(1);
      expect<string | null>(Host.filterState("meshauthz.policy")).toBe("ns[shop]-policy[allow-get]-rule[0]");
      expect<i32>(Host.calls("proxy_increment_metric")).toBe(0);
      Host.resetRequest();
      typicalRequest("GET", "/admin/x");
      expect<u32>(request(rs[i])).toBe(4);
      expect<i32>(Host.calls("proxy_set_property")).toBe(0);
      expect<i32>(Host.calls("proxy_send_local_response")).toBe(1);
      expect<string | null>(Host.replyDetails()).toBe("rbac_access_denied_matched_policy[ns[shop]-policy[deny-admin]-rule[0]]");
      Host.resetRequest();
      typicalRequest("POST", "/x");
      expect<u32>(request(rs[i])).toBe(4);
      expect<i32>(Host.calls("proxy_set_property")).toBe(0);
      expect<string | null>(Host.replyDetails()).toBe("rbac_access_denied_matched_policy[none]");
      expect<i32>(Host.calls("proxy_increment_metric")).toBe(0);
    }
    // Not yet in Envoy's counters: a tick adds them (GET /x: DENY allowed + ALLOW allowed; GET
    // /admin: DENY denied; POST /x: DENY allowed + ALLOW denied; per engine).
    expect<f64>(Host.metricNow("rbac.allowed")).toBe(allowed0);
    expect<f64>(Host.metric("rbac.allowed")).toBe(allowed0 + 6);
    expect<f64>(Host.metric("rbac.denied")).toBe(denied0 + 4);
    // Nothing pending: the next tick adds nothing.
    Host.resetRequest();
    Host.metric("rbac.allowed");
    expect<i32>(Host.calls("proxy_increment_metric")).toBe(0);
  });
});

describe("dry-run and counters", () => {
  it("shadow DENY and shadow ALLOW run in their stages and count separately", () => {
    const b = new BlobBuilder();
    const sd = b.policy("shop", "dry-deny", DENY, true);
    b.rule(sd, 0, b.leaf(A.Method, K.Exact, "DELETE"));
    const sa = b.policy("shop", "dry-allow", ALLOW, true);
    b.rule(sa, 0, b.leaf(A.Method, K.Exact, "GET"));
    const d = b.policy("shop", "deny-admin", DENY);
    b.rule(d, 0, b.leaf(A.UrlPath, K.Prefix, "/admin"));
    const a = b.policy("shop", "allow-all", ALLOW);
    b.rule(a, 0, b.any());
    const rs = roots(b.build());

    const allowed0 = Host.metric("rbac.allowed");
    const denied0 = Host.metric("rbac.denied");
    const dsd0 = Host.metric("rbac.istio_dry_run_deny_shadow_denied");
    const dsa0 = Host.metric("rbac.istio_dry_run_deny_shadow_allowed");
    const asa0 = Host.metric("rbac.istio_dry_run_allow_shadow_allowed");
    const asd0 = Host.metric("rbac.istio_dry_run_allow_shadow_denied");

    // DELETE /x: shadow deny would deny; enforced DENY passes; shadow allow would deny; ALLOW allows.
    expectDecision(rs, () => typicalRequest("DELETE", "/x"), null, "ns[shop]-policy[allow-all]-rule[0]");
    expect<string | null>(Host.filterState("meshauthz.shadow_deny")).toBe("denied");
    expect<string | null>(Host.filterState("meshauthz.shadow_deny_policy")).toBe("ns[shop]-policy[dry-deny]-rule[0]");
    expect<string | null>(Host.filterState("meshauthz.shadow_allow")).toBe("denied");
    expect<string | null>(Host.filterState("meshauthz.shadow_allow_policy")).toBeNull();
    // GET /admin: shadow deny allows; enforced DENY denies; the ALLOW stage is never reached.
    expectDecision(rs, () => typicalRequest("GET", "/admin"), deniedBy("ns[shop]-policy[deny-admin]-rule[0]"), "ns[shop]-policy[deny-admin]-rule[0]");
    expect<string | null>(Host.filterState("meshauthz.shadow_deny")).toBe("allowed");
    expect<string | null>(Host.filterState("meshauthz.shadow_allow")).toBeNull();
    // GET /x: shadow allow allows.
    expectDecision(rs, () => typicalRequest("GET", "/x"), null, "ns[shop]-policy[allow-all]-rule[0]");
    expect<string | null>(Host.filterState("meshauthz.shadow_allow")).toBe("allowed");
    expect<string | null>(Host.filterState("meshauthz.shadow_allow_policy")).toBe("ns[shop]-policy[dry-allow]-rule[0]");

    // Per engine (x2): DELETE: DENY allowed + ALLOW allowed; GET /admin: DENY denied; GET /x: 2 allowed.
    expect<f64>(Host.metric("rbac.allowed")).toBe(allowed0 + 8);
    expect<f64>(Host.metric("rbac.denied")).toBe(denied0 + 2);
    expect<f64>(Host.metric("rbac.istio_dry_run_deny_shadow_denied")).toBe(dsd0 + 2);
    expect<f64>(Host.metric("rbac.istio_dry_run_deny_shadow_allowed")).toBe(dsa0 + 4);
    expect<f64>(Host.metric("rbac.istio_dry_run_allow_shadow_allowed")).toBe(asa0 + 2);
    expect<f64>(Host.metric("rbac.istio_dry_run_allow_shadow_denied")).toBe(asd0 + 2);
  });
  it("an ALLOW miss counts denied once; a workload without policies counts nothing", () => {
    const b = new BlobBuilder();
    b.policy("shop", "allow-nothing", ALLOW);
    const rs = roots(b.build());
    const allowed0 = Host.metric("rbac.allowed");
    const denied0 = Host.metric("rbac.denied");
    expectDecision(rs, () => typicalRequest("GET", "/"), NONE_DETAILS);
    expect<f64>(Host.metric("rbac.denied")).toBe(denied0 + 2);
    const empty = roots(new BlobBuilder().build());
    expectDecision(empty, () => typicalRequest("GET", "/"), null);
    expect<f64>(Host.metric("rbac.allowed")).toBe(allowed0);
    expect<f64>(Host.metric("rbac.denied")).toBe(denied0 + 2);
  });
});

function ipBlob(): ArrayBuffer {
  const b = new BlobBuilder();
  const d = b.policy("shop", "deny-ip", DENY);
  b.rule(d, 0, b.cidr(A.SourceIp, [192, 168, 0, 0], 16));
  const a = b.policy("shop", "allow-ip", ALLOW);
  b.rule(a, 0, b.cidr(A.SourceIp, [10, 1, 0, 0], 16));
  const n = b.policy("shop", "allow-not-ip", ALLOW);
  b.rule(n, 0, b.and([b.leaf(A.UrlPath, K.Exact, "/not"), b.not(b.cidr(A.SourceIp, [172, 16, 0, 0], 12))]));
  return b.build();
}
describe("direct source IP (ipBlocks) is never trusted behind X-Forwarded-For", () => {
  it("trusts source.address without XFF and with a real port", () => {
    const rs = roots(ipBlob());
    expectDecision(rs, () => typicalRequest("GET", "/"), null, "ns[shop]-policy[allow-ip]-rule[0]");
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.property("source\0address", "192.168.3.4:5555");
    }, deniedBy("ns[shop]-policy[deny-ip]-rule[0]"), "ns[shop]-policy[deny-ip]-rule[0]");
    expectDecision(rs, () => {
      typicalRequest("GET", "/not");
      Host.property("source\0address", "8.8.8.8:5555");
    }, null, "ns[shop]-policy[allow-not-ip]-rule[0]");
  });
  it("with XFF: a DENY ipBlocks rule counts as matching, an ALLOW one as not matching", () => {
    const rs = roots(ipBlob());
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.header("x-forwarded-for", "10.1.2.3");
      Host.property("source\0address", "10.1.2.3:0");
    }, deniedBy("ns[shop]-policy[deny-ip]-rule[0]"), "ns[shop]-policy[deny-ip]-rule[0]");
  });
  it("port 0 makes it unknown too; NOT(unknown) is unknown, so notIpBlocks cannot widen access", () => {
    const b = new BlobBuilder();
    const a = b.policy("shop", "allow-ip", ALLOW);
    b.rule(a, 0, b.cidr(A.SourceIp, [10, 1, 0, 0], 16));
    b.rule(a, 1, b.not(b.cidr(A.SourceIp, [172, 16, 0, 0], 12)));
    const rs = roots(b.build());
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.property("source\0address", "10.1.2.3:0");
    }, NONE_DETAILS);
    // remote.ip (REMOTE_IP) reads source.address as is.
    const r = new BlobBuilder();
    const ra = r.policy("shop", "allow-remote", ALLOW);
    r.rule(ra, 0, r.cidr(A.RemoteIp, [10, 1, 0, 0], 16));
    expectDecision(roots(r.build()), () => {
      typicalRequest("GET", "/");
      Host.header("x-forwarded-for", "10.1.2.3");
      Host.property("source\0address", "10.1.2.3:0");
    }, null, "ns[shop]-policy[allow-remote]-rule[0]");
  });
  it("IPv6 source and destination", () => {
    const b = new BlobBuilder();
    const a = b.policy("shop", "allow-v6", ALLOW);
    b.rule(a, 0, b.and([b.cidr(A.SourceIp, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 32), b.cidr(A.DestinationIp, [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8)]));
    const rs = roots(b.build());
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.property("source\0address", "[2001:db8::7]:40000");
      Host.property("destination\0address", "[fd00::1]:8080");
    }, null, "ns[shop]-policy[allow-v6]-rule[0]");
    expectDecision(rs, () => typicalRequest("GET", "/"), NONE_DETAILS);
  });
});

describe("attributes", () => {
  it("peer principal: plaintext is absent, so notPrincipals matches it", () => {
    const b = new BlobBuilder();
    const d = b.policy("shop", "deny-plaintext", DENY);
    b.rule(d, 0, b.not(b.leaf(A.PeerPrincipal, K.NonEmpty)));
    const rs = roots(b.build());
    expectDecision(rs, () => typicalRequest("GET", "/"), deniedBy("ns[shop]-policy[deny-plaintext]-rule[0]"), "ns[shop]-policy[deny-plaintext]-rule[0]");
    expectDecision(rs, () => typicalRequest("GET", "/", "ns/shop/sa/web"), null);
  });
  it("hosts ignore case, methods do not", () => {
    const b = new BlobBuilder();
    const a = b.policy("shop", "allow-host", ALLOW);
    b.rule(a, 0, b.and([b.leaf(A.Host, K.Exact, "Shop.Example.com", "", IGNORE_CASE), b.leaf(A.Method, K.Exact, "GET")]));
    const rs = roots(b.build());
    expectDecision(rs, () => typicalRequest("GET", "/"), null, "ns[shop]-policy[allow-host]-rule[0]");
    expectDecision(rs, () => typicalRequest("get", "/"), NONE_DETAILS);
  });
  it("headers come from request.headers (joined values), absent headers are false", () => {
    const b = new BlobBuilder();
    const a = b.policy("shop", "allow-tenant", ALLOW);
    b.rule(a, 0, b.leaf(A.Header, K.Prefix, "acme", "x-tenant"));
    b.rule(a, 1, b.and([b.leaf(A.UrlPath, K.Exact, "/open"), b.not(b.leaf(A.Header, K.Present, "", "x-block"))]));
    const rs = roots(b.build());
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.property("request\0headers\0x-tenant", "acme-1,beta");
    }, null, "ns[shop]-policy[allow-tenant]-rule[0]");
    expectDecision(rs, () => typicalRequest("GET", "/open"), null, "ns[shop]-policy[allow-tenant]-rule[1]");
    expectDecision(rs, () => {
      typicalRequest("GET", "/open");
      Host.property("request\0headers\0x-block", "");
    }, NONE_DETAILS);
  });
  it("url_path is cut at the first ? or #; patterns see the cut path", () => {
    const b = new BlobBuilder();
    const a = b.policy("shop", "allow-tmpl", ALLOW);
    b.rule(a, 0, b.patternLeaf(A.UrlPath, ["/a/", "\x0021", "/b/", "\x0030"]));
    const rs = roots(b.build());
    expectDecision(rs, () => typicalRequest("GET", "/a/x/b/c/d?q=/a#f"), null, "ns[shop]-policy[allow-tmpl]-rule[0]");
    expectDecision(rs, () => typicalRequest("GET", "/a/x#/b/c"), NONE_DETAILS);
  });
  it("destination port and SNI", () => {
    const b = new BlobBuilder();
    const a = b.policy("shop", "allow-port", ALLOW);
    b.rule(a, 0, b.and([b.port(8080), b.leaf(A.Sni, K.Suffix, ".svc.cluster.local")]));
    const rs = roots(b.build());
    expectDecision(rs, () => typicalRequest("GET", "/"), null, "ns[shop]-policy[allow-port]-rule[0]");
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.propertyI64("destination\0port", 9090);
    }, NONE_DETAILS);
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.property("connection\0requested_server_name", "");
    }, NONE_DETAILS);
  });
  it("JWT claims are typed (metadata protobuf): strings match, lists with LIST_ELEMENTS, nothing else", () => {
    const b = new BlobBuilder();
    const a = b.policy("shop", "allow-jwt", ALLOW);
    b.rule(a, 0, b.claimLeaf(K.Exact, "admins", ["groups"], LIST));
    b.rule(a, 1, b.claimLeaf(K.Exact, "admin", ["realm", "role"]));
    b.rule(a, 2, b.claimLeaf(K.NonEmpty, "", ["exp"]));
    const rs = roots(b.build());
    const R0 = "ns[shop]-policy[allow-jwt]-rule[0]";
    const claim = (k: string, v: Bytes): void => {
      typicalRequest("GET", "/");
      Host.propertyBytes("metadata", buffer(jwt([k], [v])));
    };
    expectDecision(rs, () => claim("groups", vList([vStr("devs"), vStr("admins")])), null, R0);
    expectDecision(rs, () => claim("groups", vStr("admins")), null, R0);
    expectDecision(rs, () => claim("groups", vList([vStr("devs")])), NONE_DETAILS);
    expectDecision(rs, () => claim("groups", vList([vNull(), vNum(1), vStr("admins")])), null, R0); // null inside a list
    expectDecision(rs, () => claim("groups", vStruct(["admins"], [vStr("")])), NONE_DETAILS); // an object
    expectDecision(rs, () => claim("groups", vList([vList([vStr("admins")])])), NONE_DETAILS); // nested lists
    expectDecision(rs, () => claim("realm", vStruct(["role"], [vStr("admin")])), null, "ns[shop]-policy[allow-jwt]-rule[1]");
    expectDecision(rs, () => claim("realm", vStruct(["role"], [vList([vStr("admin")])])), NONE_DETAILS); // string matcher only
    expectDecision(rs, () => claim("realm", vList([vStruct(["role"], [vStr("admin")])])), NONE_DETAILS); // lists are not walked
    expectDecision(rs, () => claim("exp", vNum(1700000000.0)), NONE_DETAILS);
    expectDecision(rs, () => claim("exp", vNull()), NONE_DETAILS);
    expectDecision(rs, () => claim("exp", vBool(true)), NONE_DETAILS);
    expectDecision(rs, () => claim("exp", vStr("\x01")), null, "ns[shop]-policy[allow-jwt]-rule[2]"); // a string, not a bool
    expectDecision(rs, () => claim("exp", vStr("a\nb")), NONE_DETAILS); // .+ stops at \n
    expectDecision(rs, () => claim("exp", vRaw(hex("61ff"))), NONE_DETAILS); // not UTF-8
    expectDecision(rs, () => typicalRequest("GET", "/"), NONE_DETAILS); // no metadata at all
  });
  it("reads the metadata message lazily and once per request", () => {
    const b = new BlobBuilder();
    const a = b.policy("shop", "allow-post", ALLOW);
    b.rule(a, 0, b.and([b.leaf(A.Method, K.Exact, "POST"), b.claimLeaf(K.Exact, "admins", ["groups"], LIST)]));
    b.rule(a, 1, b.and([b.leaf(A.Method, K.Exact, "POST"), b.claimLeaf(K.NonEmpty, "", ["sub"])]));
    // (An EXACT claim leaf would be a rule-index key: the indexed engine then reads it to probe.)
    const rs = roots(b.build());
    for (let i = 0; i < rs.length; i++) {
      Host.resetRequest();
      typicalRequest("GET", "/");
      Host.propertyBytes("metadata", buffer(jwt(["sub"], [vStr("alice")])));
      request(rs[i]);
      expect<i32>(Host.calls("proxy_get_property")).toBe(0);
      Host.resetRequest();
      typicalRequest("POST", "/");
      Host.propertyBytes("metadata", buffer(jwt(["sub"], [vStr("alice")])));
      expect<u32>(request(rs[i])).toBe(0);
      expect<i32>(Host.calls("proxy_get_property")).toBe(1);
    }
  });
  it("notRequestPrincipals [*] denies a sub with a newline, a number, invalid UTF-8", () => {
    const b = new BlobBuilder();
    const d = b.policy("shop", "require-jwt", DENY);
    const iss = b.claimLeaf(K.NonEmpty, "", ["iss"]);
    const sub = b.claimLeaf(K.NonEmpty, "", ["sub"]);
    b.rule(d, 0, b.not(b.and([iss, sub])));
    const rs = roots(b.build());
    const ID = "ns[shop]-policy[require-jwt]-rule[0]";
    const DENIED = deniedBy(ID);
    const token = (v: Bytes): void => {
      typicalRequest("GET", "/");
      Host.propertyBytes("metadata", buffer(jwt(["iss", "sub"], [vStr("https://issuer"), v])));
    };
    expectDecision(rs, () => token(vStr("user1")), null);
    expectDecision(rs, () => token(vStr("user\n1")), DENIED, ID);
    expectDecision(rs, () => token(vNum(1.5)), DENIED, ID);
    expectDecision(rs, () => token(vList([vStr("user1")])), DENIED, ID);
    expectDecision(rs, () => token(vRaw(hex("75c0af"))), DENIED, ID);
    expectDecision(rs, () => token(vStr("")), DENIED, ID);
    expectDecision(rs, () => typicalRequest("GET", "/"), DENIED, ID);
  });
  it("malformed metadata bytes are UNKNOWN: a DENY matches, an ALLOW does not", () => {
    const b = new BlobBuilder();
    const d = b.policy("shop", "deny-admins", DENY);
    b.rule(d, 0, b.claimLeaf(K.Exact, "admins", ["groups"], LIST));
    const rs = roots(b.build());
    const ID = "ns[shop]-policy[deny-admins]-rule[0]";
    const DENIED = deniedBy(ID);
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.propertyBytes("metadata", buffer(hex("0aff"))); // a length past the end
    }, DENIED, ID);
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.propertyStatus("metadata", 3);
    }, DENIED, ID);
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      // A Value with two kinds (never written by Envoy).
      Host.propertyBytes("metadata", buffer(jwt(["groups"], [cat([vStr("x"), vNum(1)])])));
    }, DENIED, ID);
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.propertyBytes("metadata", buffer(jwt(["groups"], [vStr("users")])));
    }, null);
  });
  it("1.0 claim and metadata attributes read the same typed values", () => {
    const b = new BlobBuilder();
    const a = b.policy("shop", "allow-jwt", ALLOW);
    b.rule(a, 0, b.leaf(A.JwtClaim, K.Exact, "admin", "realm\0role", LIST));
    b.rule(a, 1, b.leaf(A.Metadata, K.Exact, "gold", "envoy.filters.http.ext_authz\0tenant", LIST));
    const rs = roots(b.build());
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.propertyBytes("metadata", buffer(jwt(["realm"], [vStruct(["role"], [vList([vStr("admin")])])])));
    }, null, "ns[shop]-policy[allow-jwt]-rule[0]");
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.propertyBytes("metadata", buffer(metadata("envoy.filters.http.ext_authz", struct(["tenant"], [vStr("gold")]))));
    }, null, "ns[shop]-policy[allow-jwt]-rule[1]");
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.propertyBytes("metadata", buffer(jwt(["realm"], [vNum(3)])));
    }, NONE_DETAILS);
  });
  it("dynamic metadata: [v] values match lists only; keys are literal (NUL, brackets)", () => {
    const b = new BlobBuilder();
    const a = b.policy("shop", "allow-md", ALLOW);
    const F = "envoy.filters.http.ext_authz";
    b.rule(a, 0, b.mdLeaf(K.Exact, "gold", [F, "tenant"], LIST_ONLY));
    b.rule(a, 1, b.mdLeaf(K.Exact, "x", [F, "a\0b"]));
    b.rule(a, 2, b.mdLeaf(K.Exact, "y", [JWT_FILTER, "payload][sub"]));
    const rs = roots(b.build());
    const md = (keys: Array<string>, values: Array<Bytes>): void => {
      typicalRequest("GET", "/");
      Host.propertyBytes("metadata", buffer(metadata(F, struct(keys, values))));
    };
    expectDecision(rs, () => md(["tenant"], [vList([vStr("silver"), vStr("gold")])]), null, "ns[shop]-policy[allow-md]-rule[0]");
    expectDecision(rs, () => md(["tenant"], [vStr("gold")]), NONE_DETAILS);
    expectDecision(rs, () => md(["a\0b"], [vStr("x")]), null, "ns[shop]-policy[allow-md]-rule[1]");
    expectDecision(rs, () => md(["a"], [vStruct(["b"], [vStr("x")])]), NONE_DETAILS);
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.propertyBytes("metadata", buffer(jwt(["sub"], [vStr("y")])));
    }, NONE_DETAILS); // payload.sub is not the key "payload][sub"
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.propertyBytes("metadata", buffer(metadata(JWT_FILTER, struct(["payload][sub"], [vStr("y")]))));
    }, null, "ns[shop]-policy[allow-md]-rule[2]");
    expectDecision(rs, () => typicalRequest("GET", "/"), NONE_DETAILS);
  });
  it("a host error reading an attribute is UNKNOWN: fail-safe per engine", () => {
    const b = new BlobBuilder();
    const d = b.policy("shop", "deny-post", DENY);
    b.rule(d, 0, b.leaf(A.Method, K.Exact, "POST"));
    const a = b.policy("shop", "allow-get", ALLOW);
    b.rule(a, 0, b.leaf(A.Method, K.Exact, "GET"));
    const rs = roots(b.build());
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.headerStatus(2); // BadArgument: headers not readable
    }, deniedBy("ns[shop]-policy[deny-post]-rule[0]"), "ns[shop]-policy[deny-post]-rule[0]");
  });
});

let big = "";

describe("hot path", () => {
  it("reads each attribute at most once, and only when a rule needs it", () => {
    const b = new BlobBuilder();
    const a = b.policy("shop", "allow", ALLOW);
    const tenant = b.leaf(A.Header, K.Exact, "acme", "x-tenant");
    b.rule(a, 0, b.and([b.leaf(A.Method, K.Exact, "POST"), tenant]));
    b.rule(a, 1, b.and([b.leaf(A.UrlPath, K.Exact, "/a"), tenant]));
    b.rule(a, 2, b.and([b.leaf(A.UrlPath, K.Prefix, "/b"), b.leaf(A.Header, K.Exact, "x", "x-other")]));
    const rs = roots(b.build());
    for (let i = 0; i < rs.length; i++) {
      Host.resetRequest();
      typicalRequest("GET", "/a");
      Host.property("request\0headers\0x-tenant", "acme");
      Host.property("request\0headers\0x-other", "x");
      expect<u32>(request(rs[i])).toBe(0);
      // :method and :path once each, x-tenant once, x-other never.
      expect<i32>(Host.calls("proxy_get_header_map_value")).toBe(2);
      expect<i32>(Host.calls("proxy_get_property")).toBe(1);
    }
  });
  it("keeps linear memory flat over many requests", () => {
    const b = new BlobBuilder();
    const a = b.policy("shop", "allow", ALLOW);
    b.rule(a, 0, b.and([b.leaf(A.Header, K.Exact, "acme", "x-tenant"), b.patternLeaf(A.UrlPath, ["/", "\x0030"])]));
    const rs = roots(b.build());
    for (let i = 0; i < 200; i++) {
      Host.resetRequest();
      typicalRequest("GET", "/a/b/c");
      Host.property("request\0headers\0x-tenant", "acme");
      request(rs[i & 1]);
    }
    const pages = memory.size();
    for (let i = 0; i < 3000; i++) {
      Host.resetRequest();
      typicalRequest("GET", "/a/b/c");
      Host.property("request\0headers\0x-tenant", "acme");
      request(rs[i & 1]);
    }
    expect<i32>(memory.size()).toBe(pages);
  });
  it("never traps on hostile values: 60 KiB headers, NUL bytes, invalid UTF-8", () => {
    const b = new BlobBuilder();
    const a = b.policy("shop", "allow", ALLOW);
    b.rule(a, 0, b.patternLeaf(A.UrlPath, ["\x0000", "a", "\x0000", "a", "\x0000", "b"]));
    b.rule(a, 1, b.leaf(A.Header, K.Suffix, "\0", "x-bin"));
    b.rule(a, 2, b.claimLeaf(K.Exact, "x", ["sub"], LIST));
    const rs = roots(b.build());
    big = "/";
    for (let i = 0; i < 61440; i++) big += "a";
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.header(":path", "/placeholder");
      Host.property("source\0address", "not-an-address");
    }, NONE_DETAILS);
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.headerBytes(":path", String.UTF8.encode(big));
    }, NONE_DETAILS);
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      Host.propertyBytes("request\0headers\0x-bin", bytesOf([0xff, 0xfe, 0x00]));
    }, null, "ns[shop]-policy[allow]-rule[1]");
    expectDecision(rs, () => {
      typicalRequest("GET", "/");
      // Truncated protobuf: UNKNOWN, which an ALLOW rule does not match.
      Host.propertyBytes("metadata", bytesOf([0x0a, 0x80]));
    }, NONE_DETAILS);
  });
});
