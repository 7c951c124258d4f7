// The one place that says what meshauthz does with CUSTOM (ext_authz) policies that it cannot send
// to a provider as Istio would. The filter asks the provider itself (docs/ext-authz.md); what istiod
// does with a CUSTOM policy's provider (builder.go buildHTTP, extauthz.go getExtAuthz) is said here:
// an undefined or invalid provider makes istiod emit the policy's rules as an enforced DENY ("will
// generate deny configs"), and the filter does the same; settings the filter does not enforce are
// named. compile, lint and package (and case files) pick these up from the compile stage.
import type { Diagnostic, SourceLocation } from "../model/diagnostic.ts";
import type { AuthorizationPolicy } from "../model/policy.ts";
import type { ResolvedProviders } from "../meshconfig/providers.ts";
import { appliesToSidecars } from "./compile.ts";

export const CUSTOM_PROVIDER_UNDEFINED = "custom-provider-undefined";
export const CUSTOM_PROVIDER_INVALID = "custom-provider-invalid";
export const CUSTOM_UNSUPPORTED_SETTING = "custom-unsupported-setting";

export interface LocatedPolicy {
  policy: AuthorizationPolicy;
  locate?: (path: string) => SourceLocation | undefined;
}

export function customPolicyWarnings(inputs: LocatedPolicy[], resolved: ResolvedProviders | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  const reported = new Set<string>();
  for (const { policy, locate } of inputs) {
    if (policy.spec?.action !== "CUSTOM" || !appliesToSidecars(policy)) continue;
    const name = policy.spec.provider?.name ?? "";
    const who = `${policy.metadata.namespace ?? "default"}/${policy.metadata.name}`;
    const warn = (code: string, message: string) => {
      const d: Diagnostic = { severity: "warning", stage: "compile", code, message, path: "spec.provider.name", policy: who };
      const loc = locate?.("spec.provider.name");
      if (loc) d.location = loc;
      out.push(d);
    };
    const prefix = `failed to process CUSTOM action for provider ${name}, will generate deny configs: `;
    const denied = "requests matching its rules are denied (403), as istiod does";
    if (resolved === undefined) {
      warn(CUSTOM_PROVIDER_UNDEFINED, `CUSTOM provider "${name}" cannot be resolved: no mesh config given (--mesh-config FILE, or the istio ConfigMap among the inputs); ${denied} for an undefined provider`);
    } else if (resolved.invalid.has(name)) {
      warn(CUSTOM_PROVIDER_INVALID, `${prefix}found errors in provider ${name}: ${resolved.invalid.get(name)}; ${denied}`);
    } else if (!resolved.valid.has(name)) {
      warn(CUSTOM_PROVIDER_UNDEFINED, `${prefix}available providers are [${resolved.names.join(" ")}] but found "${name}"; ${denied}`);
    } else {
      const p = resolved.valid.get(name)!;
      if (!reported.has(name)) {
        reported.add(name);
        for (const u of p.unsupported) warn(CUSTOM_UNSUPPORTED_SETTING, `provider ${name}: meshauthz does not support ${u}`);
      }
    }
  }
  return out;
}
