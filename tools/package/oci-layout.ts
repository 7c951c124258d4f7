// An OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md)
// holding the filter in Istio's "compat" variant: one tar+gzip layer with `plugin.wasm`.
// Push it with any OCI tool, e.g. `skopeo copy oci:DIR:TAG docker://REGISTRY/meshauthz:TAG`
// or `oras cp --from-oci-layout DIR:TAG REGISTRY/meshauthz:TAG`.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

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

export interface OciImage {
  manifestDigest: string;
  /** sha256 of plugin.wasm, for WasmPlugin.spec.sha256 when pulled by tag. */
  wasmSha256: string;
}

export function writeOciLayout(dir: string, wasm: Uint8Array, tag: string): OciImage {
  const blobs = join(dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const put = (bytes: Uint8Array) => {
    const digest = sha256(bytes);
    writeFileSync(join(blobs, digest), bytes);
    return { digest: `sha256:${digest}`, size: bytes.length };
  };
  const tar = tarOneFile("plugin.wasm", wasm);
  // mtime 0 and a fixed gzip header keep the image reproducible.
  const layer = put(gzipSync(tar, { level: 9 }));
  const config = put(
    Buffer.from(
      JSON.stringify({
        architecture: "wasm",
        os: "wasip1",
        rootfs: { type: "layers", diff_ids: [`sha256:${sha256(tar)}`] },
        config: {},
      }),
    ),
  );
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
      annotations: { "module.wasm.image/variant": "compat" },
    }),
  );
  const manifest = put(manifestBytes);
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          ...manifest,
          annotations: { "org.opencontainers.image.ref.name": tag },
        },
      ],
    }),
  );
  return { manifestDigest: manifest.digest, wasmSha256: sha256(wasm) };
}
