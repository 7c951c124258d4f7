// A small reader of the Wasm binary format: just the parts Envoy looks at before it runs a module
// (types, imports, function declarations, exports). Node's WebAssembly.Module.imports() gives no
// function types, and Envoy refuses a module whose import or callback types differ from its own,
// so the host needs the exact param/result lists from the binary itself.

export interface FuncType {
  params: string[];
  results: string[];
}

export type ExternKind = "func" | "table" | "memory" | "global" | "tag";

export interface Limits {
  min: number;
  max: number | null;
  shared: boolean;
  index64: boolean;
}

export interface ModuleImport {
  module: string;
  name: string;
  kind: ExternKind;
  /** Function imports (and tags): the exact signature. */
  type?: FuncType;
  /** Memory and table imports. */
  limits?: Limits;
  /** Table imports: element reference type. */
  element?: string;
  /** Global imports. */
  global?: { type: string; mutable: boolean };
}

export interface ModuleExport {
  name: string;
  kind: ExternKind;
  index: number;
  /** Function exports: the exact signature. */
  type?: FuncType;
}

export interface ParsedModule {
  imports: ModuleImport[];
  exports: ModuleExport[];
  /** A Wasm start section runs during instantiation, before Envoy has set any context. */
  hasStartSection: boolean;
}

export class WasmFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WasmFormatError";
  }
}

const KINDS: ExternKind[] = ["func", "table", "memory", "global", "tag"];

// Value types by their one-byte encoding (numeric, vector and abbreviated reference types).
const VALUE_TYPES: Record<number, string> = {
  0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128",
  0x70: "funcref", 0x6f: "externref", 0x6e: "anyref", 0x6d: "eqref", 0x6c: "i31ref",
  0x6b: "structref", 0x6a: "arrayref", 0x69: "exnref", 0x73: "nullfuncref", 0x72: "nullexternref",
  0x71: "nullref", 0x74: "nullexnref",
};

const utf8 = new TextDecoder("utf-8", { fatal: true });

class Reader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array, readonly end = bytes.length) {}

  byte(): number {
    if (this.pos >= this.end) throw new WasmFormatError(`unexpected end of module at byte ${this.pos}`);
    return this.bytes[this.pos++];
  }

  /** Unsigned LEB128 up to 64 bits, returned as a JS number (exact below 2^53). */
  uleb(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new WasmFormatError(`LEB128 too long at byte ${this.pos}`);
  }

  /** Signed LEB128 (s33 heap types); small values only matter here. */
  sleb(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.byte();
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80 && shift < 35);
    if (shift < 32 && b & 0x40) result |= -1 << shift;
    return result;
  }

  name(): string {
    const len = this.uleb();
    if (this.pos + len > this.end) throw new WasmFormatError(`name runs past its section at byte ${this.pos}`);
    const s = utf8.decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }

  valueType(): string {
    const b = this.byte();
    if (b === 0x63 || b === 0x64) {
      const heap = this.sleb();
      return `(ref ${b === 0x63 ? "null " : ""}${heap})`;
    }
    const t = VALUE_TYPES[b];
    if (t === undefined) throw new WasmFormatError(`unknown value type 0x${b.toString(16)} at byte ${this.pos - 1}`);
    return t;
  }

  limits(): Limits {
    const flags = this.byte();
    const index64 = (flags & 0x04) !== 0;
    const min = this.uleb();
    const max = flags & 0x01 ? this.uleb() : null;
    return { min, max, shared: (flags & 0x02) !== 0, index64 };
  }
}

/** One entry of the type section; non-function (GC) types keep their slot but have no FuncType. */
function readCompositeType(r: Reader): FuncType | null {
  const form = r.byte();
  if (form === 0x60) {
    const params: string[] = [];
    for (let n = r.uleb(); n > 0; n--) params.push(r.valueType());
    const results: string[] = [];
    for (let n = r.uleb(); n > 0; n--) results.push(r.valueType());
    return { params, results };
  }
  const storage = () => {
    const b = r.byte();
    if (b !== 0x78 && b !== 0x77) {
      r.pos--;
      r.valueType();
    }
    r.byte(); // mutability
  };
  if (form === 0x5f) {
    for (let n = r.uleb(); n > 0; n--) storage();
    return null;
  }
  if (form === 0x5e) {
    storage();
    return null;
  }
  throw new WasmFormatError(`unknown type form 0x${form.toString(16)}`);
}

function readTypeSection(r: Reader, types: Array<FuncType | null>): void {
  for (let n = r.uleb(); n > 0; n--) {
    const form = r.byte();
    if (form === 0x4e) {
      for (let m = r.uleb(); m > 0; m--) types.push(readSubType(r));
    } else {
      r.pos--;
      types.push(readSubType(r));
    }
  }
}

function readSubType(r: Reader): FuncType | null {
  const b = r.byte();
  if (b === 0x50 || b === 0x4f) {
    for (let n = r.uleb(); n > 0; n--) r.uleb();
  } else {
    r.pos--;
  }
  return readCompositeType(r);
}

function funcType(types: Array<FuncType | null>, index: number): FuncType {
  const t = types[index];
  if (!t) throw new WasmFormatError(`type index ${index} is not a function type`);
  return t;
}

/** Parses the sections Envoy's loader depends on. Throws WasmFormatError on a malformed binary. */
export function parseModule(bytes: Uint8Array): ParsedModule {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new WasmFormatError("not a Wasm binary: missing the \\0asm magic");
  }
  const version = bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24);
  if (version !== 1) throw new WasmFormatError(`unsupported Wasm binary version ${version}`);

  const types: Array<FuncType | null> = [];
  const funcTypes: FuncType[] = []; // function index space: imports first, then defined functions
  const imports: ModuleImport[] = [];
  const exports: ModuleExport[] = [];
  let hasStartSection = false;

  const top = new Reader(bytes);
  top.pos = 8;
  while (top.pos < bytes.length) {
    const id = top.byte();
    const size = top.uleb();
    const end = top.pos + size;
    if (end > bytes.length) throw new WasmFormatError(`section ${id} runs past the end of the module`);
    const r = new Reader(bytes, end);
    r.pos = top.pos;
    switch (id) {
      case 1:
        readTypeSection(r, types);
        break;
      case 2:
        for (let n = r.uleb(); n > 0; n--) {
          const module = r.name();
          const name = r.name();
          const kindByte = r.byte();
          const kind = KINDS[kindByte];
          if (kind === undefined) throw new WasmFormatError(`import ${module}.${name} has unknown kind ${kindByte}`);
          const imp: ModuleImport = { module, name, kind };
          if (kind === "func") {
            imp.type = funcType(types, r.uleb());
            funcTypes.push(imp.type);
          } else if (kind === "table") {
            imp.element = r.valueType();
            imp.limits = r.limits();
          } else if (kind === "memory") {
            imp.limits = r.limits();
          } else if (kind === "global") {
            const type = r.valueType();
            imp.global = { type, mutable: r.byte() === 1 };
          } else {
            r.byte(); // tag attribute
            imp.type = funcType(types, r.uleb());
          }
          imports.push(imp);
        }
        break;
      case 3:
        for (let n = r.uleb(); n > 0; n--) funcTypes.push(funcType(types, r.uleb()));
        break;
      case 7:
        for (let n = r.uleb(); n > 0; n--) {
          const name = r.name();
          const kindByte = r.byte();
          const kind = KINDS[kindByte];
          if (kind === undefined) throw new WasmFormatError(`export ${name} has unknown kind ${kindByte}`);
          const index = r.uleb();
          const exp: ModuleExport = { name, kind, index };
          if (kind === "func") {
            const t = funcTypes[index];
            if (!t) throw new WasmFormatError(`export ${name} refers to missing function ${index}`);
            exp.type = t;
          }
          exports.push(exp);
        }
        break;
      case 8:
        hasStartSection = true;
        break;
      default:
        break; // code, data, custom sections etc. do not matter to the loader checks
    }
    top.pos = end;
  }
  return { imports, exports, hasStartSection };
}

export function sameFuncType(a: FuncType, b: FuncType): boolean {
  if (a.params.length !== b.params.length || a.results.length !== b.results.length) return false;
  for (let i = 0; i < a.params.length; i++) if (a.params[i] !== b.params[i]) return false;
  for (let i = 0; i < a.results.length; i++) if (a.results[i] !== b.results[i]) return false;
  return true;
}

export function formatFuncType(t: FuncType): string {
  return `(${t.params.join(", ")}) -> (${t.results.join(", ")})`;
}
