// The (ptr,len) a host call returns through its out-parameters. The host allocates it with our
// `malloc` (heap.alloc); the caller owns it and must `release` it. Nothing is ever retained.
import { Status } from "./codes";

/** Two u32 out-words, static so host calls need no allocation. */
export const OUT_PTR: usize = memory.data(8);
export const OUT_LEN: usize = OUT_PTR + 4;

let valuePtr: usize = 0;
let valueLen: usize = 0;

/** Pointer of the last value read (0 when the value is empty or the call failed). */
// @ts-ignore: decorator
@inline export function lastPtr(): usize {
  return valuePtr;
}

// @ts-ignore: decorator
@inline export function lastLen(): usize {
  return valueLen;
}

export function clearOut(): void {
  store<u32>(OUT_PTR, 0);
  store<u32>(OUT_LEN, 0);
}

/** Picks up the out-words after a host call. A range outside linear memory (a broken host) is
 *  reported as InternalFailure and never dereferenced, so it cannot trap later. */
export function takeOut(status: u32): u32 {
  let p = <usize>load<u32>(OUT_PTR);
  let n = <usize>load<u32>(OUT_LEN);
  valuePtr = 0;
  valueLen = 0;
  if (status != Status.Ok) {
    if (p != 0 && inMemory(p, n)) heap.free(p);
    return status;
  }
  if (n == 0) {
    if (p != 0 && inMemory(p, 0)) heap.free(p);
    return status;
  }
  if (p == 0 || !inMemory(p, n)) return Status.InternalFailure;
  valuePtr = p;
  valueLen = n;
  return status;
}

/** Frees a value obtained through lastPtr(); 0 is a no-op. */
export function release(p: usize): void {
  if (p != 0) heap.free(p);
}

function inMemory(p: usize, n: usize): bool {
  const top = <u64>memory.size() << 16;
  return <u64>p + <u64>n <= top && p >= __heap_base;
}
