// meshauthz package: a WasmPlugin manifest carrying the policy, and an OCI layout Istio can pull.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import * as yaml from "js-yaml";
import { meshauthz, REPO } from "./cli-runner.ts";

test("package writes the delivery WasmPlugins whose pluginConfig is the compiled policy", () => {
  const r = meshauthz(["package", "deploy/examples/seed/manifests", "--url", "oci://registry.example.com/meshauthz:0.1.0"]);
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

test("package --oci-layout writes an image whose last layer holds plugin.wasm", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "meshauthz-oci-")), "image");
  const r = meshauthz(["package", "deploy/examples/seed/manifests", "--oci-layout", dir, "--tag", "0.1.0", "-o", join(dir, "..", "wasmplugin.yaml")]);
  assert.equal(r.status, 0, r.stderr);
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const ref = index.manifests[0];
  assert.equal(ref.annotations["org.opencontainers.image.ref.name"], "0.1.0");
  const blob = (digest: string) => readFileSync(join(dir, "blobs", "sha256", digest.replace("sha256:", "")));
  const manifestBytes = blob(ref.digest);
  assert.equal(`sha256:${createHash("sha256").update(manifestBytes).digest("hex")}`, ref.digest);
  const manifest = JSON.parse(manifestBytes.toString());
  const layer = manifest.layers[manifest.layers.length - 1];
  assert.equal(layer.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
  const listing = execFileSync("tar", ["-tzf", join(dir, "blobs", "sha256", layer.digest.replace("sha256:", ""))]).toString();
  assert.equal(listing.trim(), "plugin.wasm");
  const wasm = execFileSync("tar", ["-xzOf", join(dir, "blobs", "sha256", layer.digest.replace("sha256:", ""))]);
  assert.deepEqual(wasm, readFileSync(join(REPO, "build", "meshauthz.wasm")));
  const plugin = (yaml.loadAll(readFileSync(join(dir, "..", "wasmplugin.yaml"), "utf8")) as any[])[0];
  assert.equal(plugin.spec.sha256, createHash("sha256").update(wasm).digest("hex"));
});
