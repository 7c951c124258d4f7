// Issue 10: a CI gate operators can trust. Each test is a defect of the CLI before this change.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { lastJsonLine, meshauthz, tempFile } from "./cli-runner.ts";

const policy = (name: string, extra = "", ns: string | null = "default") =>
  `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
${ns === null ? "" : `  namespace: ${ns}\n`}${extra}spec:
  selector: {matchLabels: {app: backend}}
  rules:
  - to: [{operation: {methods: ["GET"]}}]
`;

const caseFile = (request: string, extra = "") => `
cases:
- id: c1
  policies:
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: allow-get, namespace: default}
    spec: {rules: [{to: [{operation: {methods: [GET]}}]}]}
  workload: {namespace: default}
  request:
${request}
  expected: {decision: ALLOW}${extra}
`;

function noCrash(r: { status: number; stderr: string }) {
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, r.stderr);
}

describe("case files are read strictly", () => {
  test("an unknown key in request is an error with file:line:col and did-you-mean", () => {
    const f = tempFile("typo.yaml", caseFile("    method: GET\n    source_principle: spiffe://cluster.local/ns/default/sa/x"));
    const r = meshauthz(["test", f]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    noCrash(r);
    assert.match(r.stderr, /typo\.yaml:12:5: error: cases\[0\]\.request\.source_principle: unknown field "source_principle" \(did you mean "source_principal"\?\)/);
  });

  test("unknown keys in workload, expected, mesh and at the top level", () => {
    const text = caseFile("    method: GET").replace("workload: {namespace: default}", "workload: {namespace: default, label: {app: x}}")
      .replace("expected: {decision: ALLOW}", "expected: {decision: ALLOW, decided-by: none}\n  mesh: {trust_domian: td}") + "metadata: {}\n";
    const r = meshauthz(["test", tempFile("keys.yaml", text)]);
    assert.equal(r.status, 1);
    noCrash(r);
    assert.match(r.stderr, /cases\[0\]\.workload\.label: unknown field "label" \(did you mean "labels"\?\)/);
    assert.match(r.stderr, /cases\[0\]\.expected\.decided-by: unknown field "decided-by" \(did you mean "decided_by"\?\)/);
    assert.match(r.stderr, /cases\[0\]\.mesh\.trust_domian: unknown field "trust_domian" \(did you mean "trust_domain"\?\)/);
    assert.match(r.stderr, /keys\.yaml:\d+:1: error: metadata: unknown field "metadata"/);
  });

  test("bad values: a clear error with file:line:col and the field path, exit 1, no stack trace", () => {
    const f = tempFile("values.yaml", caseFile("    method: GET\n    source_ip: not-an-ip\n    destination_port: eighty\n    headers: {x-n: 5}"));
    const r = meshauthz(["test", f]);
    assert.equal(r.status, 1);
    noCrash(r);
    assert.match(r.stderr, /values\.yaml:12:5: error: cases\[0\]\.request\.source_ip: is not an IP address: "not-an-ip"/);
    assert.match(r.stderr, /values\.yaml:13:5: error: cases\[0\]\.request\.destination_port: must be a port number .* found the string "eighty"/);
    assert.match(r.stderr, /cases\[0\]\.request\.headers\.x-n: must be a string or a list of strings, found the number 5/);
  });

  test("the same strictness for check --request, with positions", () => {
    const req = tempFile("req.yaml", "workload: {namespace: default}\nrequest: {method: GET, destination_port: eighty}\n");
    const r = meshauthz(["check", "--policies", tempFile("p.yaml", policy("p")), "--request", req]);
    assert.equal(r.status, 1);
    noCrash(r);
    assert.match(r.stderr, /req\.yaml:2:24: error: request\.destination_port: must be a port number/);
  });

  test("a jwt given as a token string: its payload is decoded (unverified, with a note) and used", () => {
    const payload = Buffer.from(JSON.stringify({ iss: "https://issuer.example.com", sub: "alice" })).toString("base64url");
    const token = `eyJhbGciOiJSUzI1NiJ9.${payload}.c2lnbmF0dXJl`;
    const text = `
cases:
- id: needs-jwt
  policies:
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: jwt, namespace: default}
    spec: {rules: [{from: [{source: {requestPrincipals: ["https://issuer.example.com/alice"]}}]}]}
  workload: {namespace: default}
  request: {method: GET, path: /, jwt: ${token}}
  expected: {decision: ALLOW, decided_by: "ns[default]-policy[jwt]-rule[0]"}
`;
    const r = meshauthz(["test", tempFile("jwt.yaml", text)]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /jwt\.yaml:10:\d+: note: cases\[0\]\.request\.jwt: a JWT string: its payload is decoded and used WITHOUT verifying the signature/);
    const bad = meshauthz(["test", tempFile("jwt-bad.yaml", text.replace(token, "not-a-token"))]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /cases\[0\]\.request\.jwt: is a string but not a compact JWT/);
  });

  test("a bad inline policy in a case file is reported at its file:line:col", () => {
    const text = caseFile("    method: GET").replace("spec: {rules: [{to: [{operation: {methods: [GET]}}]}]}", "spec: {rules: [{to: [{operation: {ports: [eighty]}}]}]}");
    const r = meshauthz(["test", tempFile("inline-bad.yaml", text)]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /FAIL c1: policies rejected: .*inline-bad\.yaml:8:\d+: error: default\/allow-get: spec\.rules\[0\]\.to\[0\]\.operation\.ports\[0\]: bad port \(eighty\)/);
  });

  test("merge keys in case files resolve: the merged request is complete", () => {
    const text = `
cases:
- id: frontend-get
  policies: &policies
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: a, namespace: default}
    spec: {rules: [{from: [{source: {principals: [cluster.local/ns/default/sa/frontend]}}]}]}
  workload: {namespace: default}
  request: &base {method: GET, path: /api, source_principal: spiffe://cluster.local/ns/default/sa/frontend}
  expected: {decision: ALLOW}
- id: frontend-other-path-still-allowed
  policies: *policies
  workload: {namespace: default}
  request:
    <<: *base
    path: /other
  expected: {decision: ALLOW, decided_by: "ns[default]-policy[a]-rule[0]"}
`;
    // Without merge keys the second request would have no principal and be denied.
    const r = meshauthz(["test", tempFile("merge.yaml", text), "-o", "json"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(lastJsonLine(r.stdout).passed, 2);
  });
});

describe("skips fail the run unless --allow-skip", () => {
  const custom = `
cases:
- id: custom
  policies:
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: ext, namespace: default}
    spec: {action: CUSTOM, provider: {name: opa}, rules: [{}]}
  workload: {namespace: default}
  request: {method: GET, path: /, host: b}
  expected: {decision: DENY}
`;
  test("a skipped case: exit 1 with the reason; --allow-skip: exit 0", () => {
    const text = caseFile("    method: POST").replace("expected: {decision: ALLOW}", "expected: {decision: DENY, response: \"connection closed (rbac_access_denied_matched_policy[none])\"}");
    const f = tempFile("skip.yaml", text);
    const r = meshauthz(["test", f]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /SKIP /);
    assert.match(r.stderr, /1 case\(s\) skipped/);
    assert.equal(meshauthz(["test", f, "--allow-skip"]).status, 0);
  });
  test("a CUSTOM case is evaluated, not skipped: without ext_authz_decision it fails, saying why", () => {
    const r = meshauthz(["test", tempFile("custom.yaml", custom)]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /FAIL custom: the filter consulted the ext_authz provider, but the case gives no request\.ext_authz_decision/);
  });
  test("an expected.response this harness cannot check is a skip, not a pass", () => {
    const text = caseFile("    method: POST").replace("expected: {decision: ALLOW}", "expected: {decision: DENY, response: \"connection closed (rbac_access_denied_matched_policy[none])\"}");
    const r = meshauthz(["test", tempFile("resp.yaml", text), "-o", "json"]);
    assert.equal(r.status, 1);
    assert.equal(lastJsonLine(r.stdout).results[0].status, "skip");
  });
  test("a wrong expected.response fails", () => {
    const text = caseFile("    method: POST").replace("expected: {decision: ALLOW}", "expected: {decision: DENY, response: \"HTTP 403, body 'RBAC: access denied', details rbac_access_denied_matched_policy[ns[default]-policy[x]-rule[0]]\"}");
    const r = meshauthz(["test", tempFile("resp2.yaml", text), "-o", "json"]);
    assert.equal(r.status, 1);
    assert.match(lastJsonLine(r.stdout).results[0].reason, /details rbac_access_denied_matched_policy\[none\]; expected/);
  });
});

describe("compile and package refuse what would allow everything", () => {
  test("empty stdin, an empty file, only other kinds, only targetRefs policies: exit 1, nothing written", () => {
    const out = tempFile("never.blob", "");
    const inputs: Array<[string, string[], string | undefined, RegExp]> = [
      ["stdin", ["-"], "", /no YAML documents/],
      ["empty file", [tempFile("empty.yaml", "")], undefined, /no YAML documents/],
      ["comments only", [tempFile("comments.yaml", "# nothing\n---\n")], undefined, /no YAML documents/],
      ["other kinds", [tempFile("deploy.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n")], undefined, /1 ServiceAccount \(not an AuthorizationPolicy; first at .*deploy\.yaml:1:1\)/],
      [
        "targetRefs only",
        [tempFile("gw.yaml", policy("gw").replace("  selector: {matchLabels: {app: backend}}\n", "  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]\n"))],
        undefined,
        /1 AuthorizationPolicy with targetRef\/targetRefs \(applies to gateways and waypoints, not sidecars/,
      ],
    ];
    for (const [name, args, input, msg] of inputs) {
      const r = meshauthz(["compile", ...args, "-o", out], input);
      assert.equal(r.status, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, msg, name);
      assert.match(r.stderr, /allows every request; refusing to write it \(pass --allow-empty/, name);
      const p = meshauthz(["package", ...args, "--url", `oci://r/m@sha256:${"a".repeat(64)}`, "-o", out], input);
      assert.equal(p.status, 1, `package ${name}: ${p.stderr}`);
      assert.match(p.stderr, /refusing to write it/, `package ${name}`);
    }
    const ok = meshauthz(["compile", "-", "-o", out, "--allow-empty"], "");
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, /--allow-empty: this blob allows every request/);
  });

  test("a set with sidecar policies says how many documents were skipped and why", () => {
    const f = tempFile("mixed.yaml", `${policy("a")}---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: default}\n`);
    const r = meshauthz(["compile", f, "-o", tempFile("mixed.blob", "")]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /compiled 1 policies .*; 1 document\(s\) skipped: 1 ServiceAccount/);
  });

  test("CUSTOM policies without a mesh config: compile, lint and package warn with file:line that matching requests are denied", () => {
    const f = tempFile("custom.yaml", policy("ext", "").replace("spec:\n", "spec:\n  action: CUSTOM\n  provider: {name: opa}\n"));
    for (const args of [["compile", f, "-o", tempFile("c.blob", "")], ["lint", f], ["package", f, "--url", `oci://r/m@sha256:${"a".repeat(64)}`, "-o", tempFile("c.yaml", "")]]) {
      const r = meshauthz(args);
      assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /custom\.yaml:8:\d+: warning: default\/ext: spec\.provider\.name: CUSTOM provider "opa" cannot be resolved: no mesh config given .*requests matching its rules are denied \(403\), as istiod does for an undefined provider/, args[0]);
    }
  });
});

describe("lint reports what compile rejects", () => {
  test("a duplicate name across files: both exit 1, naming both locations", () => {
    const a = tempFile("dup-a.yaml", policy("same"));
    const b = tempFile("dup-b.yaml", policy("same"));
    for (const args of [["lint", a, b], ["compile", a, b, "-o", tempFile("dup.blob", "")]]) {
      const r = meshauthz(args);
      assert.equal(r.status, 1, `${args[0]}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /dup-b\.yaml:4:3: error: default\/same: metadata\.name: duplicate AuthorizationPolicy default\/same \(first defined at .*dup-a\.yaml:4:3\)/, args[0]);
    }
  });

  test("10,000 identical istiod warnings: grouped, --quiet prints one line, -o json lists every one", () => {
    const deny = (i: number) =>
      `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: d${i}, namespace: default}\nspec:\n  action: DENY\n  rules: [{to: [{operation: {methods: [POST]}}]}]\n`;
    const f = tempFile("many-deny.yaml", Array.from({ length: 300 }, (_, i) => deny(i)).join("---\n"));
    const r = meshauthz(["lint", f]);
    assert.equal(r.status, 0, r.stderr);
    const headers = r.stderr.split("\n").filter((l) => l.startsWith("warning: configured AuthorizationPolicy will deny all traffic to TCP ports"));
    assert.deepEqual(headers.length, 1, r.stderr.slice(0, 2000));
    assert.match(headers[0], /\(300x\):$/);
    assert.equal(r.stderr.split("\n").filter((l) => /^  .*many-deny\.yaml:\d+:\d+: default\/d\d+: spec\.rules\[0\]$/.test(l)).length, 300);
    const q = meshauthz(["lint", f, "--quiet"]);
    assert.equal(q.stderr.trim().split("\n").length, 1, q.stderr);
    assert.match(q.stderr, /\(300x, first at .*many-deny\.yaml:6:\d+\)/);
    const j = lastJsonLine(meshauthz(["lint", f, "-o", "json"]).stdout);
    assert.equal(j.diagnostics.filter((d: any) => d.severity === "warning").length, 300);
    assert.ok(j.diagnostics.every((d: any) => d.location?.file.endsWith("many-deny.yaml")));
  });
});

describe("policies without metadata.namespace (issue 9, class 6)", () => {
  test("a warning without --namespace; --namespace NS places them; a different namespace is an error (kubectl -n)", () => {
    const f = tempFile("no-ns.yaml", policy("nons", "", null));
    const out = tempFile("ns.blob", "");
    const w = meshauthz(["compile", f, "-o", out]);
    assert.equal(w.status, 0, w.stderr);
    assert.match(w.stderr, /no-ns\.yaml:3:1: warning: default\/nons: metadata\.namespace: metadata\.namespace is not set/);
    const req = tempFile("ns-req.yaml", "workload: {namespace: shop, labels: {app: backend}}\nrequest: {method: POST, path: /}\n");
    const inShop = meshauthz(["check", "--policies", f, "--namespace", "shop", "--request", req, "-o", "json"]);
    assert.equal(inShop.status, 0, inShop.stderr);
    assert.doesNotMatch(inShop.stderr, /metadata\.namespace is not set/);
    assert.equal(lastJsonLine(inShop.stdout).policy, "none"); // the ALLOW policy applies in shop: POST is denied
    const mismatch = meshauthz(["compile", tempFile("other-ns.yaml", policy("o", "", "prod")), "-n", "shop", "-o", out]);
    assert.equal(mismatch.status, 1);
    assert.match(mismatch.stderr, /the namespace from the provided object "prod" does not match the namespace "shop"\. You must pass '--namespace=prod' to perform this operation\./);
  });
});

describe("--istio-version", () => {
  const annotated = (a: string) => policy("ann", `  annotations: {${a}: x}\n`);
  test("internal.istio.io/parent-namespace and /parents: rejected since 1.27, accepted by 1.26", () => {
    for (const a of ["internal.istio.io/parent-namespace", "internal.istio.io/parents"]) {
      const f = tempFile("ann.yaml", annotated(a));
      const r = meshauthz(["lint", f]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`"${a.replace(/[./]/g, "\\$&")}" annotation found, this may not be set by users`));
      assert.equal(meshauthz(["lint", f, "--istio-version", "1.27"]).status, 1);
      assert.equal(meshauthz(["lint", f, "--istio-version", "1.26"]).status, 0);
    }
  });
  test("trustDomains: a field of 1.31; source.trustDomain: unknown before 1.30, unchecked in 1.30, CheckWildcardValues in 1.31", () => {
    const td = tempFile("td.yaml", policy("td").replace("  - to:", "  - from: [{source: {trustDomains: [a.local]}}]\n    to:"));
    assert.equal(meshauthz(["lint", td]).status, 0);
    const old = meshauthz(["lint", td, "--istio-version", "1.30"]);
    assert.equal(old.status, 1);
    assert.match(old.stderr, /unknown field "spec\.rules\[0\]\.from\[0\]\.source\.trustDomains" \(added in Istio 1\.31/);
    const when = tempFile("when.yaml", policy("w").replace("  - to:", "  - when: [{key: source.trustDomain, values: [\"a*b\"]}]\n    to:"));
    assert.match(meshauthz(["lint", when]).stderr, /wildcard is only allowed at the start or end, found in source\.trustDomain: "a\*b"/);
    assert.equal(meshauthz(["lint", when, "--istio-version", "1.30"]).status, 0);
    assert.match(meshauthz(["lint", when, "--istio-version", "1.29"]).stderr, /unknown attribute: source\.trustDomain/);
  });
  test("a bad or unsupported version is a usage error", () => {
    const f = tempFile("v.yaml", policy("v"));
    for (const v of ["1.25", "2.0", "latest"]) {
      const r = meshauthz(["lint", f, "--istio-version", v]);
      assert.equal(r.status, 2, v);
      assert.match(r.stderr, /supported: 1\.26 to 1\.31/);
    }
  });
});
