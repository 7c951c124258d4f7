// Case files carry what Envoy delivers as bytes (issue 9): header values and SNI as YAML !!binary, the whole
// peer certificate (every URI/DNS SAN, subject). `meshauthz test` accepts them and decides them through the
// .wasm: a byte that is not UTF-8 is not a `.` for RE2 (connection.sni `*` = `.+`); a filter sees only the
// first URI SAN, so an ALLOW on a second SAN does not match (the documented direction for ALLOW rules).
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { meshauthz } from "./cli-runner.ts";

const b64 = (...b: number[]) => Buffer.from(b).toString("base64");

test("case files: !!binary SNI and header values, peer_certificate with several SANs", () => {
  const dir = mkdtempSync(join(tmpdir(), "wire-"));
  const file = join(dir, "cases.yaml");
  writeFileSync(file, `
cases:
  - id: sni-invalid-utf8
    policies:
      - apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: sni, namespace: a}
        spec:
          rules: [{when: [{key: connection.sni, values: ["*"]}]}]
    workload: {namespace: a}
    request: {method: GET, path: /, host: svc, sni: !!binary "${b64(0x61, 0xc0, 0x80)}"}
    expected: {decision: DENY}
  - id: header-obs-text
    policies:
      - apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: h, namespace: a}
        spec:
          rules: [{when: [{key: "request.headers[x-user]", values: ["al*"]}]}]
    workload: {namespace: a}
    request: {method: GET, path: /, host: svc, headers: {x-user: !!binary "${b64(0x61, 0x6c, 0xff)}"}}
    expected: {decision: ALLOW}
  - id: second-uri-san
    policies:
      - apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: p, namespace: a}
        spec:
          rules: [{from: [{source: {principals: ["cluster.local/ns/b/sa/c"]}}]}]
    workload: {namespace: a}
    request:
      method: GET
      path: /
      host: svc
      peer_certificate: {uri_sans: ["spiffe://cluster.local/ns/x/sa/y", "spiffe://cluster.local/ns/b/sa/c"], dns_sans: [], subject: ""}
    expected: {decision: DENY}
`);
  const r = meshauthz(["test", file, "-o", "json"]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /"passed":\s*3/);
});

test("case files: a peer_certificate with an unknown key is refused with its path", () => {
  const dir = mkdtempSync(join(tmpdir(), "wire-"));
  const file = join(dir, "cases.yaml");
  writeFileSync(file, `
cases:
  - id: x
    policies: []
    workload: {namespace: a}
    request: {method: GET, peer_certificate: {uri_san: ["spiffe://a"]}}
    expected: {decision: ALLOW}
`);
  const r = meshauthz(["test", file]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr + r.stdout, /peer_certificate.*uri_san/);
});
