// The workload this sidecar serves, read once in proxy_on_configure from Istio's node metadata
// (`xds.node.metadata`, falling back to the pre-1.33 `node.metadata` on NotFound), and the
// applicability rule of blob-format §2.3: same namespace or the root namespace, and every
// selector label present with the same value.
import { Status } from "../abi/codes";
import { getProperty } from "../abi/property";
import { lastLen, lastPtr, release } from "../abi/value";
import { Tables } from "../decode/tables";
import { pairsShape } from "../bytes/pairs";
import { bytesEqual, lit, litLen, litPtr } from "../bytes/range";

const XDS_NAMESPACE = lit("xds\0node\0metadata\0NAMESPACE");
const NODE_NAMESPACE = lit("node\0metadata\0NAMESPACE");
const XDS_LABELS = lit("xds\0node\0metadata\0LABELS");
const NODE_LABELS = lit("node\0metadata\0LABELS");

export class Workload {
  namespace: ArrayBuffer = new ArrayBuffer(0);
  /** LABELS in pairs format (a copy); labelCount entries. */
  labels: ArrayBuffer = new ArrayBuffer(0);
  labelCount: u32 = 0;
  error: string = "";

  /** Builds a workload from raw namespace bytes and a pairs-format label map (tests, configure). */
  static of(ns: usize, nsLen: usize, labels: usize, labelsLen: usize): Workload {
    const w = new Workload();
    w.namespace = copy(ns, nsLen);
    if (labelsLen == 0) return w;
    if (pairsShape(labels, labelsLen) == 0) {
      w.error = "node metadata LABELS is not a map";
      return w;
    }
    w.labels = copy(labels, labelsLen);
    w.labelCount = load<u32>(changetype<usize>(w.labels));
    return w;
  }

  /** The workload's namespace is exactly ns (delivery: a namespace plugin's own namespace). */
  inNamespace(ns: string): bool {
    return this.namespaceText() == ns;
  }

  namespaceText(): string {
    return String.UTF8.decode(this.namespace);
  }

  /** The workload has label k with value v. */
  hasLabel(k: usize, kl: usize, v: usize, vl: usize): bool {
    const p = changetype<usize>(this.labels);
    const count = <usize>this.labelCount;
    let data = p + 4 + count * 8;
    for (let i: usize = 0; i < count; i++) {
      const klen = <usize>load<u32>(p + 4 + i * 8);
      const vlen = <usize>load<u32>(p + 8 + i * 8);
      const vp = data + klen + 1;
      if (bytesEqual(data, klen, k, kl)) return bytesEqual(vp, vlen, v, vl);
      data = vp + vlen + 1;
    }
    return false;
  }

  applies(t: Tables, policy: u32): bool {
    const ns = t.policyNamespace(policy);
    const np = t.strPtr(ns);
    const nl = t.strLen(ns);
    const wp = changetype<usize>(this.namespace);
    const wl = <usize>this.namespace.byteLength;
    if (!bytesEqual(np, nl, wp, wl)) {
      const root = t.rootNamespace;
      if (ns != root) return false;
    }
    const first = t.policyLabelFirst(policy);
    const end = first + t.policyLabelCount(policy);
    for (let i = first; i < end; i++) {
      const k = t.labelKey(i);
      const v = t.labelValue(i);
      if (!this.hasLabel(t.strPtr(k), t.strLen(k), t.strPtr(v), t.strLen(v))) return false;
    }
    return true;
  }
}

function copy(p: usize, n: usize): ArrayBuffer {
  const b = new ArrayBuffer(<i32>n);
  if (n > 0) memory.copy(changetype<usize>(b), p, n);
  return b;
}

/** Reads xds-then-node metadata; returns the status of the last attempt, value at lastPtr(). */
function readNodeMetadata(xds: usize, node: usize): u32 {
  const st = getProperty(litPtr(xds), litLen(xds));
  if (st != Status.NotFound) return st;
  return getProperty(litPtr(node), litLen(node));
}

export function readWorkload(): Workload {
  const nsStatus = readNodeMetadata(XDS_NAMESPACE, NODE_NAMESPACE);
  const nsPtr = lastPtr();
  const nsLen = lastLen();
  if (nsStatus != Status.Ok || nsLen == 0) {
    release(nsPtr);
    const w = new Workload();
    w.error = "unknown namespace: node metadata NAMESPACE is " + (nsStatus == Status.Ok ? "empty" : "unreadable (status " + nsStatus.toString() + ")");
    return w;
  }
  const lStatus = readNodeMetadata(XDS_LABELS, NODE_LABELS);
  const lPtr = lastPtr();
  const lLen = lastLen();
  let w: Workload;
  if (lStatus == Status.Ok || lStatus == Status.NotFound) {
    w = Workload.of(nsPtr, nsLen, lPtr, lLen);
  } else {
    w = new Workload();
    w.error = "node metadata LABELS unreadable (status " + lStatus.toString() + ")";
  }
  release(nsPtr);
  release(lPtr);
  return w;
}
