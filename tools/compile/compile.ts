// AuthorizationPolicies + mesh settings -> CompiledMesh (matcher trees per rule).
// Validation is a separate, earlier stage; this stage assumes valid input and reports only
// what it cannot translate.
import type { Diagnostic } from "../model/diagnostic.ts";
import type { AuthorizationPolicy, MeshSettings } from "../model/policy.ts";
import { isDryRun } from "./dry-run.ts";
import { type CompiledMesh, type CompiledPolicy, type PolicyAction, policyRuleId } from "./ir.ts";
import { TrustDomainBundle } from "./matchers/trust-domain-bundle.ts";
import { compileRule, compileTcpRule, RuleCompileError } from "./rule.ts";
import { customPolicyWarnings } from "./custom-warning.ts";

export const GENERATOR = "meshauthz 0.1.0";

export interface CompileInput {
  policy: AuthorizationPolicy;
  locate?: (path: string) => Diagnostic["location"];
}

export interface CompileResult {
  mesh: CompiledMesh;
  diagnostics: Diagnostic[];
}

/** Policies that can never apply to a sidecar (targetRef/targetRefs) are left out. */
export function appliesToSidecars(p: AuthorizationPolicy): boolean {
  return !p.spec?.targetRef && !(p.spec?.targetRefs && p.spec.targetRefs.length > 0);
}

export function compilePolicies(inputs: CompileInput[], mesh: MeshSettings): CompileResult {
  const diagnostics: Diagnostic[] = [];
  const trustDomains = new TrustDomainBundle(mesh.trustDomain, mesh.trustDomainAliases);
  const policies: CompiledPolicy[] = [];
  const seen = new Map<string, Diagnostic["location"] | null>();
  for (const { policy, locate } of inputs) {
    const namespace = policy.metadata.namespace ?? "default";
    const name = policy.metadata.name;
    const who = `${namespace}/${name}`;
    if (seen.has(who)) {
      const first = seen.get(who);
      const firstAt = first ? ` (first defined at ${first.file}:${first.line}:${first.column})` : "";
      diagnostics.push({
        severity: "error",
        stage: "compile",
        code: "duplicate-name",
        message: `duplicate AuthorizationPolicy ${who}${firstAt}: names are unique per namespace, kubectl apply would replace one with the other`,
        path: "metadata.name",
        policy: who,
        location: locate?.("metadata.name"),
      });
      continue;
    }
    seen.set(who, locate?.("metadata.name") ?? null);
    if (!appliesToSidecars(policy)) continue;
    const spec = policy.spec ?? {};
    const action: PolicyAction = spec.action ?? "ALLOW";
    const compiled: CompiledPolicy = {
      namespace,
      name,
      action,
      dryRun: isDryRun(policy.metadata.annotations),
      provider: action === "CUSTOM" ? spec.provider?.name : undefined,
      selector: Object.entries(spec.selector?.matchLabels ?? {}),
      rules: [],
    };
    let failed = false;
    (spec.rules ?? []).forEach((rule, index) => {
      const path = `spec.rules[${index}]`;
      try {
        const ctx = { policyNamespace: namespace, trustDomains };
        compiled.rules.push({
          index,
          id: policyRuleId(namespace, name, index),
          root: compileRule(rule ?? {}, ctx, path),
          tcpRoot: compileTcpRule(rule ?? {}, ctx, path, action),
        });
      } catch (e) {
        failed = true;
        const p = e instanceof RuleCompileError ? e.path : path;
        diagnostics.push({
          severity: "error",
          stage: "compile",
          message: e instanceof Error ? e.message : String(e),
          path: p,
          policy: who,
          location: locate?.(p),
        });
      }
    });
    if (!failed) policies.push(compiled);
  }
  diagnostics.push(...customPolicyWarnings(inputs, mesh.extensionProviders));
  const providers = [...(mesh.extensionProviders?.valid.values() ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { mesh: { rootNamespace: mesh.rootNamespace, generator: GENERATOR, policies, providers }, diagnostics };
}
