// meshauthz: compile AuthorizationPolicies into a blob, and check or test decisions through the
// real filter module. Exit codes: 0 ok, 1 bad input or failed tests, 2 usage error.
import { parseArgs } from "node:util";
import { UsageError, UserError } from "./errors.ts";

const USAGE = `meshauthz: Istio AuthorizationPolicy, precompiled for an inline Envoy Wasm filter

Usage:
  meshauthz compile PATH... -o FILE [--plugin-config] [mesh options]
      Validate policies (files, folders, multi-document YAML, kind: List, - for stdin) as istiod
      would and compile them into the filter's blob (or, with --plugin-config, the WasmPlugin
      pluginConfig JSON {"policy": "<base64>"}).
  meshauthz check (--policies PATH... | --blob FILE) --request FILE [-o json] [mesh options]
      Evaluate one request (a case's workload + request) through the built filter.
  meshauthz test CASEFILE [--policies PATH...] [-o json] [-v]
      Run a case file through the built filter; exit 0 iff no case failed. -v prints every decision.
  meshauthz explain --policies PATH... --request FILE [-o json] [mesh options]
      Why the request gets its decision: which policies apply to the workload, which rules
      match, and for each rule that does not, which of its fields fail (asked of the filter).
  meshauthz lint PATH... [-o json] [mesh options]
      Validate policies and explain interactions that surprise operators (a DENY that makes an
      ALLOW unreachable, ...).

  meshauthz package PATH... --url URL [-o FILE] [--oci-layout DIR [--tag T]]
                    [--name N] [--max-object-bytes N]
      Compile policies into WasmPlugins in apply order: one per namespace with policies (its
      own and the root namespace's), then one in the root namespace for every other sidecar
      (docs/delivery.md). Each object stays under 262144 bytes as JSON unless --max-object-bytes
      raises the limit (then apply with --server-side). With --oci-layout, also write the filter
      as an OCI image layout (Istio's compat variant) to push to your registry.

Mesh options (meshConfig):
  --root-namespace NS        default istio-system
  --trust-domain TD          default cluster.local
  --trust-domain-alias TD    repeatable

Other options:
  --wasm FILE                filter module (default build/meshauthz.wasm)
  -h, --help
`;

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
      wasm: { type: "string" },
      verbose: { type: "boolean", short: "v" },
      url: { type: "string" },
      name: { type: "string" },
      namespace: { type: "string" },
      selector: { type: "string", multiple: true },
      tag: { type: "string" },
      "oci-layout": { type: "string" },
      "max-object-bytes": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
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
    case "package":
      return (await import("./commands/package.ts")).packageCommand(positionals, values);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

export async function run(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`meshauthz: ${(e as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (e instanceof UserError) {
      process.stderr.write(`meshauthz: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`meshauthz: internal error: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 70;
    }
  }
}
