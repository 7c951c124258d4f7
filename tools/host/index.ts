// The proxy-wasm test host: loads a filter module in Node and plays Envoy (ABI 0.2.1) for it.
export * from "./types.ts";
export { EnvoyHost } from "./envoy-host.ts";
export { EnvoyChainHost } from "./chain-host.ts";
export type { ChainPlugin, ChainHostOptions, ChainStreamResult, ChainFilterInfo, InFlightStream, Phase } from "./chain-host.ts";
export { inspectModule, checkModuleForEnvoy, detectAbi } from "./module-check.ts";
export type { InspectedImport, InspectedExport } from "./module-check.ts";
export {
  ABI_MARKERS,
  ENVOY_ENV_COMMON,
  ENVOY_ENV_BY_ABI,
  ENVOY_WASI,
  WASI_MODULES,
  envoyImportTable,
  envoyCallbackSignatures,
  START_ALLOWED_CALLS,
  MALLOC_ALLOWED_CALLS,
  WasmResult,
} from "./envoy-abi.ts";
export type { AbiVersion } from "./envoy-abi.ts";
export { parseModule, WasmFormatError, sameFuncType, formatFuncType } from "./wasm-binary.ts";
export type { FuncType, ParsedModule, ModuleImport, ModuleExport } from "./wasm-binary.ts";
export { serializePairs, serializeStringPairs, parsePairs, parseStringPairs, pairsSize } from "./pairs.ts";
export { HeaderMap } from "./header-map.ts";
export { HOST_CALL_NAMES } from "./host-functions.ts";
