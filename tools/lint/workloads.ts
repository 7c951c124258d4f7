// `meshauthz lint --workloads`: policies checked against the workloads they are meant for
// (Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs, Pods, `kind: List` as
// `kubectl get pods -A -o yaml` prints it). Like Kiali's AuthorizationPolicy checks, each finding
// says what Istio will do with the policies as written.
import { readFileSync } from "node:fs";
import type { AuthorizationPolicy, MeshSettings } from "../model/policy.ts";
import { appliesToSidecars } from "../compile/compile.ts";
import { isDryRun } from "../compile/dry-run.ts";
import { expandInputs } from "../parse/index.ts";
import { type Diagnostic, formatDiagnostic, type SourceLocation } from "../model/diagnostic.ts";
import { findPosition, LineIndex, parseYamlStream, type PosNode } from "../parse/yaml.ts";
import type { Finding } from "./findings.ts";

export interface WorkloadObject {
  kind: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** Container ports; empty when none are declared. */
  ports: number[];
  location: SourceLocation;
}

export interface WorkloadLoad {
  workloads: WorkloadObject[];
  errors: string[];
}

const TEMPLATE_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"]);

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : undefined);

function labelsOf(meta: Obj | undefined): Record<string, string> {
  const l = obj(meta?.labels) ?? {};
  return Object.fromEntries(Object.entries(l).map(([k, v]) => [k, String(v)]));
}

function portsOf(podSpec: Obj | undefined): number[] {
  const out: number[] = [];
  for (const c of Array.isArray(podSpec?.containers) ? (podSpec!.containers as unknown[]) : []) {
    for (const p of Array.isArray(obj(c)?.ports) ? (obj(c)!.ports as unknown[]) : []) {
      const n = Number(obj(p)?.containerPort);
      if (Number.isInteger(n)) out.push(n);
    }
  }
  return out;
}

/** The pod template of a workload object, or the pod itself. */
function podOf(o: Obj): { meta: Obj | undefined; spec: Obj | undefined } | null {
  const kind = String(o.kind ?? "");
  if (kind === "Pod") return { meta: obj(o.metadata), spec: obj(o.spec) };
  if (TEMPLATE_KINDS.has(kind)) {
    const t = obj(obj(o.spec)?.template);
    return { meta: obj(t?.metadata), spec: obj(t?.spec) };
  }
  if (kind === "CronJob") {
    const t = obj(obj(obj(obj(o.spec)?.jobTemplate)?.spec)?.template);
    return { meta: obj(t?.metadata), spec: obj(t?.spec) };
  }
  return null;
}

export function loadWorkloads(inputs: string[], defaultNamespace = "default"): WorkloadLoad {
  const out: WorkloadLoad = { workloads: [], errors: [] };
  const diagnostics: Diagnostic[] = [];
  const files = expandInputs(inputs, diagnostics).filter((f) => f !== "-");
  out.errors.push(...diagnostics.map(formatDiagnostic));
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      out.errors.push(`${file}: cannot read: ${(e as Error).message}`);
      continue;
    }
    const lines = new LineIndex(text);
    const stream = parseYamlStream(text, { filename: file });
    for (const e of stream.errors) {
      const at = e.offset !== undefined ? lines.locate(e.offset) : { line: 1, column: 1 };
      out.errors.push(`${file}:${at.line}:${at.column}: ${e.message}`);
    }
    for (const doc of stream.documents) {
      const visit = (value: unknown, pos: PosNode) => {
        const o = obj(value);
        if (!o) return;
        if (o.kind === "List" && Array.isArray(o.items)) {
          const items = pos.children?.get("items");
          o.items.forEach((item, i) => visit(item, items?.children?.get(String(i)) ?? pos));
          return;
        }
        const pod = podOf(o);
        if (!pod) return;
        const meta = obj(o.metadata);
        out.workloads.push({
          kind: String(o.kind),
          name: String(meta?.name ?? "?"),
          namespace: String(meta?.namespace ?? defaultNamespace),
          labels: labelsOf(pod.meta),
          ports: portsOf(pod.spec),
          location: { file, ...lines.locate(findPosition(pos, []).offset >= 0 ? findPosition(pos, []).offset : doc.offset) },
        });
      };
      visit(doc.value, doc.positions);
    }
  }
  return out;
}

const id = (p: AuthorizationPolicy) => `${p.metadata.namespace ?? "default"}/${p.metadata.name}`;
const wid = (w: WorkloadObject) => `${w.kind} ${w.namespace}/${w.name}`;

function selects(p: AuthorizationPolicy, w: WorkloadObject, mesh: MeshSettings): boolean {
  const ns = p.metadata.namespace ?? "default";
  if (ns !== w.namespace && ns !== mesh.rootNamespace) return false;
  return Object.entries(p.spec?.selector?.matchLabels ?? {}).every(([k, v]) => w.labels[k] === v);
}

/** Can an ALLOW rule match traffic to a workload listening only on `ports`? */
function ruleReachesPorts(rule: unknown, ports: number[]): boolean {
  const r = obj(rule);
  const to = Array.isArray(r?.to) ? (r!.to as unknown[]) : [];
  if (to.length === 0) return true;
  return to.some((t) => {
    const op = obj(obj(t)?.operation) ?? {};
    const allowed = Array.isArray(op.ports) ? (op.ports as string[]).map(Number) : null;
    const denied = Array.isArray(op.notPorts) ? (op.notPorts as string[]).map(Number) : [];
    return ports.some((p) => (allowed === null || allowed.includes(p)) && !denied.includes(p));
  });
}

export interface WorkloadFinding extends Finding {
  /** The workload a finding is about, when it is about one. */
  workload?: string;
  location?: SourceLocation;
}

export function lintWorkloads(policies: AuthorizationPolicy[], workloads: WorkloadObject[], mesh: MeshSettings): WorkloadFinding[] {
  const findings: WorkloadFinding[] = [];
  const enforced = policies.filter((p) => appliesToSidecars(p));
  const namespaces = new Set(workloads.map((w) => w.namespace));

  for (const p of enforced) {
    const ns = p.metadata.namespace ?? "default";
    const selector = p.spec?.selector?.matchLabels;
    if (ns !== mesh.rootNamespace && !namespaces.has(ns)) {
      findings.push({
        code: "namespace-without-workloads",
        policy: id(p),
        path: "metadata.namespace",
        message: `no workload in namespace ${ns} among the given workloads: this policy applies to nothing (a typo in the namespace?)`,
      });
      continue;
    }
    if (selector && Object.keys(selector).length && !workloads.some((w) => selects(p, w, mesh))) {
      const text = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(",");
      findings.push({
        code: "selector-matches-no-workload",
        policy: id(p),
        path: "spec.selector.matchLabels",
        message: `selector ${text} matches no workload ${ns === mesh.rootNamespace ? "in the mesh" : `in namespace ${ns}`}: this policy applies to nothing (labels are compared exactly, on the pod template)`,
      });
    }
  }

  const allows = enforced.filter((p) => (p.spec?.action ?? "ALLOW") === "ALLOW" && !isDryRun(p.metadata.annotations));
  for (const w of workloads) {
    const mine = allows.filter((p) => selects(p, w, mesh));
    if (mine.length === 0) {
      const neighbours = allows.filter((p) => (p.metadata.namespace ?? "default") === w.namespace);
      if (neighbours.length) {
        findings.push({
          code: "workload-not-covered-by-allow",
          policy: id(neighbours[0]),
          path: "spec.selector",
          workload: wid(w),
          location: w.location,
          message:
            `no ALLOW policy applies to ${wid(w)}, so Istio allows every request to it, while ALLOW policies in ${w.namespace} ` +
            `(${neighbours.map(id).join(", ")}) restrict other workloads; if ${w.namespace} is meant to deny by default, add an allow-nothing policy (spec: {})`,
        });
      }
      continue;
    }
    if (w.ports.length === 0) continue;
    const rules = mine.flatMap((p) => p.spec?.rules ?? []);
    if (rules.length > 0 && !rules.some((r) => ruleReachesPorts(r, w.ports))) {
      findings.push({
        code: "workload-denied-everything",
        policy: id(mine[0]),
        path: "spec.rules",
        workload: wid(w),
        location: w.location,
        message: `ALLOW policies apply to ${wid(w)} (${mine.map(id).join(", ")}) but no ALLOW rule can match its ports (${w.ports.join(", ")}): every request to it is denied`,
      });
    }
  }
  return findings;
}
