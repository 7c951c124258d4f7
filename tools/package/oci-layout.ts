// The filter as an OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md)
// in one of the two shapes Istio's agent can load (istio pkg/wasm/imagefetcher.go, PrepareFetch):
// - "compat": the last layer is `application/vnd.oci.image.layer.v1.tar+gzip` and holds a file whose
//   base name is `plugin.wasm` (extractOCIStandardImage; solo-io/wasm spec/spec-compat.md);
// - "artifact": exactly two layers, the runtime config (`application/vnd.module.wasm.config.v1+json`)
//   and the raw module (`application/vnd.module.wasm.content.layer.v1+wasm`) (extractOCIArtifactImage;
//   solo-io/wasm spec/spec.md).
// The tag names one image manifest, never an index: for an index Istio's fetcher resolves the
// linux/amd64 child and compares that child's digest (go-containerregistry remote.Descriptor.Image).
// Push it without conversion, e.g. `skopeo copy --preserve-digests oci:DIR:TAG docker://REGISTRY/meshauthz:TAG`,
// so the registry serves exactly the manifest whose digest `meshauthz package` pinned.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export type ImageVariant = "compat" | "artifact";
export const IMAGE_VARIANTS: readonly ImageVariant[] = ["compat", "artifact"];

export const MEDIA_TYPES = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  imageConfig: "application/vnd.oci.image.config.v1+json",
  ociLayerTarGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  wasmConfig: "application/vnd.module.wasm.config.v1+json",
  wasmContent: "application/vnd.module.wasm.content.layer.v1+wasm",
} as const;

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** A POSIX ustar archive with one regular file. */
export function tarOneFile(name: string, content: Uint8Array, mtime = 0): Uint8Array {
  const header = Buffer.alloc(512, 0);
  const put = (text: string, offset: number, length: number) => header.write(text, offset, length, "ascii");
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, "0") + "\0";
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(content.length, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  put("        ", 148, 8); // checksum field counts as spaces while summing
  put("0", 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  put(octal(sum, 7) + " ", 148, 8);
  const padding = (512 - (content.length % 512)) % 512;
  return Buffer.concat([header, Buffer.from(content), Buffer.alloc(padding), Buffer.alloc(1024)]);
}

/** gzip with a fixed header (mtime 0, OS "unknown"), so the layer does not depend on when or where it was built. */
function gzipStable(data: Uint8Array): Buffer {
  const gz = gzipSync(data, { level: 9 });
  gz[9] = 255; // OS byte; zlib writes the build platform's code (3 on Linux, 19 on macOS)
  return gz;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface OciImage {
  variant: ImageVariant;
  /** sha256 of the image manifest as written (64 lower hex): what Istio compares with spec.sha256 for oci://. */
  manifestDigest: string;
  manifestMediaType: string;
  /** sha256 of the module itself (for http(s):// URLs; not what Istio checks for oci://). */
  wasmSha256: string;
}

/** Writes `wasm` as an OCI image layout in `dir`, tagged `tag`. */
export function writeOciLayout(dir: string, wasm: Uint8Array, tag: string, variant: ImageVariant = "compat"): OciImage {
  const blobs = join(dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const put = (bytes: Uint8Array, mediaType: string, annotations?: Record<string, string>): Descriptor => {
    const digest = sha256(bytes);
    writeFileSync(join(blobs, digest), bytes);
    return { mediaType, digest: `sha256:${digest}`, size: bytes.length, ...(annotations ? { annotations } : {}) };
  };

  let manifest: Record<string, unknown>;
  if (variant === "compat") {
    const tar = tarOneFile("plugin.wasm", wasm);
    const layer = put(gzipStable(tar), MEDIA_TYPES.ociLayerTarGzip);
    // A valid OCI image config, so ordinary image tools (skopeo inspect, crane, docker) accept it.
    const config = put(
      Buffer.from(
        JSON.stringify({
          architecture: "wasm",
          os: "wasip1",
          rootfs: { type: "layers", diff_ids: [`sha256:${sha256(tar)}`] },
          config: {},
        }),
      ),
      MEDIA_TYPES.imageConfig,
    );
    manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config,
      layers: [layer],
      // spec-compat.md: required when the layer uses the OCI tar+gzip media type.
      annotations: { "module.wasm.image/variant": "compat" },
    };
  } else {
    // The runtime config of solo-io/wasm spec.md (Istio does not read it). It is both the
    // manifest's config and the first of the two layers Istio's extractOCIArtifactImage requires.
    const runtimeConfig = Buffer.from(
      JSON.stringify({ type: "envoy_proxy", abiVersions: ["proxy_abi_version_0_2_1"], config: { rootIds: ["meshauthz"] } }),
    );
    const config = put(runtimeConfig, MEDIA_TYPES.wasmConfig);
    manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config,
      layers: [
        { ...config, annotations: { "org.opencontainers.image.title": "runtime-config.json" } },
        put(wasm, MEDIA_TYPES.wasmContent, { "org.opencontainers.image.title": "plugin.wasm" }),
      ],
    };
  }
  const manifestDesc = put(Buffer.from(JSON.stringify(manifest)), MEDIA_TYPES.manifest);
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  // index.json is the layout's table of contents (required by the layout spec); the tag points at
  // the image manifest itself, which is what gets pushed.
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.index,
      manifests: [{ ...manifestDesc, annotations: { "org.opencontainers.image.ref.name": tag } }],
    }),
  );
  return {
    variant,
    manifestDigest: manifestDesc.digest.slice("sha256:".length),
    manifestMediaType: MEDIA_TYPES.manifest,
    wasmSha256: sha256(wasm),
  };
}
