// meshConfig.extensionProviders as istiod resolves them (istio builder/extauthz.go, validation/agent/extensionprovider.go).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load as yamlLoad } from "js-yaml";
import { resolveExtensionProviders } from "../../tools/meshconfig/providers.ts";
import { isMeshConfigDocument, loadMeshConfigFile, MeshConfigError } from "../../tools/meshconfig/source.ts";
import { compileSources } from "../../tools/pipeline/policy-set.ts";
import { DEFAULT_MESH } from "../../tools/model/policy.ts";

test("Istio's defaults: timeout 600s, failOpen false, statusOnError unset (Envoy 403), cluster outbound|port||host", () => {
  const r = resolveExtensionProviders([
    { name: "http", envoyExtAuthzHttp: { service: "authz.foo.svc.cluster.local", port: 8000 } },
    { name: "grpc", envoyExtAuthzGrpc: { service: "foo/authz.foo.svc.cluster.local", port: "9000", timeout: "0.25s", failOpen: true, statusOnError: "503" } },
    { name: "zipkin", zipkin: { service: "zipkin.istio-system.svc.cluster.local", port: 9411 } },
  ]);
  const h = r.valid.get("http")!;
  assert.equal(h.timeoutMs, 600_000);
  assert.equal(h.failOpen, false);
  assert.equal(h.statusOnError, 0);
  assert.equal(h.cluster, "outbound|8000||authz.foo.svc.cluster.local");
  const g = r.valid.get("grpc")!;
  assert.equal(g.kind, "grpc");
  assert.equal(g.cluster, "outbound|9000||authz.foo.svc.cluster.local");
  assert.equal(g.hostname, "authz.foo.svc.cluster.local");
  assert.equal(g.timeoutMs, 250);
  assert.equal(g.statusOnError, 503);
  assert.deepEqual(r.names, ["http", "grpc"], "tracing providers are not authorizers");
});

test("header lists become Istio's matchers; additional headers are sorted; body and downstream-on-allow are reported", () => {
  const r = resolveExtensionProviders([{
    name: "h",
    envoyExtAuthzHttp: {
      service: "a.b.svc.cluster.local", port: 80,
      includeRequestHeadersInCheck: ["x-a", "x-b3-*", "*-token"],
      includeAdditionalHeadersInCheck: { "x-z": "1", "x-a": "2" },
      includeRequestBodyInCheck: { maxRequestBytes: 100 },
      headersToDownstreamOnAllow: ["x-c"],
    },
  }]);
  const p = r.valid.get("h")!;
  assert.deepEqual(p.includeRequestHeaders, [{ kind: "exact", value: "x-a" }, { kind: "prefix", value: "x-b3-" }, { kind: "suffix", value: "-token" }]);
  assert.deepEqual(p.additionalHeaders, [["x-a", "2"], ["x-z", "1"]]);
  assert.equal(p.unsupported.length, 2);
});

test("providers istiod refuses are kept with its error text", () => {
  const r = resolveExtensionProviders([
    { name: "Bad", envoyExtAuthzHttp: { service: "a.b", port: 80 } },
    { name: "port", envoyExtAuthzHttp: { service: "a.b", port: 0 } },
    { name: "status", envoyExtAuthzGrpc: { service: "a.b", port: 80, statusOnError: "499" } },
    { name: "prefix", envoyExtAuthzHttp: { service: "a.b", port: 80, pathPrefix: "check" } },
    { name: "dup", envoyExtAuthzHttp: { service: "a.b", port: 80 } },
    { name: "dup", envoyExtAuthzHttp: { service: "a.b", port: 80 } },
  ]);
  assert.deepEqual([...r.valid.keys()], []);
  assert.match(r.invalid.get("Bad")!, /uppercase letters not allowed/);
  assert.match(r.invalid.get("port")!, /port must be in the range \[1, 65535\], found: 0/);
  assert.match(r.invalid.get("status")!, /unsupported statusOnError 499/);
  assert.match(r.invalid.get("prefix")!, /pathPrefix must begin with `\/`/);
  assert.match(r.invalid.get("dup")!, /must be unique, found duplicate: dup/);
});

test("the istio ConfigMap among the inputs, or --mesh-config, defines the providers", () => {
  const dir = mkdtempSync(join(tmpdir(), "meshauthz-mesh-"));
  const policy = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ext, namespace: foo}\nspec:\n  action: CUSTOM\n  provider: {name: authz}\n  rules: [{}]\n";
  const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |-\n    extensionProviders:\n    - name: authz\n      envoyExtAuthzHttp: {service: authz.foo.svc.cluster.local, port: 8000}\n";
  writeFileSync(join(dir, "p.yaml"), policy);
  writeFileSync(join(dir, "cm.yaml"), cm);
  const without = compileSources([join(dir, "p.yaml")], DEFAULT_MESH);
  assert.match(without.diagnostics.map((d) => d.message).join("\n"), /no mesh config given/);
  const withCm = compileSources([join(dir, "p.yaml"), join(dir, "cm.yaml")], DEFAULT_MESH);
  assert.deepEqual(withCm.diagnostics, []);
  assert.deepEqual(withCm.mesh?.providers?.map((p) => p.name), ["authz"]);
  assert.ok(isMeshConfigDocument(yamlLoad(cm)));
  assert.equal(loadMeshConfigFile(join(dir, "cm.yaml")).valid.get("authz")?.port, 8000);
  writeFileSync(join(dir, "raw.yaml"), "extensionProviders:\n- name: g\n  envoyExtAuthzGrpc: {service: g.foo.svc.cluster.local, port: 9000}\n");
  assert.equal(loadMeshConfigFile(join(dir, "raw.yaml")).valid.get("g")?.kind, "grpc");
  writeFileSync(join(dir, "bad.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio}\ndata:\n  mesh: \"a: [\"\n");
  assert.throws(() => loadMeshConfigFile(join(dir, "bad.yaml")), MeshConfigError);
});

