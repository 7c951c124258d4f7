// Delta-debugging minimizer for one failing (policies, workload, request): after fast-check's shrinking
// (which cannot shrink well through chained arbitraries), greedily delete whole policies, rules, entries,
// fields, list values, selector labels, request headers and JWT claims while the SAME failure (signature)
// persists and the policies stay valid (compilePolicyObjects without errors). Deterministic.

import type { CaseRequest, Workload } from "../../tools/model/case-file.ts";
import type { AuthorizationPolicy, MeshSettings } from "../../tools/model/policy.ts";
import { compilePolicyObjects } from "../../tools/pipeline/policy-set.ts";
import { rightmostXff } from "./arbitraries.ts";
import { type Mismatch, newStats, runScenario } from "./differential.ts";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = Array<string | number>;

// structuredClone keeps raw byte values (Uint8Array) intact; they are leaves below.
const clone = <T>(x: T): T => structuredClone(x);

/** Paths of every deletable node, parents before children. */
function deletable(root: Json, protect: (p: Path) => boolean): Path[] {
  const out: Path[] = [];
  const walk = (node: Json, path: Path) => {
    if (ArrayBuffer.isView(node)) return;
    if (Array.isArray(node)) {
      node.forEach((c, i) => {
        const p = [...path, i];
        if (!protect(p)) out.push(p);
        walk(c, p);
      });
    } else if (node !== null && typeof node === "object") {
      for (const [k, c] of Object.entries(node)) {
        const p = [...path, k];
        if (!protect(p)) out.push(p);
        walk(c, p);
      }
    }
  };
  walk(root, []);
  return out;
}

function without(root: Json, path: Path): Json {
  const copy = clone(root);
  let node: any = copy;
  for (const k of path.slice(0, -1)) node = node[k];
  const last = path[path.length - 1]!;
  if (Array.isArray(node)) node.splice(last as number, 1);
  else delete node[last];
  return copy;
}

const POLICY_REQUIRED = new Set(["apiVersion", "kind", "metadata", "name"]);
const REQUEST_KEEP = new Set(["method", "source_ip", "remote_ip", "destination_ip", "destination_port"]);

/** remote_ip follows the harness invariant: right-most XFF address when XFF is present, else source_ip. */
function fixRemote(r: CaseRequest): CaseRequest {
  const xffKey = Object.keys(r.headers ?? {}).find((k) => k.toLowerCase() === "x-forwarded-for");
  const xff = xffKey ? r.headers![xffKey] : undefined;
  const str = (v: string | Uint8Array) => (typeof v === "string" ? v : Buffer.from(v).toString("latin1"));
  const text = Array.isArray(xff) ? xff.map(str).join(",") : xff === undefined ? undefined : str(xff);
  return { ...r, remote_ip: (text !== undefined ? rightmostXff(text) : undefined) ?? r.source_ip };
}

export interface MinimizeInput {
  engine?: "indexed" | "linear";
  mesh: MeshSettings;
  policies: AuthorizationPolicy[];
  workload: Workload;
  request: CaseRequest;
  signature: string;
  /** self-checks only: the policies the filter's blob is compiled from, given the candidate's */
  compileFrom?: (policies: AuthorizationPolicy[]) => AuthorizationPolicy[];
}

export async function minimize(wasm: Uint8Array, input: MinimizeInput, maxAttempts = 3000): Promise<{ policies: AuthorizationPolicy[]; workload: Workload; request: CaseRequest; mismatch: Mismatch } | null> {
  let cur = { policies: clone(input.policies), workload: clone(input.workload), request: clone(input.request) };
  let attempts = 0;
  const fails = async (c: typeof cur): Promise<Mismatch | null> => {
    attempts++;
    const compiled = compilePolicyObjects(c.policies, input.mesh);
    if (!compiled.blob) return null;
    const ms = await runScenario(wasm, { engine: input.engine, mesh: input.mesh, policies: c.policies, workloads: [c.workload], requests: [{ workload: 0, request: c.request }] }, newStats(), { count: false, compileFrom: input.compileFrom?.(c.policies) });
    return ms.find((m) => m.signature === input.signature) ?? null;
  };
  let last = await fails(cur);
  if (!last) return null;
  let progress = true;
  while (progress && attempts < maxAttempts) {
    progress = false;
    // policies: parents first, so a whole policy or rule goes before its fields
    for (const p of deletable(cur.policies as unknown as Json, (p) => POLICY_REQUIRED.has(String(p[p.length - 1])) && p.length <= 3)) {
      if (attempts >= maxAttempts) break;
      const cand = { ...cur, policies: without(cur.policies as unknown as Json, p) as unknown as AuthorizationPolicy[] };
      const m = await fails(cand);
      if (m) {
        cur = cand;
        last = m;
        progress = true;
        break; // paths changed: enumerate again
      }
    }
    if (progress) continue;
    for (const p of deletable(cur.request as unknown as Json, (p) => p.length === 1 && REQUEST_KEEP.has(String(p[0])))) {
      if (attempts >= maxAttempts) break;
      const cand = { ...cur, request: fixRemote(without(cur.request as unknown as Json, p) as unknown as CaseRequest) };
      const m = await fails(cand);
      if (m) {
        cur = cand;
        last = m;
        progress = true;
        break;
      }
    }
    if (progress) continue;
    for (const p of deletable((cur.workload.labels ?? {}) as Json, () => false)) {
      const cand = { ...cur, workload: { ...cur.workload, labels: without((cur.workload.labels ?? {}) as Json, p) as Record<string, string> } };
      const m = await fails(cand);
      if (m) {
        cur = cand;
        last = m;
        progress = true;
        break;
      }
    }
  }
  return { ...cur, mismatch: last };
}
