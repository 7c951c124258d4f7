// Context bookkeeping. Each root context is one plugin configuration (a config change creates a
// new root in the same VM while the old one drains); each stream context belongs to the root that
// was its parent at creation, and is decided with that root's configuration.
import { Plugin, Runtime } from "../decide/plugin";

/** The VM's root contexts (a handful at most), linked through Plugin.nextRoot. */
let roots: Plugin | null = null;

function findRoot(id: u32): Plugin | null {
  let p = roots;
  while (p !== null && p.rootId != id) p = p.nextRoot;
  return p;
}

/** Unlinks root id; returns its plugin, or null. */
function removeRoot(id: u32): Plugin | null {
  let prev: Plugin | null = null;
  let p = roots;
  while (p !== null && p.rootId != id) {
    prev = p;
    p = p.nextRoot;
  }
  if (p === null) return null;
  lastRoot = 0;
  if (prev === null) roots = p.nextRoot;
  else prev.nextRoot = p.nextRoot;
  p.nextRoot = null;
  return p;
}

function addRoot(id: u32, p: Plugin): void {
  p.rootId = id;
  p.nextRoot = roots;
  roots = p;
  lastRoot = 0;
}

// The last root a stream was decided for, and its runtime (0: invalid): the hot path looks a
// stream's root up without touching a managed object. Forgotten whenever the roots change.
let lastRoot: u32 = 0;
let lastRuntime: usize = 0;

/** Stream id -> root id, in unmanaged memory: open addressing with linear probing and
 *  backward-shift deletion (no tombstones), so create/delete per request never allocate; the
 *  table only grows with the number of concurrent streams. Key 0 marks a free slot (stream
 *  contexts are never 0, the VM context). */
@unmanaged
export class StreamTable {
  slots: usize = 0;
  cap: u32 = 0;
  count: u32 = 0;

  @inline mask(): u32 {
    return this.cap - 1;
  }

  @inline home(k: u32): u32 {
    return (k * 0x9e3779b1) & this.mask();
  }

  @inline keyAt(i: u32): u32 {
    return load<u32>(this.slots + (<usize>i << 3));
  }

  set(k: u32, v: u32): void {
    if (k == 0) return;
    if ((this.count + 1) * 2 > this.cap) this.grow();
    let i = this.home(k);
    let key = this.keyAt(i);
    while (key != 0 && key != k) {
      i = (i + 1) & this.mask();
      key = this.keyAt(i);
    }
    if (key == 0) this.count++;
    const at = this.slots + (<usize>i << 3);
    store<u32>(at, k);
    store<u32>(at, v, 4);
  }

  /** Root of stream k, or 0 when unknown. */
  get(k: u32): u32 {
    if (k == 0 || this.cap == 0) return 0;
    let i = this.home(k);
    let key = this.keyAt(i);
    while (key != 0) {
      if (key == k) return load<u32>(this.slots + (<usize>i << 3), 4);
      i = (i + 1) & this.mask();
      key = this.keyAt(i);
    }
    return 0;
  }

  delete(k: u32): bool {
    if (k == 0 || this.cap == 0) return false;
    const m = this.mask();
    let i = this.home(k);
    let key = this.keyAt(i);
    while (key != k) {
      if (key == 0) return false;
      i = (i + 1) & m;
      key = this.keyAt(i);
    }
    // Shift back the entries of the cluster that follows, so lookups never stop early.
    let j = (i + 1) & m;
    key = this.keyAt(j);
    while (key != 0) {
      const h = this.home(key);
      // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? h > i && h <= j : h > i || h <= j;
      if (!stays) {
        store<u64>(this.slots + (<usize>i << 3), load<u64>(this.slots + (<usize>j << 3)));
        i = j;
      }
      j = (j + 1) & m;
      key = this.keyAt(j);
    }
    store<u64>(this.slots + (<usize>i << 3), 0);
    this.count--;
    return true;
  }

  grow(): void {
    const old = this.slots;
    const oldCap = this.cap;
    this.cap = oldCap == 0 ? 64 : oldCap << 1;
    this.slots = heap.alloc(<usize>this.cap << 3);
    memory.fill(this.slots, 0, <usize>this.cap << 3);
    this.count = 0;
    for (let i: u32 = 0; i < oldCap; i++) {
      const at = old + (<usize>i << 3);
      const key = load<u32>(at);
      if (key != 0) this.set(key, load<u32>(at, 4));
    }
    if (old != 0) heap.free(old);
  }
}

const streams = new StreamTable();

export function contextCreated(ctx: u32, parent: u32): void {
  if (parent == 0) {
    if (findRoot(ctx) === null) addRoot(ctx, Plugin.failed("proxy_on_configure was not called"));
  } else {
    streams.set(ctx, parent);
  }
}

export function setRootPlugin(root: u32, p: Plugin): void {
  const old = removeRoot(root);
  if (old !== null && old !== p) old.dispose();
  addRoot(root, p);
}

/** The runtime deciding stream ctx, or 0 when its root is unknown or its configuration invalid
 *  (deny). */
export function runtimeOfStream(ctx: u32): usize {
  const root = streams.get(ctx);
  if (root == 0) return 0;
  if (root != lastRoot) {
    const p = findRoot(root);
    const rt = p !== null ? p.rt : null;
    lastRuntime = rt !== null ? changetype<usize>(rt) : 0;
    lastRoot = root;
  }
  return lastRuntime;
}

/** The plugin deciding stream ctx, or null when its root is unknown (deny: not configured). */
export function pluginOfStream(ctx: u32): Plugin | null {
  const root = streams.get(ctx);
  return root != 0 ? findRoot(root) : null;
}

export function rootPlugin(root: u32): Plugin | null {
  return findRoot(root);
}

/** ctx is a root context (streams answer from the stream table, without a managed lookup). */
export function isRoot(ctx: u32): bool {
  return streams.get(ctx) == 0 && findRoot(ctx) !== null;
}

/** Live stream contexts (tests). */
export function streamCount(): u32 {
  return streams.count;
}

export function contextDeleted(ctx: u32): void {
  if (streams.delete(ctx)) return;
  const p = removeRoot(ctx);
  if (p !== null) p.dispose();
}
