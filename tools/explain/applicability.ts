// Why a policy does or does not apply to a workload, in Istio's terms (blob-format §2.3, which the
// filter implements in assembly/decide/workload.ts): a sidecar takes the policies of its own
// namespace and of the root namespace whose selector labels it all carries; policies with
// targetRef/targetRefs attach to gateways and waypoints, never to sidecars
// (istio pilot/pkg/model/authorization.go). This only words the reason: `explain` checks that the
// filter agrees (see explain.ts), so the wording can never change a decision.
import type { Workload } from "../model/case-file.ts";
import type { AuthorizationPolicy, MeshSettings } from "../model/policy.ts";

export type NotApplicableKind = "targetRef" | "namespace" | "selector";

export interface NotApplicable {
  kind: NotApplicableKind;
  message: string;
}

const q = JSON.stringify;

export function whyNotApplicable(p: AuthorizationPolicy, workload: Workload, mesh: MeshSettings): NotApplicable | null {
  const spec = p.spec ?? {};
  if (spec.targetRef || (spec.targetRefs && spec.targetRefs.length > 0)) {
    const refs = spec.targetRefs?.length ? spec.targetRefs : [spec.targetRef!];
    const names = refs.map((r) => `${r.kind ?? "?"}/${r.name ?? "?"}`).join(", ");
    return { kind: "targetRef", message: `targetRef${refs.length > 1 ? "s" : ""} ${names}: attaches to gateways/waypoints, never to a sidecar` };
  }
  const ns = p.metadata.namespace ?? "default";
  if (ns !== workload.namespace && ns !== mesh.rootNamespace) {
    return {
      kind: "namespace",
      message: `namespace ${q(ns)} is neither the workload's namespace ${q(workload.namespace)} nor the root namespace ${q(mesh.rootNamespace)}`,
    };
  }
  const labels = workload.labels ?? {};
  for (const [k, v] of Object.entries(spec.selector?.matchLabels ?? {})) {
    if (!Object.hasOwn(labels, k)) return { kind: "selector", message: `selector ${k}=${v}: the workload has no label ${q(k)}` };
    if (labels[k] !== v) return { kind: "selector", message: `selector ${k}=${v} does not match the workload's label ${k}=${labels[k]}` };
  }
  return null;
}
