// meshauthz package: a WasmPlugin manifest carrying the policy, and an OCI layout Istio can pull.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import * as yaml from "js-yaml";
import { meshauthz, REPO, SHARED } from "./cli-runner.ts";

test("package writes the delivery WasmPlugins whose pluginConfig is the compiled policy", () => {
  const r = meshauthz(["package", "deploy/examples/seed/manifests", "--url", `oci://registry.example.com/meshauthz@sha256:${"c".repeat(64)}`]);
  assert.equal(r.status, 0, r.stderr);
  const docs = yaml.loadAll(r.stdout) as any[];
  assert.deepEqual(docs.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name} ${d.spec.pluginConfig.role}`), [
    "WasmPlugin default/meshauthz namespace",
    "WasmPlugin istio-system/meshauthz root",
  ]);
  for (const doc of docs) {
    assert.equal(doc.spec.selector, undefined);
    assert.equal(doc.spec.phase, "AUTHZ");
    assert.deepEqual(doc.spec.match, [{ mode: "SERVER" }]);
    const blob = Buffer.from(doc.spec.pluginConfig.policy, "base64");
    assert.equal(blob.subarray(0, 4).toString("latin1"), "MAZB");
  }
});

/** spec.sha256's pattern in Istio's WasmPlugin CRD (../shared/schemas). */
function crdSha256Pattern(): RegExp {
  const crd = yaml.load(readFileSync(join(SHARED, "schemas", "wasmplugins.extensions.istio.io.yaml"), "utf8")) as any;
  const version = crd.spec.versions.find((v: any) => v.name === "v1alpha1");
  return new RegExp(version.schema.openAPIV3Schema.properties.spec.properties.sha256.pattern);
}

const blobOf = (dir: string, digest: string) => readFileSync(join(dir, "blobs", "sha256", digest.replace("sha256:", "")));

test("package --oci-layout writes a compat image (last layer holds plugin.wasm) and pins its manifest digest", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "meshauthz-oci-")), "image");
  const r = meshauthz(["package", "deploy/examples/seed/manifests", "--url", "oci://registry.example.com/meshauthz:0.1.0", "--oci-layout", dir, "-o", join(dir, "..", "wasmplugin.yaml")]);
  assert.equal(r.status, 0, r.stderr);
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  assert.equal(index.manifests.length, 1);
  const ref = index.manifests[0];
  assert.equal(ref.mediaType, "application/vnd.oci.image.manifest.v1+json"); // an image manifest, never an index
  assert.equal(ref.annotations["org.opencontainers.image.ref.name"], "0.1.0"); // the url's tag
  const manifestBytes = blobOf(dir, ref.digest);
  const manifestDigest = createHash("sha256").update(manifestBytes).digest("hex");
  assert.equal(`sha256:${manifestDigest}`, ref.digest);
  const manifest = JSON.parse(manifestBytes.toString());
  assert.equal(manifest.annotations["module.wasm.image/variant"], "compat");
  const layer = manifest.layers[manifest.layers.length - 1];
  assert.equal(layer.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
  const layerPath = join(dir, "blobs", "sha256", layer.digest.replace("sha256:", ""));
  assert.equal(execFileSync("tar", ["-tzf", layerPath]).toString().trim(), "plugin.wasm");
  const wasm = execFileSync("tar", ["-xzOf", layerPath]);
  assert.deepEqual(wasm, readFileSync(join(REPO, "build", "meshauthz.wasm")));
  const plugin = (yaml.loadAll(readFileSync(join(dir, "..", "wasmplugin.yaml"), "utf8")) as any[])[0];
  assert.equal(plugin.spec.sha256, manifestDigest);
  assert.match(plugin.spec.sha256, crdSha256Pattern());
  assert.equal(plugin.spec.url, `oci://registry.example.com/meshauthz@sha256:${manifestDigest}`);
  assert.match(r.stderr, new RegExp(`skopeo copy --preserve-digests oci:${dir}:0.1.0 docker://registry.example.com/meshauthz:0.1.0`));
});

test("package --variant artifact writes exactly two layers: the wasm runtime config and the raw module", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "meshauthz-oci-")), "image");
  const r = meshauthz(["package", "deploy/examples/seed/manifests", "--url", "oci://registry.example.com/meshauthz", "--oci-layout", dir, "--tag", "v2", "--variant", "artifact", "-o", "-"]);
  assert.equal(r.status, 0, r.stderr);
  const ref = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")).manifests[0];
  assert.equal(ref.annotations["org.opencontainers.image.ref.name"], "v2");
  const manifest = JSON.parse(blobOf(dir, ref.digest).toString());
  assert.deepEqual(manifest.layers.map((l: any) => l.mediaType), ["application/vnd.module.wasm.config.v1+json", "application/vnd.module.wasm.content.layer.v1+wasm"]);
  assert.equal(JSON.parse(blobOf(dir, manifest.layers[0].digest).toString()).type, "envoy_proxy");
  assert.deepEqual(blobOf(dir, manifest.layers[1].digest), readFileSync(join(REPO, "build", "meshauthz.wasm")));
  assert.equal((yaml.loadAll(r.stdout) as any[])[0].spec.sha256, ref.digest.replace("sha256:", ""));
});

test("package refuses pins that would make every sidecar refuse the module, and says what to do", () => {
  const wasmSha = createHash("sha256").update(readFileSync(join(REPO, "build", "meshauthz.wasm"))).digest("hex");
  const seed = "deploy/examples/seed/manifests";
  let r = meshauthz(["package", seed, "--url", "oci://registry.example.com/meshauthz:0.1.0", "--sha256", wasmSha]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /is the sha256 of the module \(plugin.wasm\), not of the image manifest/);
  r = meshauthz(["package", seed, "--url", "oci://registry.example.com/meshauthz:0.1.0"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /names the image by tag only.*--oci-layout DIR/);
  r = meshauthz(["package", seed, "--url", "https://files.example.com/meshauthz.wasm", "-o", "-"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((yaml.loadAll(r.stdout) as any[])[0].spec.sha256, wasmSha);
  r = meshauthz(["package", seed, "--url", "file:///opt/meshauthz.wasm", "-o", "-"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((yaml.loadAll(r.stdout) as any[])[0].spec.sha256, undefined);
  r = meshauthz(["package", seed, "--url", "oci://r.example/m:1", "--oci-layout", "/nonexistent-never/x", "--variant", "docker"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--variant takes compat or artifact/);
  r = meshauthz(["package", seed]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /package needs --url/);
  assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /); // no stack trace
});
