// spec.url / spec.sha256 per URL scheme, as Istio's agent checks them (tools/package/oci-pin.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseOciReference, PinError, pinModule } from "../../tools/package/oci-pin.ts";

const WASM = "1".repeat(64); // sha256 of the module being packaged
const MANIFEST = "a".repeat(64); // manifest digest of the image written
const OTHER = "b".repeat(64);
const image = { manifestDigest: MANIFEST, dir: "build/image" };

test("oci:// with the image written: pins the manifest digest and references the image by it", () => {
  assert.deepEqual(pinModule({ url: "oci://registry.example.com/team/meshauthz:0.1.0", wasmSha256: WASM, image }), {
    url: `oci://registry.example.com/team/meshauthz@sha256:${MANIFEST}`,
    sha256: MANIFEST,
  });
  assert.deepEqual(pinModule({ url: "oci://127.0.0.1:5000/meshauthz", wasmSha256: WASM, image, sha256: `SHA256:${MANIFEST.toUpperCase()}` }), {
    url: `oci://127.0.0.1:5000/meshauthz@sha256:${MANIFEST}`,
    sha256: MANIFEST,
  });
  // a url that already names the right digest
  assert.equal(pinModule({ url: `oci://r.example/m:1@sha256:${MANIFEST}`, wasmSha256: WASM, image }).url, `oci://r.example/m@sha256:${MANIFEST}`);
});

test("oci:// refuses the module's sha256 (every sidecar would refuse the module: mesh-wide 403 with FAIL_CLOSE)", () => {
  assert.throws(() => pinModule({ url: "oci://r.example/m:1", wasmSha256: WASM, image, sha256: WASM }), (e: Error) => {
    assert.ok(e instanceof PinError);
    assert.match(e.message, /sha256 of the module, not of the image manifest/);
    assert.match(e.message, /MANIFEST digest/);
    return true;
  });
  assert.throws(() => pinModule({ url: "oci://r.example/m:1", wasmSha256: WASM, sha256: WASM }), /sha256 of the module \(plugin.wasm\)/);
  assert.throws(() => pinModule({ url: `oci://r.example/m@sha256:${WASM}`, wasmSha256: WASM }), /not of the image manifest/);
});

test("oci:// refuses digests that contradict the image written or each other", () => {
  assert.throws(() => pinModule({ url: "oci://r.example/m:1", wasmSha256: WASM, image, sha256: OTHER }), /not the manifest digest of the image written to build\/image/);
  assert.throws(() => pinModule({ url: `oci://r.example/m@sha256:${OTHER}`, wasmSha256: WASM, image }), /has manifest digest sha256:a{64}/);
  assert.throws(() => pinModule({ url: `oci://r.example/m@sha256:${OTHER}`, wasmSha256: WASM, sha256: MANIFEST }), /give the image manifest digest once/);
});

test("oci:// by tag only, with nothing to pin, is refused and says how to pin", () => {
  assert.throws(() => pinModule({ url: "oci://registry.example.com/meshauthz:0.1.0", wasmSha256: WASM }), (e: Error) => {
    assert.match(e.message, /by tag only/);
    assert.match(e.message, /--oci-layout DIR/);
    assert.match(e.message, /skopeo inspect --raw docker:\/\/registry.example.com\/meshauthz:TAG \| sha256sum/);
    return true;
  });
});

test("oci:// pushed by other means: a manifest digest from --sha256 or the url is pinned in both places", () => {
  const pinned = { url: `oci://r.example/m@sha256:${MANIFEST}`, sha256: MANIFEST };
  assert.deepEqual(pinModule({ url: "oci://r.example/m:1", wasmSha256: WASM, sha256: MANIFEST }), pinned);
  assert.deepEqual(pinModule({ url: `oci://r.example/m@sha256:${MANIFEST}`, wasmSha256: WASM }), pinned);
});

test("http(s):// pins the module's own sha256 (what the agent compares after unpacking)", () => {
  assert.deepEqual(pinModule({ url: "https://files.example.com/meshauthz.wasm", wasmSha256: WASM }), { url: "https://files.example.com/meshauthz.wasm", sha256: WASM });
  assert.deepEqual(pinModule({ url: "http://files.example.com/m.wasm", wasmSha256: WASM, sha256: WASM }).sha256, WASM);
  assert.throws(() => pinModule({ url: "https://f.example/m.wasm", wasmSha256: WASM, sha256: MANIFEST }), /not the sha256 of the module being packaged/);
  assert.throws(() => pinModule({ url: "https://f.example/m.wasm", wasmSha256: WASM, image }), /--oci-layout writes an image for an oci:\/\/ url/);
});

test("file:// carries no sha256 (istiod drops it)", () => {
  assert.deepEqual(pinModule({ url: "file:///var/lib/wasm/meshauthz.wasm", wasmSha256: WASM }), { url: "file:///var/lib/wasm/meshauthz.wasm" });
  assert.throws(() => pinModule({ url: "file:///m.wasm", wasmSha256: WASM, sha256: WASM }), /ignores spec.sha256/);
  assert.throws(() => pinModule({ url: "file:///m.wasm", wasmSha256: WASM, image }), /Drop --oci-layout/);
});

test("bad urls and digests are refused with what to write instead", () => {
  assert.throws(() => pinModule({ url: "registry.example.com/meshauthz:1", wasmSha256: WASM }), /give one of these schemes explicitly/);
  assert.throws(() => pinModule({ url: "ftp://x/y", wasmSha256: WASM }), /oci:\/\/REGISTRY\/REPOSITORY/);
  assert.throws(() => pinModule({ url: "oci://meshauthz:1", wasmSha256: WASM, image }), /needs a registry and a repository/);
  assert.throws(() => pinModule({ url: "oci://r.example/MeshAuthz:1", wasmSha256: WASM, image }), /must be lower-case/);
  assert.throws(() => pinModule({ url: "oci://r.example/m@sha256:abc", wasmSha256: WASM }), /sha256:<64 lower hex>/);
  assert.throws(() => pinModule({ url: "oci://r.example/m:1", wasmSha256: WASM, sha256: "abc" }), /not a sha256 digest/);
});

test("parseOciReference reads registry ports, tags and digests like go-containerregistry", () => {
  assert.deepEqual(parseOciReference("127.0.0.1:5000/a/b:v1"), { repository: "127.0.0.1:5000/a/b", tag: "v1", digest: undefined });
  assert.deepEqual(parseOciReference("127.0.0.1:5000/a/b"), { repository: "127.0.0.1:5000/a/b", tag: undefined, digest: undefined });
  assert.deepEqual(parseOciReference(`r.example/a:v1@sha256:${MANIFEST}`), { repository: "r.example/a", tag: "v1", digest: MANIFEST });
});
