// A real OCI registry for tests: Debian's docker-registry (the CNCF distribution registry) on a free
// 127.0.0.1 port with temporary storage, and skopeo to push and pull. Plus an extractor written from
// istio pkg/wasm/imagefetcher.go (independent of tools/package), to find the module the way Istio's
// agent does.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join, posix } from "node:path";
import { gunzipSync } from "node:zlib";

/** Set to 1 to skip the registry tests on a machine without the packages (ignored when CI=true). */
export const SKIP_ENV = "MESHAUTHZ_SKIP_REGISTRY_TESTS";
const REGISTRY_BINARIES = ["docker-registry", "registry"]; // Debian's name, upstream's name

function onPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const path = join(dir, binary);
    if (dir && existsSync(path)) return path;
  }
  return undefined;
}

/** Why the registry tests cannot run here, or undefined when they can. */
export function missingTools(): string | undefined {
  const missing: string[] = [];
  if (!onPath("skopeo")) missing.push("skopeo");
  if (!REGISTRY_BINARIES.some(onPath)) missing.push("docker-registry");
  if (missing.length === 0) return undefined;
  return (
    `the registry round-trip tests need ${missing.join(" and ")} on PATH: install them with ` +
    `\`sudo apt-get install -y docker-registry skopeo\` (.ci/run does this in CI), or set ${SKIP_ENV}=1 to skip these tests on this machine`
  );
}

/** The opt-out applies only outside CI, so CI can never pass without the round trip. */
export function skipRequested(): boolean {
  return process.env[SKIP_ENV] === "1" && process.env.CI !== "true";
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Registry {
  /** 127.0.0.1:PORT */
  host: string;
  stop(): Promise<void>;
}

export async function startRegistry(): Promise<Registry> {
  const binary = REGISTRY_BINARIES.map(onPath).find(Boolean);
  if (!binary) throw new Error(missingTools());
  const dir = mkdtempSync(join(tmpdir(), "meshauthz-registry-"));
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = join(dir, "config.yml");
    // No TLS, no auth: the registry only listens on loopback, for the duration of the tests.
    writeFileSync(
      config,
      [
        "version: 0.1",
        "log:",
        "  level: warn",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        `    rootdirectory: ${join(dir, "storage")}`,
        "  delete:",
        "    enabled: true",
        "http:",
        `  addr: 127.0.0.1:${port}`,
        "",
      ].join("\n"),
    );
    const child = spawn(binary, ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    const stop = async () => {
      process.removeListener("exit", killOnExit);
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      await waitReady(port, child, () => stderr);
      return { host: `127.0.0.1:${port}`, stop };
    } catch (e) {
      lastError = e;
      process.removeListener("exit", killOnExit);
      await stopChild(child);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

async function waitReady(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr()}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v2/`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not answer on 127.0.0.1:${port} within 15 s: ${stderr()}`);
}

/** skopeo with the flags a loopback registry without TLS needs; no system signature policy involved. */
export function skopeo(args: string[]): string {
  try {
    return execFileSync("skopeo", ["--insecure-policy", ...args], { encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`skopeo ${args.join(" ")} failed: ${err.stderr || err.message}`);
  }
}

export const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

// ---- Istio's rules for finding the module in an image (istio pkg/wasm/imagefetcher.go) ----

const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const WASM_CONTENT = "application/vnd.module.wasm.content.layer.v1+wasm";

interface Manifest {
  mediaType?: string;
  layers: { mediaType: string; digest: string }[];
}

/** Walks a tar archive (ustar, with PAX path records) and returns the first regular file whose base name is `base`. */
function findInTar(tar: Buffer, base: string): Buffer {
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) => header.subarray(start, start + length).toString("latin1").replace(/\0.*$/s, "");
    const size = parseInt(field(124, 12).trim() || "0", 8);
    const type = field(156, 1) || "0";
    const prefix = field(257, 6) === "ustar" ? field(345, 155) : "";
    const name = paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    const body = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === "x") {
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString("utf8"))?.[1];
      continue;
    }
    paxPath = undefined;
    // Go's tar reader yields every entry; Istio compares filepath.Base(name) only.
    if (posix.basename(name) === base) return Buffer.from(body);
  }
  throw new Error(`${base} not found in the archive`);
}

function isValidWasm(b: Buffer): boolean {
  return b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
}

export interface Extracted {
  /** Which of imagefetcher.go's paths found it. */
  path: "docker" | "compat" | "artifact";
  wasm: Buffer;
}

/** The module Istio's agent would load from this manifest, reading blobs with `blob(digest)`. */
export function extractLikeIstio(manifestBytes: Buffer, blob: (digest: string) => Buffer): Extracted {
  const manifest = JSON.parse(manifestBytes.toString("utf8")) as Manifest;
  const layers = manifest.layers ?? [];
  let found: Extracted;
  if (manifest.mediaType === DOCKER_MANIFEST) {
    const last = layers[layers.length - 1];
    if (!last || last.mediaType !== DOCKER_LAYER) throw new Error(`docker image: last layer must be ${DOCKER_LAYER}`);
    found = { path: "docker", wasm: findInTar(gunzipSync(blob(last.digest)), "plugin.wasm") };
  } else {
    const errors: string[] = [];
    const last = layers[layers.length - 1];
    if (last && last.mediaType === OCI_LAYER) {
      try {
        found = { path: "compat", wasm: findInTar(gunzipSync(blob(last.digest)), "plugin.wasm") };
      } catch (e) {
        errors.push(`compat: ${(e as Error).message}`);
      }
    } else {
      errors.push(`compat: last layer is ${last?.mediaType ?? "missing"}, not ${OCI_LAYER}`);
    }
    if (!found!) {
      if (layers.length !== 2) {
        errors.push(`oci: number of layers must be 2 but got ${layers.length}`);
      } else {
        const content = layers.find((l) => l.mediaType === WASM_CONTENT);
        if (!content) errors.push(`oci: no layer of type ${WASM_CONTENT}`);
        else found = { path: "artifact", wasm: blob(content.digest) };
      }
    }
    if (!found!) throw new Error(`the image is in no format Istio loads: ${errors.join("; ")}`);
  }
  // cache.go: isValidWasmBinary
  if (!isValidWasm(found.wasm)) throw new Error("the extracted module is not a Wasm binary");
  return found;
}

/** The image a tag names in an OCI layout: its manifest bytes and a blob reader. */
export function readLayout(dir: string, tag: string): { manifest: Buffer; digest: string; blob: (digest: string) => Buffer } {
  const blob = (digest: string) => readFileSync(join(dir, "blobs", ...digest.split(":")));
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: { digest: string; mediaType: string; annotations?: Record<string, string> }[] };
  const entry = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag);
  if (!entry) throw new Error(`no tag ${tag} in ${dir}/index.json`);
  return { manifest: blob(entry.digest), digest: entry.digest, blob };
}
