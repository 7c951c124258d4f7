// proxy_on_configure: configuration forms, fail-closed behaviour, node metadata fallbacks.
import { Host } from "./helpers/host";
import { A, ALLOW, BlobBuilder, K, poke8, seal } from "./helpers/blob";
import { base64, configureJson, configureRaw, configureRoot, node, request, result, typicalRequest } from "./helpers/filter";
export { malloc } from "./helpers/host";

const CRITICAL = 5;

function allowGetBlob(): ArrayBuffer {
  const b = new BlobBuilder();
  const p = b.policy("shop", "allow-get", ALLOW);
  b.rule(p, 0, b.leaf(A.Method, K.Exact, "GET"));
  return b.build();
}

function expectInvalid(root: u32, why: string): void {
  Host.resetRequest();
  typicalRequest("GET", "/");
  expect<u32>(request(root)).toBe(4);
  expect<i32>(Host.replyStatus()).toBe(403);
  expect<string | null>(Host.replyDetails()).toBe("meshauthz_invalid_config");
  expect<string | null>(Host.replyBody()).toBe("RBAC: access denied");
  expect<string | null>(result()).toBe("denied");
}

function configureText(text: string): u32 {
  Host.resetRequest();
  node("shop");
  Host.configText(text);
  return configureRoot(<u32>String.UTF8.byteLength(text));
}

describe("configuration forms", () => {
  it("accepts pluginConfig JSON with a base64 blob", () => {
    Host.resetRequest();
    node("shop");
    const root = configureJson(allowGetBlob());
    expect<i32>(Host.logCount(CRITICAL)).toBe(0);
    Host.resetRequest();
    typicalRequest("GET", "/");
    expect<u32>(request(root)).toBe(0);
    expect<string | null>(result()).toBe("allowed");
    expect<string | null>(Host.filterState("meshauthz.policy")).toBe("ns[shop]-policy[allow-get]-rule[0]");
  });
  it("accepts the raw blob", () => {
    Host.resetRequest();
    node("shop");
    const root = configureRaw(allowGetBlob());
    Host.resetRequest();
    typicalRequest("POST", "/");
    expect<u32>(request(root)).toBe(4);
    expect<string | null>(Host.replyDetails()).toBe("rbac_access_denied_matched_policy[none]");
  });
  it("accepts engine linear and indexed, and ignores unknown keys of any type", () => {
    const blob = base64(allowGetBlob());
    for (let i = 0; i < 2; i++) {
      const engine = i == 0 ? "linear" : "indexed";
      const root = configureText('{"x":{"y":[1,2,{"z":null}]},"engine":"' + engine + '","policy":"' + blob + '","w":true}');
      expect<i32>(Host.logCount(CRITICAL)).toBe(0);
      Host.resetRequest();
      typicalRequest("GET", "/");
      expect<u32>(request(root)).toBe(0);
    }
  });
  it("accepts a policy string with JSON escapes", () => {
    const blob = base64(allowGetBlob()).replaceAll("/", "\\/");
    const root = configureText('{"policy":"' + blob + '"}');
    expect<i32>(Host.logCount(CRITICAL)).toBe(0);
    Host.resetRequest();
    typicalRequest("GET", "/");
    expect<u32>(request(root)).toBe(0);
  });
});

describe("fail closed on untrusted configuration", () => {
  it("no configuration at all", () => {
    Host.resetRequest();
    node("shop");
    const root = configureRoot(0);
    expect<i32>(Host.logCount(CRITICAL)).toBe(1);
    expectInvalid(root, "empty");
  });
  it("bad JSON", () => {
    const root = configureText('{"policy": "abc"');
    expect<i32>(Host.logCount(CRITICAL)).toBe(1);
    expect<bool>(Host.lastLog()!.includes("invalid JSON")).toBe(true);
    expectInvalid(root, "json");
  });
  it("missing policy, bad engine, bad base64", () => {
    expectInvalid(configureText('{"engine":"linear"}'), "no policy");
    expect<bool>(Host.lastLog() === null).toBe(true); // cleared by expectInvalid's reset
    const r2 = configureText('{"policy":"' + base64(allowGetBlob()) + '","engine":"fast"}');
    expect<bool>(Host.lastLog()!.includes("engine")).toBe(true);
    expectInvalid(r2, "engine");
    const r3 = configureText('{"policy":"TUFaQg=!"}');
    expect<bool>(Host.lastLog()!.includes("base64")).toBe(true);
    expectInvalid(r3, "base64");
  });
  it("a blob the decoder rejects, with the reason in the critical log", () => {
    const b = allowGetBlob();
    poke8(b, b.byteLength - 1, 0x11);
    const root = configureText('{"policy":"' + base64(b) + '"}');
    expect<bool>(Host.lastLog()!.includes("bad_checksum")).toBe(true);
    expectInvalid(root, "checksum");
  });
  it("checks the rules a workload uses: a bad rule elsewhere is not read, one here is fatal", () => {
    const b = new BlobBuilder();
    const other = b.policy("other", "deny-bad", 1);
    b.rule(other, 0, b.cidr(A.SourceIp, [10, 1, 2, 3], 16)); // host bits set: invalid
    const p = b.policy("shop", "allow-get", ALLOW);
    b.rule(p, 0, b.leaf(A.Method, K.Exact, "GET"));
    const blob = b.build();
    Host.resetRequest();
    node("shop");
    const shop = configureRaw(blob);
    expect<i32>(Host.logCount(CRITICAL)).toBe(0);
    Host.resetRequest();
    typicalRequest("GET", "/");
    expect<u32>(request(shop)).toBe(0);
    Host.resetRequest();
    node("other");
    const root = configureRaw(blob);
    expect<bool>(Host.lastLog()!.includes("bad_leaf_operand at leaf 0")).toBe(true);
    expectInvalid(root, "bad leaf");
  });
  it("unknown namespace", () => {
    Host.resetRequest();
    Host.config(allowGetBlob());
    const root = configureRoot(<u32>allowGetBlob().byteLength);
    expect<bool>(Host.lastLog()!.includes("unknown namespace")).toBe(true);
    expectInvalid(root, "namespace");
  });
  it("malformed LABELS", () => {
    Host.resetRequest();
    node("shop");
    Host.property("xds\0node\0metadata\0LABELS", "not a map");
    Host.config(allowGetBlob());
    const root = configureRoot(<u32>allowGetBlob().byteLength);
    expect<bool>(Host.lastLog()!.includes("LABELS")).toBe(true);
    expectInvalid(root, "labels");
  });
  it("a stream whose root was never configured", () => {
    Host.resetRequest();
    typicalRequest("GET", "/");
    expect<u32>(request(777)).toBe(4);
    expect<string | null>(Host.replyDetails()).toBe("meshauthz_invalid_config");
  });
  it("counts an invalid-config denial in rbac.denied", () => {
    const root = configureText("{}");
    const before = Host.metric("rbac.denied");
    Host.resetRequest();
    typicalRequest("GET", "/");
    request(root);
    expect<f64>(Host.metric("rbac.denied")).toBe(before + 1);
  });
});

describe("node metadata", () => {
  it("falls back to node.metadata (Envoy <= 1.32) on NotFound", () => {
    Host.resetRequest();
    Host.property("node\0metadata\0NAMESPACE", "shop");
    const root = configureRaw(allowGetBlob());
    expect<i32>(Host.logCount(CRITICAL)).toBe(0);
    Host.resetRequest();
    typicalRequest("GET", "/");
    expect<u32>(request(root)).toBe(0);
    expect<string | null>(Host.filterState("meshauthz.policy")).toBe("ns[shop]-policy[allow-get]-rule[0]");
  });
  it("selects policies by namespace, root namespace and labels", () => {
    const b = new BlobBuilder("istio-system");
    const other = b.policy("other", "deny-all", 1);
    b.rule(other, 0, b.any());
    const mesh = b.policy("istio-system", "mesh-allow", ALLOW);
    b.rule(mesh, 0, b.leaf(A.UrlPath, K.Exact, "/mesh"));
    const sel = b.policy("shop", "web-only", ALLOW, false, "", ["app", "web", "tier", "front"]);
    b.rule(sel, 0, b.leaf(A.UrlPath, K.Exact, "/web"));
    const blob = b.build();

    // app=web, tier=front: both ALLOW policies apply; the other namespace's DENY does not.
    Host.resetRequest();
    node("shop", ["app", "web", "tier", "front", "version", "v1"]);
    const both = configureRaw(blob);
    Host.resetRequest();
    typicalRequest("GET", "/web");
    expect<u32>(request(both)).toBe(0);
    Host.resetRequest();
    typicalRequest("GET", "/mesh");
    expect<u32>(request(both)).toBe(0);
    Host.resetRequest();
    typicalRequest("GET", "/other");
    expect<u32>(request(both)).toBe(4);

    // app=web only: the selector does not match; the root-namespace policy still applies.
    Host.resetRequest();
    node("shop", ["app", "web"]);
    const rootOnly = configureRaw(blob);
    Host.resetRequest();
    typicalRequest("GET", "/web");
    expect<u32>(request(rootOnly)).toBe(4);
    Host.resetRequest();
    typicalRequest("GET", "/mesh");
    expect<u32>(request(rootOnly)).toBe(0);

    // tier=back: value differs.
    Host.resetRequest();
    node("shop", ["app", "web", "tier", "back"]);
    const wrongValue = configureRaw(blob);
    Host.resetRequest();
    typicalRequest("GET", "/web");
    expect<u32>(request(wrongValue)).toBe(4);

    // namespace "other": its DENY applies, plus the root namespace's ALLOW.
    Host.resetRequest();
    node("other");
    const otherNs = configureRaw(blob);
    Host.resetRequest();
    typicalRequest("GET", "/mesh");
    expect<u32>(request(otherNs)).toBe(4);
    expect<string | null>(Host.replyDetails()).toBe("rbac_access_denied_matched_policy[ns[other]-policy[deny-all]-rule[0]]");
  });
});
