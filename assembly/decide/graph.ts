// The matcher trees a workload uses, copied out of the blob by decode/reach.ts: local nodes in
// post-order (children before parents), each `op | count << 8 | depth << 24` and an argument (the
// first of its children in `kids`, or its local leaf); local leaves keep their blob leaf index
// (their records are read in place) and get an attribute slot. Unmanaged arrays, freed by free().
import { Reach } from "../decode/reach";
import { u32At } from "../bytes/buf";

@unmanaged
export class Graph {
  head: usize = 0;
  arg: usize = 0;
  kids: usize = 0;
  /** Blob leaf index of each local leaf. */
  leafBlob: usize = 0;
  nodeCount: u32 = 0;
  leafCount: u32 = 0;

  /** Takes the arrays Reach built. */
  static from(r: Reach): Graph {
    const g = new Graph();
    g.nodeCount = r.head.len;
    g.leafCount = r.leafBlob.len;
    g.head = r.head.take();
    g.arg = r.arg.take();
    g.kids = r.kids.take();
    g.leafBlob = r.leafBlob.take();
    return g;
  }

  free(): void {
    heap.free(this.head);
    heap.free(this.arg);
    heap.free(this.kids);
    heap.free(this.leafBlob);
    heap.free(changetype<usize>(this));
  }

  @inline op(n: u32): u32 {
    return u32At(this.head, n) & 0xff;
  }

  @inline count(n: u32): u32 {
    return (u32At(this.head, n) >> 8) & 0xffff;
  }

  @inline argOf(n: u32): u32 {
    return u32At(this.arg, n);
  }

  @inline kid(j: u32): u32 {
    return u32At(this.kids, j);
  }

  @inline blobLeaf(l: u32): u32 {
    return u32At(this.leafBlob, l);
  }
}
