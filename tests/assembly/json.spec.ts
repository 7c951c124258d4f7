import { Engine, JsonError, PluginJson, jsonUnescape, scanPluginJson } from "../../assembly/config/json";

function scan(s: string): PluginJson {
  const b = String.UTF8.encode(s);
  return scanPluginJson(changetype<usize>(b), <usize>b.byteLength);
}

/** The policy as decoded in place (at the start of the text); null when not valid base64. */
function policyOf(s: string): string | null {
  const b = String.UTF8.encode(s);
  const j = scanPluginJson(changetype<usize>(b), <usize>b.byteLength);
  if (j.error != JsonError.None || !j.policyValid) return null;
  return String.UTF8.decodeUnsafe(changetype<usize>(b), j.policyLen);
}

function unescape(raw: string): string | null {
  const b = String.UTF8.encode(raw);
  const out = new ArrayBuffer(b.byteLength);
  const n = jsonUnescape(changetype<usize>(b), <usize>b.byteLength, changetype<usize>(out));
  if (n < 0) return null;
  return String.UTF8.decodeUnsafe(changetype<usize>(out), <usize>n);
}

describe("pluginConfig JSON scanner", () => {
  it("finds policy and engine, and decodes the policy in place", () => {
    const j = scan('{"policy":"TUFaQg==","engine":"linear"}');
    expect<JsonError>(j.error).toBe(JsonError.None);
    expect<bool>(j.policyFound).toBe(true);
    expect<bool>(j.engineFound).toBe(true);
    expect<i32>(j.engine).toBe(Engine.Linear);
    expect<string | null>(policyOf('{"policy":"TUFaQg==","engine":"linear"}')).toBe("MAZB");
    expect<string | null>(policyOf('{"engine":"indexed","policy":"TUFaQkJC"}')).toBe("MAZBBB");
    expect<i32>(scan('{"engine":"fast","policy":"TUFaQg=="}').engine).toBe(Engine.Other);
    expect<string>(scan('{"engine":"fast","policy":"TUFaQg=="}').engineText).toBe("fast");
  });
  it("decodes a long policy (fast path) and one with JSON escapes (slow path) alike", () => {
    let b64 = "";
    for (let i = 0; i < 300; i++) b64 += "TUFaQkJC";
    b64 += "TUFaQg==";
    const plain = policyOf('{"policy":"' + b64 + '"}');
    expect<bool>(plain !== null).toBe(true);
    expect<i32>(plain!.length).toBe(1804);
    expect<string | null>(policyOf('{"policy":"' + b64.replaceAll("T", "\\u0054") + '"}')).toBe(plain);
    expect<string | null>(policyOf('{"policy":"\\/\\/\\/\\/"}')).toBe(policyOf('{"policy":"////"}'));
  });
  it("reports invalid base64 in a syntactically valid string", () => {
    const j = scan('{"policy":"TUFa!g=="}');
    expect<JsonError>(j.error).toBe(JsonError.None);
    expect<bool>(j.policyFound).toBe(true);
    expect<bool>(j.policyValid).toBe(false);
    expect<JsonError>(scan('{"policy":"TUFa!g==" x}').error).toBe(JsonError.Syntax);
    expect<bool>(scan('{"policy":"TUFaQg="}').policyValid).toBe(false);
    expect<bool>(scan('{"policy":"TUFaQh=="}').policyValid).toBe(false);
    expect<bool>(scan('{"policy":"\\u00e9AAA"}').policyValid).toBe(false);
    expect<usize>(scan('{"policy":""}').policyChars).toBe(0);
  });
  it("accepts whitespace everywhere JSON allows it", () => {
    expect<JsonError>(scan(' \n{ "policy" :\t"x" ,\r\n "engine" : "indexed" } \n').error).toBe(JsonError.None);
  });
  it("skips unknown members of every JSON type", () => {
    const j = scan('{"a":1,"b":-2.5e+3,"c":true,"d":false,"e":null,"f":"s\\"x","g":[1,[2,{"h":[]}],{}],"i":{"j":{"k":"policy"}},"policy":"p"}');
    expect<JsonError>(j.error).toBe(JsonError.None);
    expect<bool>(j.policyFound).toBe(true);
    expect<usize>(j.policyChars).toBe(1);
  });
  it("does not take a nested \"policy\" for the top-level one", () => {
    const j = scan('{"x":{"policy":"nested"}}');
    expect<JsonError>(j.error).toBe(JsonError.None);
    expect<bool>(j.policyFound).toBe(false);
  });
  it("recognises an escaped key", () => {
    const j = scan('{"polic\\u0079":"p"}');
    expect<bool>(j.policyFound).toBe(true);
  });
  it("unescapes keys and the engine", () => {
    expect<string | null>(unescape("ab\\/cd")).toBe("ab/cd");
    expect<i32>(scan('{"engine":"line\\u0061r","policy":"TUFaQg=="}').engine).toBe(Engine.Linear);
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
