// meshauthz: compile AuthorizationPolicies into a blob, and check or test decisions through the
// real filter module. Exit codes: 0 ok, 1 bad input or failed tests, 2 usage error.
import { parseArgs } from "node:util";
import { UsageError, UserError } from "./errors.ts";

const USAGE = `meshauthz: Istio AuthorizationPolicy, precompiled for an inline Envoy Wasm filter

Usage:
  meshauthz compile PATH... -o FILE [--plugin-config [observability]] [--allow-empty] [mesh options]
      Validate policies (files, folders, multi-document YAML, kind: List, - for stdin) as istiod
      would and compile them into the filter's blob (or, with --plugin-config, the WasmPlugin
      pluginConfig JSON {"policy": "<base64>"}). Refuses input in which no AuthorizationPolicy
      applies to sidecars (the blob would allow everything) unless --allow-empty.
  meshauthz check (--policies PATH... | --blob FILE) --request FILE [-o json] [mesh options]
      Evaluate one request (a case's workload + request) through the built filter.
  meshauthz test CASEFILE [--policies PATH...] [-o json] [-v] [--allow-skip] [--junit FILE]
      Run a case file through the built filter; exit 0 iff no case failed and none was skipped
      (--allow-skip accepts skips); a file without cases exits 1 unless --allow-empty.
      -v prints every decision. --junit writes a JUnit XML report
      (GitLab, Jenkins, GitHub test reporters).
  meshauthz explain --policies PATH... --request FILE [--all] [-o json] [mesh options]
      Why the request gets its decision: the policies that apply to the workload, which rules
      match, and for each rule that does not, which field fails and the request's value (each
      asked of the filter); a count of the others (--all: why each one does not apply; -o json
      lists every policy).
  meshauthz lint PATH... [--workloads PATH...] [-o json|sarif] [-q] [mesh options]
      Everything compile rejects, plus interactions that surprise operators (a DENY that makes an
      ALLOW unreachable, ...); warnings grouped by kind, -q one line per kind. With --workloads (Deployments, Pods, kubectl get -o yaml): selectors
      that match no workload, workloads left open or denied everything, namespaces without workloads.

  meshauthz diff --before PATH... --after PATH... --requests FILE... [--workload NS[/k=v,...]]
                 [-o json] [--fail-on allow-to-deny|deny-to-allow|any] [--allow-empty]
      Replay requests (case files, request files, Istio/Envoy access logs) through the filter
      with both policy sets and report the decisions that change, grouped by deciding rule.
      A change that depends on what a log did not record is "possible", never "certain".
      Replaying no request at all exits 1 unless --allow-empty.
  meshauthz coverage --policies PATH... CASEFILE... [-o json] [--lcov FILE] [--fail-under PCT] [--allow-empty]
      Which rules the case files exercise, which they never match, which never decide.
      No rule to measure exits 1 unless --allow-empty.

  meshauthz package PATH... --url URL [--sha256 HEX] [-o FILE] [--max-object-bytes N]
                    [--oci-layout DIR [--tag T] [--variant compat|artifact]] [--name N]
                    [--policy-namespace NS]
      Compile policies into WasmPlugins in apply order: one per namespace with policies (its
      own and the root namespace's), then one in the root namespace for every other sidecar
      (docs/delivery.md). Each object stays under 262144 bytes as JSON unless --max-object-bytes
      raises the limit (then apply with --server-side). The module is pinned as Istio checks it:
      oci:// by the image manifest digest (url rewritten to oci://REG/REPO@sha256:...),
      http(s):// by the module's sha256, file:// not at all. With --oci-layout, also write the
      filter as an OCI image layout (default variant compat; tag from --tag or the url) to push
      unchanged (skopeo copy --preserve-digests) to the registry named by --url.
      --network --tcp-ports P,...: also a NETWORK WasmPlugin enforcing TCP connections on those ports.

Mesh options (meshConfig):
  --root-namespace NS        default istio-system
  --trust-domain TD          default cluster.local
  --trust-domain-alias TD    repeatable
  --mesh-config FILE         a MeshConfig YAML or the istio ConfigMap: extensionProviders for
                             CUSTOM policies (also read from such a document among the inputs)

Policy options:
  -n, --namespace NS         namespace of documents without metadata.namespace (kubectl -n); a
                             document in another namespace is an error (package: --policy-namespace)
  --istio-version X.Y        the Istio release whose validation to follow (1.26 to 1.31, default 1.31;
                             docs/istio-versions.md)
  -q, --quiet                one line per warning kind

Observability (pluginConfig; off by default, docs/filter-io.md):
  --policy-counters off|policy|rule   meshauthz.policy.<ns>.<name>[.rule.<i>].allowed|denied
  --decision-log LEVEL                log each decision and its rule at trace..critical
  --deny-header                       x-meshauthz-denied-by on denials (discloses policy names)

Other options:
  --wasm FILE                filter module (default build/meshauthz.wasm)
  -h, --help
`;

/** Flags that decide an exit code or write a report, and the commands that read them. */
const GATE_FLAGS: Record<string, string[]> = {
  "fail-on": ["diff"],
  "fail-under": ["coverage"],
  "allow-skip": ["test"],
  "allow-empty": ["compile", "package", "lint", "diff", "coverage", "test"],
  junit: ["test"],
  lcov: ["coverage"],
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "-h" || command === "--help" || command === "help") {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      output: { type: "string", short: "o" },
      policies: { type: "string", multiple: true },
      blob: { type: "string" },
      request: { type: "string" },
      "plugin-config": { type: "boolean" },
      "root-namespace": { type: "string" },
      "trust-domain": { type: "string" },
      "trust-domain-alias": { type: "string", multiple: true },
      "mesh-config": { type: "string" },
      wasm: { type: "string" },
      verbose: { type: "boolean", short: "v" },
      url: { type: "string" },
      name: { type: "string" },
      namespace: { type: "string", short: "n" },
      "policy-namespace": { type: "string" },
      "allow-skip": { type: "boolean" },
      "allow-empty": { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
      "istio-version": { type: "string" },
      selector: { type: "string", multiple: true },
      tag: { type: "string" },
      "oci-layout": { type: "string" },
      "max-object-bytes": { type: "string" },
      all: { type: "boolean" },
      junit: { type: "string" },
      sha256: { type: "string" },
      variant: { type: "string" },
      before: { type: "string", multiple: true },
      after: { type: "string", multiple: true },
      requests: { type: "string", multiple: true },
      workload: { type: "string" },
      "fail-on": { type: "string" },
      lcov: { type: "string" },
      "fail-under": { type: "string" },
      workloads: { type: "string", multiple: true },
      "policy-counters": { type: "string" },
      "decision-log": { type: "string" },
      "deny-header": { type: "boolean" },
      network: { type: "boolean" },
      "tcp-ports": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  // A gate flag given to a command that does not read it would be ignored and the gate pass
  // unchecked (`lint --fail-on any`, `test --fail-under 100`): a usage error instead.
  for (const [flag, commands] of Object.entries(GATE_FLAGS)) {
    if ((values as Record<string, unknown>)[flag] !== undefined && !commands.includes(command)) {
      throw new UsageError(`--${flag} does not apply to ${command} (only to ${commands.join(", ")})`);
    }
  }
  // Loaded on demand: compile and lint never load the Wasm host.
  switch (command) {
    case "compile":
      return (await import("./commands/compile.ts")).compileCommand(positionals, values);
    case "check":
      return (await import("./commands/check.ts")).checkCommand(positionals, values);
    case "test":
      return (await import("./commands/test.ts")).testCommand(positionals, values);
    case "lint":
      return (await import("./commands/lint.ts")).lintCommand(positionals, values);
    case "explain":
      return (await import("./commands/explain.ts")).explainCommand(positionals, values);
    case "diff":
      return (await import("./commands/diff.ts")).diffCommand(positionals, values);
    case "coverage":
      return (await import("./commands/coverage.ts")).coverageCommand(positionals, values);
    case "package":
      return (await import("./commands/package.ts")).packageCommand(positionals, values);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** A reader that went away (`meshauthz explain ... | head -1`) is not an error to report: Node
 *  ignores SIGPIPE and emits EPIPE as an 'error' event on the stream, which would otherwise end
 *  in an uncaught exception and a stack trace. Stop quietly with the command's exit code if it
 *  has one, else 141 (what a shell reports for a tool ended by SIGPIPE), so that a truncated
 *  run never looks like a passing one under `set -o pipefail`. */
function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE" && stream === process.stdout) {
        try {
          process.stderr.write(`meshauthz: cannot write the output: ${e.message}\n`);
        } catch {
          // nothing left to report to
        }
      }
      process.exit(e.code === "EPIPE" ? (process.exitCode ?? 141) : 74);
    });
  }
}

export async function run(argv: string[]): Promise<void> {
  exitQuietlyOnClosedPipe();
  try {
    process.exitCode = await main(argv);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`meshauthz: ${(e as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (e instanceof UserError || (e as Error).name === "WasmMissingError") {
      process.stderr.write(`meshauthz: ${(e as Error).message}\n`);
      process.exitCode = 1;
    } else if (isFileSystemError(e)) {
      // A path the user gave that cannot be read or written (-o, --lcov, --oci-layout, a folder
      // given as a file): their input, not our bug, so no stack trace.
      process.stderr.write(`meshauthz: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`meshauthz: internal error: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 70;
    }
  }
}

/** An error of a file system call on a path (ENOENT, EACCES, EISDIR, ENOTDIR, ENOSPC, ...). */
function isFileSystemError(e: unknown): e is Error {
  const x = e as { code?: unknown; syscall?: unknown; path?: unknown };
  return e instanceof Error && typeof x.code === "string" && /^E[A-Z]+$/.test(x.code) && typeof x.syscall === "string" && typeof x.path === "string";
}
