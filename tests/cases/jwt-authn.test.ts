// jwt_authn as Istio configures it (tools/cases/jwt-authn.ts): space-delimited claims and
// RequestAuthentication objects in case files.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  jwtAuthnMetadata,
  normalizePayload,
  type RequestAuthentication,
  spaceDelimitedClaimsFor,
  validateRequestAuthentication,
} from "../../tools/cases/jwt-authn.ts";

test("scope and permission strings become lists split on single spaces (absl::SkipEmpty)", () => {
  const md = jwtAuthnMetadata({ sub: "a b", scope: "read  write ", permission: "x", other: "p q" });
  assert.deepEqual(md, { "envoy.filters.http.jwt_authn": { payload: { sub: "a b", scope: ["read", "write"], permission: ["x"], other: "p q" } } });
});

test("empty or all-space strings stay strings; non-strings are untouched; tabs do not split", () => {
  assert.deepEqual(normalizePayload({ scope: "", permission: "   " }, ["scope", "permission"]), { scope: "", permission: "   " });
  assert.deepEqual(normalizePayload({ scope: ["a b"], permission: 3 }, ["scope", "permission"]), { scope: ["a b"], permission: 3 });
  assert.deepEqual(normalizePayload({ scope: "a\tb" }, ["scope"]), { scope: ["a\tb"] });
  assert.deepEqual(normalizePayload({ scope: Uint8Array.of(0x61, 0x20, 0xff) }, ["scope"]), { scope: [Uint8Array.of(0x61), Uint8Array.of(0xff)] });
  const proto = normalizePayload(JSON.parse('{"__proto__": "a b"}'), ["__proto__"]);
  assert.deepEqual(Object.getOwnPropertyDescriptor(proto, "__proto__")?.value, ["a", "b"]);
});

const ra = (ns: string, issuer: string, claims?: string[], labels?: Record<string, string>): RequestAuthentication => ({
  kind: "RequestAuthentication",
  metadata: { name: "jwt", namespace: ns },
  spec: { selector: labels ? { matchLabels: labels } : undefined, jwtRules: [{ issuer, spaceDelimitedClaims: claims }] },
});

test("a RequestAuthentication's spaceDelimitedClaims apply to its issuer at the workloads it selects", () => {
  const w = { namespace: "shop", labels: { app: "api" } };
  assert.deepEqual(spaceDelimitedClaimsFor([], w, "istio-system", "i"), ["permission", "scope"]);
  assert.deepEqual(spaceDelimitedClaimsFor([ra("shop", "i", ["roles"])], w, "istio-system", "i"), ["permission", "roles", "scope"]);
  assert.deepEqual(spaceDelimitedClaimsFor([ra("shop", "other", ["roles"])], w, "istio-system", "i"), ["permission", "scope"]);
  assert.deepEqual(spaceDelimitedClaimsFor([ra("istio-system", "i", ["mesh"])], w, "istio-system", "i"), ["mesh", "permission", "scope"]);
  assert.deepEqual(spaceDelimitedClaimsFor([ra("bank", "i", ["roles"])], w, "istio-system", "i"), ["permission", "scope"]);
  assert.deepEqual(spaceDelimitedClaimsFor([ra("shop", "i", ["roles"], { app: "web" })], w, "istio-system", "i"), ["permission", "scope"]);
  assert.deepEqual(spaceDelimitedClaimsFor([ra("shop", "i", ["roles"], { app: "api" })], w, "istio-system", "i"), ["permission", "roles", "scope"]);
});

test("RequestAuthentication fields are checked against the CRD's constraints", () => {
  assert.deepEqual(validateRequestAuthentication(ra("shop", "i", ["roles"]), "p"), []);
  const bad = {
    kind: "RequestAuthentication",
    metadata: { namespace: "shop" },
    spec: {
      selector: { matchLabels: { "": "x", a: "b*" } },
      jwtRules: [{ issuer: "", spaceDelimitedClaims: ["", 3] }, { issuer: "i", spaceDelimitedClaims: Array(65).fill("c") }, "x"],
    },
  };
  assert.deepEqual(validateRequestAuthentication(bad, "p"), [
    "p.metadata.name: Required value",
    "p.spec.selector.matchLabels[]: key must not be empty",
    "p.spec.selector.matchLabels[a]: wildcard not allowed in label value match",
    "p.spec.jwtRules[0].issuer: issuer must be set",
    "p.spec.jwtRules[0].spaceDelimitedClaims[0]: must be a non-empty string",
    "p.spec.jwtRules[0].spaceDelimitedClaims[1]: must be a non-empty string",
    "p.spec.jwtRules[1].spaceDelimitedClaims: Too many: 65: must have at most 64 items",
    "p.spec.jwtRules[2]: must be an object",
  ]);
});
