// Would Envoy load this module? The checks of cpp-host's load/link/getFunctions (spec §1.1, §9,
// §12.1), done on the binary so that every reason is reported at once: the ABI marker, every
// function import against Envoy's table by name and exact type, no global imports, callback and
// allocator signatures, an allocator, a memory.

import { ABI_MARKERS, envoyCallbackSignatures, envoyImportTable, type AbiVersion } from "./envoy-abi.ts";
import { formatFuncType, parseModule, sameFuncType, type FuncType, type ParsedModule } from "./wasm-binary.ts";

export interface InspectedImport {
  module: string;
  name: string;
  kind: "func" | "table" | "memory" | "global" | "tag";
  type?: { params: string[]; results: string[] };
}

export interface InspectedExport {
  name: string;
  kind: string;
  type?: { params: string[]; results: string[] };
}

/** Imports and exports with exact function types. Throws WasmFormatError on a malformed binary. */
export function inspectModule(bytes: Uint8Array): { imports: InspectedImport[]; exports: InspectedExport[] } {
  const m = parseModule(bytes);
  return {
    imports: m.imports.map((i) => ({ module: i.module, name: i.name, kind: i.kind, ...(i.type ? { type: copyType(i.type) } : {}) })),
    exports: m.exports.map((e) => ({ name: e.name, kind: e.kind, ...(e.type ? { type: copyType(e.type) } : {}) })),
  };
}

function copyType(t: FuncType): FuncType {
  return { params: [...t.params], results: [...t.results] };
}

/** The ABI Envoy would pick (the first marker among the exports), and every marker present. */
export function detectAbi(m: ParsedModule): { abi: AbiVersion | null; markers: string[] } {
  const markers = m.exports.filter((e) => e.kind === "func" && ABI_MARKERS[e.name] !== undefined).map((e) => e.name);
  return { abi: markers.length > 0 ? ABI_MARKERS[markers[0]] : null, markers };
}

// Imports AssemblyScript emits without replacements; Envoy provides none of them.
const AS_HINTS: Record<string, string> = {
  "env.abort": "AssemblyScript's default abort; build with wasi-shim or --use abort=<your function>",
  "env.trace": "AssemblyScript trace(); use wasi-shim or remove it",
  "env.seed": "Math.random without wasi-shim",
  "env.Date.now": "Date.now without wasi-shim",
  "env.console.log": "console.log without wasi-shim",
};

/** Reasons Envoy would refuse to load the module; [] when it would load. */
export function checkModuleForEnvoy(bytes: Uint8Array): string[] {
  let m: ParsedModule;
  try {
    m = parseModule(bytes);
  } catch (e) {
    return [`not a loadable Wasm binary: ${(e as Error).message}`];
  }
  const reasons: string[] = [];
  if (!WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)) reasons.push("the Wasm binary does not validate (V8 cannot compile it)");

  const { abi, markers } = detectAbi(m);
  if (markers.length === 0) {
    reasons.push(
      "Missing or unknown Proxy-Wasm ABI version: export one of proxy_abi_version_0_1_0, proxy_abi_version_0_2_0, proxy_abi_version_0_2_1",
    );
  } else if (markers.length > 1) {
    reasons.push(`more than one Proxy-Wasm ABI marker exported (${markers.join(", ")}); export exactly one`);
  }

  const table = envoyImportTable(abi);
  for (const imp of m.imports) {
    const qualified = `${imp.module}.${imp.name}`;
    if (imp.kind === "global") {
      reasons.push(`imports the global ${qualified}: Envoy's V8 link does not support global imports`);
    } else if (imp.kind === "tag") {
      reasons.push(`imports the exception tag ${qualified}: Envoy provides none`);
    } else if (imp.kind === "func") {
      const want = table[imp.module]?.[imp.name];
      if (!want) {
        const hint = AS_HINTS[qualified] ?? (imp.module === "env" ? abiHint(imp.name, abi) : "");
        reasons.push(`Failed to load Wasm module due to a missing import: ${qualified}${hint ? ` (${hint})` : ""}`);
      } else if (!sameFuncType(want, imp.type!)) {
        reasons.push(
          `Failed to load Wasm module due to an import type mismatch: ${qualified}, want ${formatFuncType(want)} but the module imports ${formatFuncType(imp.type!)}`,
        );
      }
    }
  }

  const callbacks = envoyCallbackSignatures(abi);
  const funcExports = new Map<string, FuncType>();
  for (const e of m.exports) if (e.kind === "func") funcExports.set(e.name, e.type!);
  for (const [name, type] of funcExports) {
    const want = callbacks[name];
    if (want && !sameFuncType(want, type)) {
      reasons.push(`Bad function signature for: ${name}, want ${formatFuncType(want)} but the module exports ${formatFuncType(type)}`);
    }
  }
  if (!funcExports.has("malloc") && !funcExports.has("proxy_on_memory_allocate")) {
    reasons.push("Wasm module is missing malloc function (export malloc or proxy_on_memory_allocate, (i32) -> (i32))");
  }
  const hasMemory = m.exports.some((e) => e.kind === "memory" && e.name === "memory") || m.imports.some((i) => i.kind === "memory");
  if (!hasMemory) reasons.push('the module neither exports a memory named "memory" nor imports one');
  return reasons;
}

function abiHint(name: string, abi: AbiVersion | null): string {
  if (abi === null) return "";
  if (name === "proxy_clear_route_cache" && abi !== "0.1.0") {
    return `only registered for ABI 0.1.0; under ${abi} use proxy_call_foreign_function("clear_route_cache")`;
  }
  if ((name === "proxy_continue_stream" || name === "proxy_close_stream") && abi === "0.1.0") return "only registered for ABI 0.2.x";
  if (name === "proxy_get_log_level" && abi !== "0.2.1") return "only registered for ABI 0.2.1";
  if (name.startsWith("proxy_dictionary_") || name.startsWith("proxy_kv_store_") || name === "proxy_get_secret") {
    return "a FastEdge-only import, not in Envoy";
  }
  return "";
}
