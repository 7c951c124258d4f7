import { JsonError, PluginJson, jsonUnescape, scanPluginJson } from "../../assembly/config/json";

function scan(s: string): PluginJson {
  const b = String.UTF8.encode(s);
  return scanPluginJson(changetype<usize>(b), <usize>b.byteLength);
}

function policyOf(s: string): string {
  const b = String.UTF8.encode(s);
  const j = scanPluginJson(changetype<usize>(b), <usize>b.byteLength);
  return String.UTF8.decodeUnsafe(j.policy.start, j.policy.len);
}

function unescape(raw: string): string | null {
  const b = String.UTF8.encode(raw);
  const out = new ArrayBuffer(b.byteLength);
  const n = jsonUnescape(changetype<usize>(b), <usize>b.byteLength, changetype<usize>(out));
  if (n < 0) return null;
  return String.UTF8.decodeUnsafe(changetype<usize>(out), <usize>n);
}

describe("pluginConfig JSON scanner", () => {
  it("finds policy and engine", () => {
    const j = scan('{"policy":"TUFaQg==","engine":"linear"}');
    expect<JsonError>(j.error).toBe(JsonError.None);
    expect<bool>(j.policy.found).toBe(true);
    expect<bool>(j.engine.found).toBe(true);
    expect<string>(policyOf('{"policy":"TUFaQg==","engine":"linear"}')).toBe("TUFaQg==");
  });
  it("accepts whitespace everywhere JSON allows it", () => {
    expect<JsonError>(scan(' \n{ "policy" :\t"x" ,\r\n "engine" : "indexed" } \n').error).toBe(JsonError.None);
  });
  it("skips unknown members of every JSON type", () => {
    const j = scan('{"a":1,"b":-2.5e+3,"c":true,"d":false,"e":null,"f":"s\\"x","g":[1,[2,{"h":[]}],{}],"i":{"j":{"k":"policy"}},"policy":"p"}');
    expect<JsonError>(j.error).toBe(JsonError.None);
    expect<bool>(j.policy.found).toBe(true);
    expect<usize>(j.policy.len).toBe(1);
  });
  it("does not take a nested \"policy\" for the top-level one", () => {
    const j = scan('{"x":{"policy":"nested"}}');
    expect<JsonError>(j.error).toBe(JsonError.None);
    expect<bool>(j.policy.found).toBe(false);
  });
  it("recognises an escaped key", () => {
    const j = scan('{"polic\\u0079":"p"}');
    expect<bool>(j.policy.found).toBe(true);
  });
  it("marks escaped string values", () => {
    const j = scan('{"policy":"ab\\/cd"}');
    expect<bool>(j.policy.escaped).toBe(true);
    expect<string | null>(unescape("ab\\/cd")).toBe("ab/cd");
  });
  it("rejects a non-object", () => {
    expect<JsonError>(scan('["policy"]').error).toBe(JsonError.NotObject);
    expect<JsonError>(scan('"policy"').error).toBe(JsonError.NotObject);
    expect<JsonError>(scan("").error).toBe(JsonError.NotObject);
  });
  it("rejects syntax errors", () => {
    expect<JsonError>(scan('{"policy":"p",}').error).toBe(JsonError.Syntax);
    expect<JsonError>(scan('{"policy":"p"').error).toBe(JsonError.Syntax);
    expect<JsonError>(scan('{"policy":"p"} x').error).toBe(JsonError.Syntax);
    expect<JsonError>(scan('{"a":01}').error).toBe(JsonError.Syntax);
    expect<JsonError>(scan('{"a":1.}').error).toBe(JsonError.Syntax);
    expect<JsonError>(scan('{"a":tru}').error).toBe(JsonError.Syntax);
    expect<JsonError>(scan('{"a":[1,]}').error).toBe(JsonError.Syntax);
    expect<JsonError>(scan('{"a":{"b"}}').error).toBe(JsonError.Syntax);
    expect<JsonError>(scan('{"a":"\\x"}').error).toBe(JsonError.Syntax);
    expect<JsonError>(scan('{"a":"\\u12G4"}').error).toBe(JsonError.Syntax);
    expect<JsonError>(scan('{"a":"tab\there"}').error).toBe(JsonError.Syntax);
    expect<JsonError>(scan("{'a':1}").error).toBe(JsonError.Syntax);
    expect<JsonError>(scan('{"a":[}').error).toBe(JsonError.Syntax);
    expect<JsonError>(scan('{"a":[1}').error).toBe(JsonError.Syntax);
  });
  it("limits nesting depth without recursion", () => {
    let ok = '{"a":';
    for (let i = 0; i < 30; i++) ok += "[";
    for (let i = 0; i < 30; i++) ok += "]";
    ok += "}";
    expect<JsonError>(scan(ok).error).toBe(JsonError.None);
    let deep = '{"a":';
    for (let i = 0; i < 100000; i++) deep += "[";
    expect<JsonError>(scan(deep).error).toBe(JsonError.TooDeep);
  });
  it("rejects duplicate policy or engine members", () => {
    const j = scan('{"policy":"a","policy":"b"}');
    expect<JsonError>(j.error).toBe(JsonError.DuplicateKey);
    expect<string>(j.member).toBe("policy");
    expect<JsonError>(scan('{"engine":"linear","policy":"a","engine":"indexed"}').error).toBe(JsonError.DuplicateKey);
  });
  it("rejects a non-string policy or engine", () => {
    expect<JsonError>(scan('{"policy":1}').error).toBe(JsonError.NotString);
    expect<JsonError>(scan('{"engine":["linear"],"policy":"p"}').error).toBe(JsonError.NotString);
  });
  it("unescapes \\uXXXX including surrogate pairs, and rejects lone surrogates", () => {
    expect<string | null>(unescape("\\u00e9\\n\\t\\\"\\\\")).toBe("é\n\t\"\\");
    expect<string | null>(unescape("\\ud83d\\ude00")).toBe("😀");
    expect<string | null>(unescape("\\ud83d")).toBeNull();
    expect<string | null>(unescape("\\ude00")).toBeNull();
  });
});
