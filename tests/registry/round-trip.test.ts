// The seed's WasmPlugin against a real registry: `meshauthz package --oci-layout` writes the image,
// skopeo pushes it to a docker-registry on 127.0.0.1, and the digest the registry serves must be
// exactly the spec.sha256 (and the @sha256 of spec.url) that package pinned, since that is what
// Istio's agent compares (istio pkg/wasm/imagefetcher.go, cache.go). Pulled back, the image must
// yield build/meshauthz.wasm byte for byte by Istio's extraction rules. Both image variants.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as yaml from "js-yaml";
import { meshauthz, REPO } from "../e2e/cli-runner.ts";
import { extractLikeIstio, missingTools, readLayout, type Registry, sha256, skipRequested, skopeo, startRegistry } from "./registry.ts";

const missing = missingTools();

// Never skipped silently: without the tools this fails and says what to install, unless the
// developer opted out (MESHAUTHZ_SKIP_REGISTRY_TESTS=1, ignored when CI=true).
test("docker-registry and skopeo are installed", { skip: missing !== undefined && skipRequested() ? missing : false }, () => {
  assert.equal(missing, undefined, missing);
});

describe("registry round trip (docker-registry + skopeo)", { skip: missing !== undefined ? "docker-registry or skopeo missing" : false }, () => {
  let registry: Registry | undefined;
  const scratch = mkdtempSync(join(tmpdir(), "meshauthz-roundtrip-"));
  const module = readFileSync(join(REPO, "build", "meshauthz.wasm"));

  before(async () => {
    registry = await startRegistry();
  });
  after(async () => {
    await registry?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const variant of ["compat", "artifact"] as const) {
    test(`${variant}: the pinned digest is the one the registry serves, and the module comes back intact`, async () => {
      const host = registry!.host;
      const tag = `0.1.0-${variant}`;
      const layout = join(scratch, `image-${variant}`);
      const out = join(scratch, `wasmplugin-${variant}.yaml`);
      const r = meshauthz([
        "package", "deploy/examples/seed/manifests",
        "--url", `oci://${host}/meshauthz:${tag}`,
        "--oci-layout", layout, "--variant", variant,
        "-o", out,
      ]);
      assert.equal(r.status, 0, r.stderr);
      const plugins = yaml.loadAll(readFileSync(out, "utf8")).filter((d: any) => d?.kind === "WasmPlugin") as any[];
      assert.ok(plugins.length >= 1, "package wrote no WasmPlugin");
      const pinned: string = plugins[0].spec.sha256;
      assert.match(pinned, /^[a-f0-9]{64}$/); // the CRD's pattern
      assert.notEqual(pinned, sha256(module), "spec.sha256 must be the manifest digest, not the module's");
      for (const plugin of plugins) {
        assert.equal(plugin.spec.sha256, pinned);
        assert.equal(plugin.spec.url, `oci://${host}/meshauthz@sha256:${pinned}`);
      }

      // Push exactly what was written; --preserve-digests makes skopeo fail rather than convert.
      skopeo(["copy", "--preserve-digests", "--dest-tls-verify=false", `oci:${layout}:${tag}`, `docker://${host}/meshauthz:${tag}`]);

      // What the registry serves for the tag, as skopeo and as a plain HTTP client see it.
      const raw = Buffer.from(skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${host}/meshauthz:${tag}`]), "utf8");
      assert.equal(sha256(raw), pinned, "skopeo inspect --raw digest");
      const accept = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
      const res = await fetch(`http://${host}/v2/meshauthz/manifests/${tag}`, { headers: { accept } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("docker-content-digest"), `sha256:${pinned}`);
      assert.equal(res.headers.get("content-type"), "application/vnd.oci.image.manifest.v1+json", "the manifest media type survived the push");
      const served = Buffer.from(await res.arrayBuffer());
      assert.equal(sha256(served), pinned);
      const manifest = JSON.parse(served.toString("utf8"));
      assert.equal(manifest.mediaType, "application/vnd.oci.image.manifest.v1+json");
      if (variant === "compat") {
        assert.deepEqual(manifest.layers.map((l: any) => l.mediaType), ["application/vnd.oci.image.layer.v1.tar+gzip"]);
      } else {
        assert.deepEqual(manifest.layers.map((l: any) => l.mediaType), [
          "application/vnd.module.wasm.config.v1+json",
          "application/vnd.module.wasm.content.layer.v1+wasm",
        ]);
      }
      // The reference Istio pulls (spec.url) resolves.
      const byDigest = await fetch(`http://${host}/v2/meshauthz/manifests/sha256:${pinned}`, { headers: { accept } });
      assert.equal(byDigest.status, 200);
      assert.equal(sha256(Buffer.from(await byDigest.arrayBuffer())), pinned);

      // Pull back by the pinned reference and find the module as Istio's agent does.
      const pulled = join(scratch, `pulled-${variant}`);
      skopeo(["copy", "--preserve-digests", "--src-tls-verify=false", `docker://${host}/meshauthz@sha256:${pinned}`, `oci:${pulled}:pulled`]);
      const image = readLayout(pulled, "pulled");
      assert.equal(image.digest, `sha256:${pinned}`);
      const found = extractLikeIstio(image.manifest, image.blob);
      assert.equal(found.path, variant);
      assert.ok(found.wasm.equals(module), "the pulled plugin.wasm is byte-identical to build/meshauthz.wasm");
    });
  }

  test("a push that converts the manifest changes the digest: why the push must preserve it", async () => {
    const host = registry!.host;
    const layout = join(scratch, "image-compat");
    const { digest } = readLayout(layout, "0.1.0-compat");
    const served = (tag: string) => Buffer.from(skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${host}/meshauthz:${tag}`]), "utf8");
    // With --preserve-digests skopeo keeps the manifest even when asked for another format (1.9: --format is ignored)...
    skopeo(["copy", "--preserve-digests", "--format", "v2s2", "--dest-tls-verify=false", `oci:${layout}:0.1.0-compat`, `docker://${host}/meshauthz:preserved`]);
    assert.equal(`sha256:${sha256(served("preserved"))}`, digest);
    // ...without it, a Docker schema 2 conversion is served under another digest, so every sidecar's
    // agent would refuse the pinned WasmPlugin (the module inside is still intact).
    skopeo(["copy", "--format", "v2s2", "--dest-tls-verify=false", `oci:${layout}:0.1.0-compat`, `docker://${host}/meshauthz:converted`]);
    const raw = served("converted");
    assert.notEqual(`sha256:${sha256(raw)}`, digest);
    const pulled = join(scratch, "pulled-converted");
    skopeo(["copy", "--src-tls-verify=false", `docker://${host}/meshauthz:converted`, `oci:${pulled}:pulled`]);
    const image = readLayout(pulled, "pulled");
    // Pulling into an OCI layout converts back to OCI media types; read the served Docker manifest instead.
    const found = extractLikeIstio(raw, image.blob);
    assert.equal(found.path, "docker");
    assert.ok(found.wasm.equals(module));
  });

  test("the extractor refuses what Istio refuses (a layout whose module layer is not where Istio looks)", () => {
    const { manifest, blob } = readLayout(join(scratch, "image-artifact"), "0.1.0-artifact");
    const m = JSON.parse(manifest.toString("utf8"));
    m.layers = [m.layers[1]]; // one layer: neither compat (not tar+gzip) nor oci (not two layers)
    assert.throws(() => extractLikeIstio(Buffer.from(JSON.stringify(m)), blob), /no format Istio loads/);
  });
});
