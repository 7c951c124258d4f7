// What each lint finding and each kind of diagnostic means, for rule metadata in SARIF reports
// (code-scanning UIs show the help next to the finding).
export interface RuleHelp {
  name: string;
  short: string;
  help: string;
}

export const LINT_RULES: Record<string, RuleHelp> = {
  "deny-shadows-allow": {
    name: "DenyShadowsAllow",
    short: "An enforced DENY rule that matches every request makes an ALLOW policy unreachable.",
    help:
      "Istio evaluates CUSTOM, then DENY, then ALLOW. A DENY rule with no conditions matches every request to the " +
      "workloads it selects, so no ALLOW policy on those workloads can ever allow anything. To allow only some " +
      "requests, remove the DENY policy: an ALLOW policy already denies every request it does not match.",
  },
  "principal-with-spiffe-prefix": {
    name: "PrincipalWithSpiffePrefix",
    short: "A principal written with spiffe:// never matches.",
    help: 'Istio adds "spiffe://" to each principal when it builds the Envoy matcher, so a value that already starts with it never matches. Write "cluster.local/ns/NS/sa/SA".',
  },
  "request-principal-without-subject": {
    name: "RequestPrincipalWithoutSubject",
    short: 'A requestPrincipal without "/" matches no token.',
    help: 'requestPrincipals are "<issuer>/<subject>" (the JWT iss and sub claims). A value without "/" is an issuer with an empty subject, which no token has; use "<issuer>/*" for any subject.',
  },
  "ip-blocks-behind-proxy": {
    name: "IpBlocksBehindProxy",
    short: "ipBlocks need the direct peer IP, which a Wasm filter cannot read behind a proxy.",
    help:
      "When a request carries X-Forwarded-For, the address a proxy-wasm filter sees is not the direct peer. meshauthz then " +
      "treats the peer IP as unknown and decides fail-safe: DENY rules that test it match, ALLOW rules do not. Prefer " +
      "principals or namespaces (mTLS identities), or remoteIpBlocks for the original client.",
  },
  "lowercase-method": {
    name: "LowercaseMethod",
    short: "An HTTP method in lower case never matches.",
    help: "Methods are compared case-sensitively and HTTP methods are upper case: write GET, not get.",
  },
  // lint --workloads (tools/lint/workloads.ts)
  "namespace-without-workloads": {
    name: "NamespaceWithoutWorkloads",
    short: "A policy's namespace has none of the given workloads.",
    help: "A policy applies only to workloads in its own namespace (or, in the root namespace, to the mesh). With no workload there, it applies to nothing: check the namespace for a typo.",
  },
  "selector-matches-no-workload": {
    name: "SelectorMatchesNoWorkload",
    short: "A policy's selector matches none of the given workloads.",
    help: "matchLabels are compared exactly against the pod template's labels; a selector that matches no workload makes the policy apply to nothing.",
  },
  "workload-not-covered-by-allow": {
    name: "WorkloadNotCoveredByAllow",
    short: "A workload has no ALLOW policy while its neighbours do.",
    help: "Istio allows every request to a workload no ALLOW policy applies to. If the namespace is meant to deny by default, add an allow-nothing policy (spec: {}) to it.",
  },
  "workload-denied-everything": {
    name: "WorkloadDeniedEverything",
    short: "ALLOW policies apply to a workload, but none of their rules can match its ports.",
    help: "Once an ALLOW policy applies to a workload, requests that no ALLOW rule matches are denied; rules restricted to other ports deny every request to this one.",
  },
};

/** Diagnostics from the compile pipeline, by stage and severity. */
export const DIAGNOSTIC_RULES: Record<string, RuleHelp> = {
  "parse-error": {
    name: "ParseError",
    short: "The file cannot be read as Kubernetes YAML or JSON, or a document is not a valid AuthorizationPolicy object.",
    help: "kubectl would refuse this input too. Fix the YAML at the given line and column.",
  },
  "parse-warning": { name: "ParseWarning", short: "The input reads, but not as it probably means to.", help: "See the message for what was read." },
  "validate-error": {
    name: "ValidationError",
    short: "istiod rejects this AuthorizationPolicy.",
    help: "The API server's validating webhook (istiod, pkg/config/validation) refuses the policy, so it never takes effect. The message names the field and the rule.",
  },
  "validate-warning": {
    name: "ValidationWarning",
    short: "istiod accepts this AuthorizationPolicy with a warning.",
    help: "istiod admits the policy and prints this warning; it usually means the policy does something other than it seems to.",
  },
  "compile-error": {
    name: "CompileError",
    short: "meshauthz cannot compile this policy set.",
    help: "The policy set cannot be turned into the filter's tables (for example two policies with the same namespace and name).",
  },
  "compile-warning": { name: "CompileWarning", short: "meshauthz compiles this policy with a caveat.", help: "See the message." },
};
