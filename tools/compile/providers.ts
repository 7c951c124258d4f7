// What istiod does with a CUSTOM policy's provider (builder.go buildHTTP, extauthz.go getExtAuthz),
// as compile warnings: an undefined or invalid provider makes istiod emit the policy's rules as an
// enforced DENY ("will generate deny configs"), and the filter does the same; settings the filter
// does not enforce are named.
import type { Diagnostic } from "../model/diagnostic.ts";
import type { ResolvedProviders } from "../meshconfig/providers.ts";
import type { CompileInput } from "./compile.ts";

export function customProviderDiagnostics(inputs: CompileInput[], resolved: ResolvedProviders | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  const reported = new Set<string>();
  for (const { policy, locate } of inputs) {
    if (policy.spec?.action !== "CUSTOM") continue;
    const name = policy.spec.provider?.name ?? "";
    const who = `${policy.metadata.namespace ?? "default"}/${policy.metadata.name}`;
    const warn = (message: string) =>
      out.push({ severity: "warning", stage: "compile", message, path: "spec.provider.name", policy: who, location: locate?.("spec.provider.name") });
    const prefix = `failed to process CUSTOM action for provider ${name}, will generate deny configs: `;
    const denied = "requests matching its rules are denied (403), as istiod does";
    if (resolved === undefined) {
      warn(`CUSTOM provider "${name}" cannot be resolved: no mesh config given (--mesh-config FILE, or the istio ConfigMap among the inputs); ${denied} for an undefined provider`);
    } else if (resolved.invalid.has(name)) {
      warn(`${prefix}found errors in provider ${name}: ${resolved.invalid.get(name)}; ${denied}`);
    } else if (!resolved.valid.has(name)) {
      warn(`${prefix}available providers are [${resolved.names.join(" ")}] but found "${name}"; ${denied}`);
    } else {
      const p = resolved.valid.get(name)!;
      if (!reported.has(name)) {
        reported.add(name);
        for (const u of p.unsupported) warn(`provider ${name}: meshauthz does not support ${u}`);
      }
    }
  }
  return out;
}
