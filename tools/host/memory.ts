// Access to a module's linear memory the way Envoy does it: every pointer from the module is
// bounds-checked and a bad one turns into a status (InvalidMemoryAccess), never an exception;
// values handed to the module are allocated through the module's own allocator with the exact size.

/** Wasm32 only: pointers and lengths arrive as i32 and are reinterpreted as u32. */
export class ModuleMemory {
  private buffer: ArrayBuffer;
  private u8: Uint8Array;
  private view: DataView;

  constructor(readonly memory: WebAssembly.Memory) {
    this.buffer = memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
  }

  /** memory.buffer is replaced (the old one detached) whenever the module grows its memory. */
  private sync(): void {
    const b = this.memory.buffer;
    if (b !== this.buffer) {
      this.buffer = b;
      this.u8 = new Uint8Array(b);
      this.view = new DataView(b);
    }
  }

  get byteLength(): number {
    this.sync();
    return this.u8.length;
  }

  /**
   * A view of [ptr, ptr+len), or null when the range is outside memory. The view aliases module
   * memory: copy or decode it before calling back into the module (malloc may grow memory).
   */
  view8(ptr: number, len: number): Uint8Array | null {
    this.sync();
    ptr >>>= 0;
    len >>>= 0;
    if (ptr + len > this.u8.length) return null;
    return this.u8.subarray(ptr, ptr + len);
  }

  /** A copy of [ptr, ptr+len), or null when out of range. */
  copy(ptr: number, len: number): Uint8Array | null {
    const v = this.view8(ptr, len);
    return v === null ? null : v.slice();
  }

  getU32(ptr: number): number | null {
    this.sync();
    ptr >>>= 0;
    if (ptr + 4 > this.u8.length) return null;
    return this.view.getUint32(ptr, true);
  }

  setU32(ptr: number, value: number): boolean {
    this.sync();
    ptr >>>= 0;
    if (ptr + 4 > this.u8.length) return false;
    this.view.setUint32(ptr, value >>> 0, true);
    return true;
  }

  setU64(ptr: number, value: bigint): boolean {
    this.sync();
    ptr >>>= 0;
    if (ptr + 8 > this.u8.length) return false;
    this.view.setBigUint64(ptr, BigInt.asUintN(64, value), true);
    return true;
  }

  setBytes(ptr: number, bytes: Uint8Array): boolean {
    this.sync();
    ptr >>>= 0;
    if (ptr + bytes.length > this.u8.length) return false;
    this.u8.set(bytes, ptr);
    return true;
  }
}

/**
 * Hands values to the module. `alloc(size)` calls the module's `malloc` (or
 * `proxy_on_memory_allocate`) in Envoy's restricted mode and returns 0 when it failed or trapped.
 */
export class ModuleAllocator {
  /** Sizes requested from the module's allocator, for tests (bounded). */
  readonly requestedSizes: number[] = [];
  recordSizes = false;

  constructor(
    private readonly memory: ModuleMemory,
    private readonly alloc: (size: number) => number,
  ) {}

  /** Envoy's allocMemory: exactly `bytes.length` bytes, copied in; 0 on failure. Never called for 0. */
  place(bytes: Uint8Array): number {
    if (this.recordSizes && this.requestedSizes.length < 100_000) this.requestedSizes.push(bytes.length);
    const ptr = this.alloc(bytes.length) >>> 0;
    if (ptr === 0) return 0;
    if (!this.memory.setBytes(ptr, bytes)) return 0;
    return ptr;
  }

  /**
   * Envoy's copyToPointerSize: size 0 means no allocation and (0, 0) written; otherwise one
   * allocation of the exact size, then the pointer and size as u32 LE. False = InvalidMemoryAccess.
   */
  copyToPointerSize(bytes: Uint8Array, ptrPtr: number, sizePtr: number): boolean {
    let ptr = 0;
    if (bytes.length > 0) {
      ptr = this.place(bytes);
      if (ptr === 0) return false;
    }
    if (!this.memory.setU32(ptrPtr, ptr)) return false;
    if (!this.memory.setU32(sizePtr, bytes.length)) return false;
    return true;
  }
}
