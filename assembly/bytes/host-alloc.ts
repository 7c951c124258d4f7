// Allocation of the values Envoy hands the filter (the module's `malloc`), and reuse of the one
// large buffer a replaced configuration leaves behind.
//
// A pluginConfig update configures a new root context while the old one still runs (a stream may
// hold it); then the old one is deleted. The configuration buffer (megabytes for a big mesh; the
// blob is decoded in place and stays in it) of the deleted root used to go back to the allocator,
// where small allocations split it before the next update's buffer arrived: each update then took
// fresh memory at the top and linear memory settled at 4x the steady state after a few updates at
// 10,000 policies. Now the freed configuration buffer is kept aside and handed to the next
// configuration of about the same size, so two buffers alternate and the peak stays at 2x
// (tests/fuzz/memory.ts reconfigureMemory, `npm run fuzz -- --reconfigure 10000`). Linear memory
// never shrinks, so keeping the spare costs nothing the VM had not already grown to.

/** Buffers from this size on are rounded (so capacities are known) and recycled. */
const LARGE: usize = 64 << 10;

let spare: usize = 0;
let spareCap: usize = 0;

/** The capacity hostAlloc gives a request of `size` bytes: large sizes rounded up to 1/16 of
 *  their power of two (at most 6% more), so a buffer's capacity follows from its request. */
export function hostCapacity(size: usize): usize {
  if (size < LARGE) return size;
  const granule: usize = (<usize>1) << (<usize>(31 - clz<u32>(<u32>size)) - 4);
  return (size + granule - 1) & ~(granule - 1);
}

export function hostAlloc(size: usize): usize {
  const cap = hostCapacity(size);
  if (spare != 0 && size >= LARGE && cap <= spareCap && cap * 2 > spareCap) {
    const p = spare;
    spare = 0;
    spareCap = 0;
    return p;
  }
  return heap.alloc(cap);
}

/** A configuration buffer of `cap` capacity (hostCapacity of its request) is no longer used:
 *  keep the largest one for the next configuration, free the rest. */
export function recycleHostBuffer(p: usize, cap: usize): void {
  if (p == 0) return;
  if (cap < LARGE || cap <= spareCap) {
    heap.free(p);
    return;
  }
  if (spare != 0) heap.free(spare);
  spare = p;
  spareCap = cap;
}
