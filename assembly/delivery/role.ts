// Per-sidecar delivery (docs/delivery.md): which part of the mesh's enforcement this plugin instance
// is, and the filter-state marker that makes each request enforced exactly once when two instances
// (a namespace one, then the root one) sit in one HTTP filter chain.
//
// The namespace instance (higher WasmPlugin priority, so earlier in the AUTHZ phase) holds its
// namespace's and the root namespace's policies. When it lets a request through it writes
// `wasm.meshauthz.enforced` = the digest of the root-namespace policy set it enforced. The root
// instance holds the root namespace's policies only; it skips a request carrying the marker with
// its own digest and enforces every other one (a namespace without its own plugin, or a rollout
// in which the two disagree: over-deny, never under-enforcement). A denial is a local reply, which
// stops the decoder chain, so the root instance never sees it.
//
// Envoy facts (source/extensions/common/wasm/context.cc): proxy_set_property(path) stores a
// CelState under filter-state key "wasm." + path on the stream's StreamInfo, mutable, life span
// FilterChain unless declared otherwise; proxy_get_property(path) with an unknown top-level name
// reads filter state "wasm." + name of the same stream, whichever filter wrote it. Filter state is
// written by filters only; no request header or client input reaches it.
import { Status } from "../abi/codes";
import { getProperty, setProperty } from "../abi/property";
import { lastLen, lastPtr, release } from "../abi/value";
import { bytesEqual, lit, litLen, litPtr } from "../bytes/range";

export enum Role {
  /** The only instance (one plugin, plain Envoy): no marker read or written. */
  Standalone = 0,
  /** A namespace's plugin: its namespace's and the root namespace's policies; marks what it passed. */
  Namespace = 1,
  /** The root namespace's plugin: root policies; skips requests a namespace instance enforced. */
  Root = 2,
}

const MARKER = lit("meshauthz.enforced");

/** A runtime's delivery settings in unmanaged memory (the hot path holds no managed reference). */
@unmanaged
export class Delivery {
  role: Role = Role.Standalone;
  digest: usize = 0;
  digestLen: usize = 0;

  static create(role: Role, digest: string): usize {
    const d = changetype<Delivery>(heap.alloc(offsetof<Delivery>()));
    d.role = role;
    const n = <usize>digest.length;
    d.digestLen = n;
    d.digest = heap.alloc(n);
    for (let i: usize = 0; i < n; i++) store<u8>(d.digest + i, <u8>digest.charCodeAt(<i32>i));
    return changetype<usize>(d);
  }

  static free(p: usize): void {
    if (p == 0) return;
    heap.free(changetype<Delivery>(p).digest);
    heap.free(p);
  }
}

/** The root instance: a namespace instance already enforced this request with the same root
 *  policy set. Any other marker (or none) means this instance must enforce. */
export function enforcedUpstream(p: usize): bool {
  const d = changetype<Delivery>(p);
  if (d.role != Role.Root) return false;
  if (getProperty(litPtr(MARKER), litLen(MARKER)) != Status.Ok) return false;
  const v = lastPtr();
  const same = bytesEqual(v, lastLen(), d.digest, d.digestLen);
  release(v);
  return same;
}

/** The namespace instance let the request through: tell the root instance later in the chain. */
export function markEnforced(p: usize): void {
  const d = changetype<Delivery>(p);
  if (d.role == Role.Namespace) setProperty(litPtr(MARKER), litLen(MARKER), d.digest, d.digestLen);
}

/** "namespace" / "root" (exact bytes), or -1. */
export function roleOf(text: string): i32 {
  if (text == "namespace") return Role.Namespace;
  if (text == "root") return Role.Root;
  return -1;
}

/** A root digest as `meshauthz package` writes it: 16 to 64 lower-case hex digits. */
export function digestValid(s: string): bool {
  const n = s.length;
  if (n < 16 || n > 64) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
