// WasmPlugin spec.url / spec.sha256 for the module, per URL scheme, as Istio's agent checks them
// (Istio >= 1.14; istio pkg/wasm/cache.go getOrFetch, pkg/wasm/imagefetcher.go PrepareFetch,
// pkg/wasm/httpfetcher.go, pilot/pkg/model/extensions.go buildDataSource):
// - oci://     the agent compares spec.sha256 with the IMAGE MANIFEST digest (the sha256 of the manifest
//              bytes the registry serves), never with the module's. We also reference the image by that
//              digest (oci://REG/REPO@sha256:<digest>): a digest reference cannot move when a tag is
//              re-pushed, the registry client verifies the manifest it receives against it, and the
//              agent keys its cache by it. The tag is dropped: with a digest the puller ignores it.
// - http(s):// the agent compares spec.sha256 with the sha256 of the module after unpacking gzip/tar
//              (httpfetcher.go unboxIfPossible), i.e. of the .wasm itself.
// - file://    istiod hands Envoy a local file and drops spec.sha256 (buildDataSource): no pin.
// A wrong pin makes every sidecar refuse the module, and with failStrategy FAIL_CLOSE Istio puts a
// deny-all filter in its place: the whole mesh answers 403. So anything doubtful is refused here.
import { createHash } from "node:crypto";
import { type ImageVariant, type OciImage, writeOciLayout } from "./oci-layout.ts";

export class PinError extends Error {}

export interface PinInput {
  /** --url as given. */
  url: string;
  /** --sha256 as given (64 hex, optionally prefixed with `sha256:`). */
  sha256?: string;
  /** The image just written with --oci-layout: its manifest digest (64 lower hex) and where. */
  image?: { manifestDigest: string; dir: string };
  /** sha256 of the module being packaged (64 lower hex). */
  wasmSha256: string;
}

export interface Pin {
  url: string;
  /** 64 lower hex, no `sha256:` prefix (the CRD's pattern `^[a-f0-9]{64}$`); absent for file://. */
  sha256?: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

function normalizeDigest(value: string, what: string): string {
  const hex = value.trim().toLowerCase().replace(/^sha256:/, "");
  if (!HEX64.test(hex)) throw new PinError(`${what} "${value}" is not a sha256 digest (64 hex characters, optionally prefixed with "sha256:")`);
  return hex;
}

interface OciReference {
  /** REGISTRY/REPOSITORY, without tag or digest. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits what follows oci:// the way go-containerregistry's name.ParseReference reads it. */
export function parseOciReference(ref: string): OciReference {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!/^sha256:[0-9a-f]{64}$/.test(d)) throw new PinError(`oci:// reference "${ref}": a digest must be sha256:<64 lower hex>`);
    digest = d.slice("sha256:".length);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf("/");
  if (slash <= 0 || slash === rest.length - 1) {
    throw new PinError(`oci:// reference "${ref}" needs a registry and a repository, e.g. oci://registry.example.com/meshauthz:0.1.0`);
  }
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(rest.slice(slash + 1))) {
    throw new PinError(`oci:// reference "${ref}": repository "${rest.slice(slash + 1)}" must be lower-case letters, digits and separators (. _ - /)`);
  }
  if (tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(tag)) throw new PinError(`oci:// reference "${ref}": invalid tag "${tag}"`);
  return { repository: rest, tag, digest };
}

const MODULE_DIGEST_HINT =
  "For oci:// Istio's agent compares spec.sha256 with the image MANIFEST digest (istio pkg/wasm/imagefetcher.go), " +
  "so every sidecar would refuse the module and, with failStrategy FAIL_CLOSE, deny every request.";

function howToPinOci(repository: string): string {
  return (
    `Pin the image manifest digest: let meshauthz write the image (--oci-layout DIR, then push it with ` +
    `skopeo copy --preserve-digests oci:DIR:TAG docker://${repository}:TAG), or reference the pushed image by its manifest digest: ` +
    `--url oci://${repository}@sha256:<digest>, where <digest> is \`skopeo inspect --raw docker://${repository}:TAG | sha256sum\`.`
  );
}

export function pinModule(input: PinInput): Pin {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(input.url)?.[1]?.toLowerCase();
  const given = input.sha256 !== undefined ? normalizeDigest(input.sha256, "--sha256") : undefined;
  switch (scheme) {
    case "oci": {
      const ref = parseOciReference(input.url.slice("oci://".length));
      if (input.image) {
        const digest = input.image.manifestDigest;
        if (ref.digest !== undefined && ref.digest !== digest) {
          throw new PinError(
            `--url names digest sha256:${ref.digest}, but the image written to ${input.image.dir} has manifest digest sha256:${digest}. ` +
              `Give the url with a tag (meshauthz pins the digest) or drop --oci-layout.`,
          );
        }
        if (given !== undefined && given !== digest) {
          throw new PinError(
            given === input.wasmSha256
              ? `--sha256 ${given} is the sha256 of the module, not of the image manifest. ${MODULE_DIGEST_HINT} Drop --sha256: meshauthz pins the manifest digest of the image it writes (sha256:${digest}).`
              : `--sha256 ${given} is not the manifest digest of the image written to ${input.image.dir} (sha256:${digest}). Drop --sha256: meshauthz pins it.`,
          );
        }
        return { url: `oci://${ref.repository}@sha256:${digest}`, sha256: digest };
      }
      if (ref.digest !== undefined && given !== undefined && ref.digest !== given) {
        throw new PinError(`--url names digest sha256:${ref.digest} but --sha256 is ${given}; give the image manifest digest once.`);
      }
      const digest = ref.digest ?? given;
      if (digest === undefined) {
        throw new PinError(
          `${input.url} names the image by tag only, with no digest to pin: Istio would load whatever the tag points at when each sidecar pulls it. ` +
            howToPinOci(ref.repository),
        );
      }
      if (digest === input.wasmSha256) {
        throw new PinError(`sha256:${digest} is the sha256 of the module (plugin.wasm), not of the image manifest. ${MODULE_DIGEST_HINT} ${howToPinOci(ref.repository)}`);
      }
      return { url: `oci://${ref.repository}@sha256:${digest}`, sha256: digest };
    }
    case "http":
    case "https": {
      if (input.image) {
        throw new PinError(`--oci-layout writes an image for an oci:// url; for ${scheme}:// serve the module file itself (the .wasm) and drop --oci-layout.`);
      }
      if (given !== undefined && given !== input.wasmSha256) {
        throw new PinError(
          `--sha256 ${given} is not the sha256 of the module being packaged (${input.wasmSha256}). For ${scheme}:// Istio's agent compares spec.sha256 ` +
            `with the sha256 of the downloaded module (after unpacking gzip/tar, istio pkg/wasm/httpfetcher.go); serve this module, or pass the one you serve with --wasm FILE.`,
        );
      }
      return { url: input.url, sha256: input.wasmSha256 };
    }
    case "file": {
      if (input.image) throw new PinError("--oci-layout writes an image for an oci:// url; file:// loads the .wasm from the proxy's file system. Drop --oci-layout.");
      if (given !== undefined) {
        throw new PinError("for file:// istiod hands Envoy the local file and ignores spec.sha256 (istio pilot/pkg/model/extensions.go buildDataSource); drop --sha256.");
      }
      return { url: input.url };
    }
    default:
      throw new PinError(
        `--url "${input.url}": Istio loads modules from oci://REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST], http(s)://... or file:///path; give one of these schemes explicitly.`,
      );
  }
}

export interface ModuleSourceOptions {
  url: string;
  sha256?: string;
  /** The filter module to deliver. */
  wasm: Uint8Array;
  /** Write the module as an OCI image layout here (oci:// urls only), then pin that image. */
  ociLayout?: string;
  /** Image tag in the layout; default the url's tag, else "latest". */
  tag?: string;
  variant?: ImageVariant;
}

export interface ModuleSource extends Pin {
  /** With ociLayout: the image written, its tag, and the command that pushes it unchanged. */
  image?: OciImage & { tag: string; push: string };
}

/** What `meshauthz package` puts in spec.url / spec.sha256, writing the image first when asked. */
export function moduleSource(o: ModuleSourceOptions): ModuleSource {
  const wasmSha256 = createHash("sha256").update(o.wasm).digest("hex");
  if (!o.ociLayout || !/^oci:\/\//i.test(o.url)) {
    // pinModule refuses an image for a url that is not oci://.
    return pinModule({ url: o.url, sha256: o.sha256, wasmSha256, image: o.ociLayout ? { manifestDigest: "", dir: o.ociLayout } : undefined });
  }
  const ref = parseOciReference(o.url.slice("oci://".length));
  const tag = o.tag ?? ref.tag ?? "latest";
  const image = writeOciLayout(o.ociLayout, o.wasm, tag, o.variant ?? "compat");
  const pin = pinModule({ url: o.url, sha256: o.sha256, wasmSha256, image: { manifestDigest: image.manifestDigest, dir: o.ociLayout } });
  return { ...pin, image: { ...image, tag, push: `skopeo copy --preserve-digests oci:${o.ociLayout}:${tag} docker://${ref.repository}:${tag}` } };
}
