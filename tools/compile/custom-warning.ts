// The one place that says what meshauthz does with CUSTOM (ext_authz) policies. Until the filter calls
// providers, a request matching a CUSTOM rule is denied (fail closed), where Istio would ask the provider:
// compile, lint and package say so loudly, with the file and line of each such policy. When CUSTOM is
// enforced, change (or empty) this module: every command picks it up.
import type { Diagnostic, SourceLocation } from "../model/diagnostic.ts";
import type { AuthorizationPolicy } from "../model/policy.ts";
import { appliesToSidecars } from "./compile.ts";

export const CUSTOM_NOT_ENFORCED = "custom-not-enforced";

export interface LocatedPolicy {
  policy: AuthorizationPolicy;
  locate?: (path: string) => SourceLocation | undefined;
}

export function customPolicyWarnings(policies: LocatedPolicy[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const { policy, locate } of policies) {
    if (policy.spec?.action !== "CUSTOM" || !appliesToSidecars(policy)) continue;
    const provider = policy.spec.provider?.name;
    const d: Diagnostic = {
      severity: "warning",
      stage: "compile",
      code: CUSTOM_NOT_ENFORCED,
      message:
        `CUSTOM is not enforced by meshauthz yet: every request that matches a rule of this policy is DENIED (403), ` +
        `where Istio would ask the ext_authz provider${provider ? ` "${provider}"` : ""}`,
      path: "spec.action",
      policy: `${policy.metadata.namespace ?? "default"}/${policy.metadata.name}`,
    };
    const loc = locate?.("spec.action");
    if (loc) d.location = loc;
    out.push(d);
  }
  return out;
}
