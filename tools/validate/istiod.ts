// Re-implementation of istiod's validating webhook for AuthorizationPolicy:
//   pkg/config/validation/validation.go: validateMetadata + checkDryRunAnnotation (run first; on error the
//   webhook returns that error alone), then ValidateAuthorizationPolicy (validateOneOfSelectorType,
//   validateWorkloadSelector, validatePolicyTargetReference(s), CUSTOM/DENY/provider rules, per-rule checks,
//   the DENY-with-only-HTTP-attributes warning).
// Messages are Istio's texts; each finding carries the field path it is about.
//
// The input may be ill-typed (the schema layer reports that); this code reads it defensively: a field of the
// wrong type counts as absent, non-string list items are skipped.

import { joinIndex, joinKey } from "../parse/path.ts";
import { parseBool } from "./goparse.ts";
import {
  checkEmptyValues,
  checkServiceAccount,
  checkTrustDomainValues,
  checkValidPathTemplate,
  validateAttribute,
  validateIPs,
  validatePorts,
} from "./security.ts";
import type { StrItems, ValueError } from "./security.ts";
import { DEFAULT_ISTIO_VERSION, type IstioVersion, since } from "./istio-version.ts";

export interface Finding {
  severity: "error" | "warning";
  path: string;
  message: string;
}

type Obj = Record<string, unknown>;

export const DRY_RUN_ANNOTATION = "istio.io/dry-run";
export const ALWAYS_REJECT_ANNOTATION = "internal.istio.io/webhook-always-reject";
export const INTERNAL_PARENT_NAMES_ANNOTATION = "internal.istio.io/parents";
export const INTERNAL_PARENT_NAMESPACE_ANNOTATION = "internal.istio.io/parent-namespace";

/** Allowed targetRef kinds (gvk.Service, gvk.ServiceEntry, gvk.KubernetesGateway, gvk.GatewayClass). */
const ALLOWED_TARGET_REFS = [
  { group: "core", version: "v1", kind: "Service" },
  { group: "networking.istio.io", version: "v1", kind: "ServiceEntry" },
  { group: "gateway.networking.k8s.io", version: "v1", kind: "Gateway" },
  { group: "gateway.networking.k8s.io", version: "v1", kind: "GatewayClass" },
];
const ALLOWED_TARGET_REFS_TEXT = `[${ALLOWED_TARGET_REFS.map((g) => `${g.group}/${g.version}/${g.kind}`).join(" ")}]`;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
/** Go's `x != nil` for a message or list field: present and not null (and of a usable type). */
function present(o: Obj | undefined, k: string): boolean {
  return o !== undefined && Object.prototype.hasOwnProperty.call(o, k) && o[k] !== null && o[k] !== undefined;
}
function obj(o: Obj | undefined, k: string): Obj | undefined {
  const v = o?.[k];
  return isObj(v) ? v : undefined;
}
function list(o: Obj | undefined, k: string): unknown[] | undefined {
  const v = o?.[k];
  return Array.isArray(v) ? v : undefined;
}
/** Go's len() of a repeated field. */
function len(o: Obj | undefined, k: string): number {
  return list(o, k)?.length ?? 0;
}
function strItems(o: Obj | undefined, k: string): StrItems {
  const l = list(o, k);
  if (!l) return [];
  const out: Array<{ index: number; value: string }> = [];
  l.forEach((v, index) => {
    if (typeof v === "string") out.push({ index, value: v });
  });
  return out;
}
function str(o: Obj | undefined, k: string): string {
  const v = o?.[k];
  return typeof v === "string" ? v : "";
}

export interface WebhookResult {
  errors: Finding[];
  warnings: Finding[];
}

/** The policy's action as istiod sees it (enum default ALLOW); undefined when not a valid enum value. */
export function effectiveAction(spec: Obj | undefined): string | undefined {
  const a = spec?.action;
  if (a === undefined || a === null) return "ALLOW";
  return typeof a === "string" && ["ALLOW", "DENY", "AUDIT", "CUSTOM"].includes(a) ? a : undefined;
}

/** validateMetadata: dry-run annotation and internal annotations. Returns the first error, as Go does. */
function checkMetadata(policy: Obj, name: string, namespace: string, version: IstioVersion): Finding | null {
  const annotations = obj(obj(policy, "metadata"), "annotations");
  if (annotations && Object.prototype.hasOwnProperty.call(annotations, DRY_RUN_ANNOTATION)) {
    const val = annotations[DRY_RUN_ANNOTATION];
    const action = effectiveAction(obj(policy, "spec"));
    const path = joinKey("metadata.annotations", DRY_RUN_ANNOTATION);
    if (action === "ALLOW" || action === "DENY") {
      if (typeof val === "string") {
        const r = parseBool(val);
        if (!r.ok) {
          return {
            severity: "error",
            path,
            message: `${namespace}/${name} has annotation ${DRY_RUN_ANNOTATION} with invalid value (${val}): ${r.error}`,
          };
        }
      }
    } else if (action !== undefined) {
      return {
        severity: "error",
        path,
        message: `the annotation ${DRY_RUN_ANNOTATION} currently only supports action ALLOW/DENY, found action ${action} in ${namespace}/${name}`,
      };
    }
  }
  if (annotations && Object.prototype.hasOwnProperty.call(annotations, ALWAYS_REJECT_ANNOTATION)) {
    return {
      severity: "error",
      path: joinKey("metadata.annotations", ALWAYS_REJECT_ANNOTATION),
      message: `"${ALWAYS_REJECT_ANNOTATION}" annotation found, rejecting`,
    };
  }
  // Istio 1.27+ (validation.go validateMetadata): internal annotations that escalate privileges, in this order.
  if (since(version, "internalParentAnnotations")) {
    for (const a of [INTERNAL_PARENT_NAMESPACE_ANNOTATION, INTERNAL_PARENT_NAMES_ANNOTATION]) {
      if (annotations && Object.prototype.hasOwnProperty.call(annotations, a)) {
        return { severity: "error", path: joinKey("metadata.annotations", a), message: `"${a}" annotation found, this may not be set by users` };
      }
    }
  }
  return null;
}

function checkTargetRef(ref: unknown, path: string, errors: Finding[]): void {
  if (!isObj(ref)) return; // null: nothing to check (Go: nil); wrong type: schema layer
  const err = (p: string, message: string) => errors.push({ severity: "error", path: p, message });
  if (str(ref, "name") === "") err(joinKey(path, "name"), "targetRef name must be set");
  if (str(ref, "namespace") !== "") {
    // Also the CRD's CEL rule "cross namespace referencing is not currently supported".
    err(joinKey(path, "namespace"), "targetRef namespace must not be set; cross namespace referencing is not supported");
  }
  const group = str(ref, "group");
  const kind = str(ref, "kind");
  const canonical = group === "" ? "core" : group;
  if (!ALLOWED_TARGET_REFS.some((g) => g.kind === kind && g.group === canonical)) {
    err(path, `targetRef must be to one of ${ALLOWED_TARGET_REFS_TEXT} but was ${group}/${kind}`);
  }
}

const SOURCE_FIELDS_FOR_EMPTY = [
  "principals",
  "requestPrincipals",
  "namespaces",
  "ipBlocks",
  "remoteIpBlocks",
  "notPrincipals",
  "notRequestPrincipals",
  "notNamespaces",
  "notIpBlocks",
  "notRemoteIpBlocks",
  "serviceAccounts",
  "notServiceAccounts",
  "trustDomains",
  "notTrustDomains",
];
/** Source fields that can be enforced on TCP (their presence avoids the DENY warning). */
const SOURCE_TCP_FIELDS = [
  "notPrincipals",
  "principals",
  "ipBlocks",
  "notIpBlocks",
  "namespaces",
  "notNamespaces",
  "remoteIpBlocks",
  "notRemoteIpBlocks",
  "serviceAccounts",
  "notServiceAccounts",
  // Not trustDomains/notTrustDomains: validation.go's tcpRulesInFrom list does not have them (1.31.0-rc.0, master).
];
const OPERATION_FIELDS = ["ports", "methods", "paths", "hosts", "notPorts", "notMethods", "notPaths", "notHosts"];

/** Identity fields and `when` keys not supported with CUSTOM, with the names Istio prints. */
const CUSTOM_UNSUPPORTED_SOURCE: Array<[string, string]> = [
  ["namespaces", "From.Namespaces"],
  ["notNamespaces", "From.NotNamespaces"],
  ["serviceAccounts", "From.ServiceAccounts"],
  ["notServiceAccounts", "From.NotServiceAccounts"],
  ["principals", "From.Principals"],
  ["notPrincipals", "From.NotPrincipals"],
  ["requestPrincipals", "From.RequestPrincipals"],
  ["notRequestPrincipals", "From.NotRequestPrincipals"],
  ["trustDomains", "From.TrustDomains"],
  ["notTrustDomains", "From.NotTrustDomains"],
];
const CUSTOM_UNSUPPORTED_KEYS = ["source.namespace", "source.serviceAccount", "source.principal", "source.trustDomain"];

const DENY_HTTP_ONLY_WARNING =
  "configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP " +
  "attributes in a DENY rule; it is recommended to explicitly specify the port";

/** istiod's webhook for one AuthorizationPolicy object (any shape). */
export function webhookValidate(policy: Obj, name: string, namespace: string, version: IstioVersion = DEFAULT_ISTIO_VERSION): WebhookResult {
  const errors: Finding[] = [];
  const warnings: Finding[] = [];
  const err = (path: string, message: string) => errors.push({ severity: "error", path, message });
  const valueErr = (base: string, e: ValueError | null) => {
    if (e) err(e.index !== undefined ? joinIndex(base, e.index) : base, e.message);
  };

  const metaErr = checkMetadata(policy, name, namespace, version);
  if (metaErr) return { errors: [metaErr], warnings: [] };

  const spec = obj(policy, "spec");
  const selector = obj(spec, "selector");
  const hasSelector = present(spec, "selector");
  const hasTargetRef = present(spec, "targetRef");
  const targetRefs = list(spec, "targetRefs") ?? [];

  // validateOneOfSelectorType (the CRD has the same rule with has() semantics).
  if ((hasSelector ? 1 : 0) + (hasTargetRef ? 1 : 0) + (targetRefs.length > 0 ? 1 : 0) > 1) {
    err("spec", "only one of targetRefs or workloadSelector can be set");
  }

  // validateWorkloadSelector (the CRD has the same key/value rules as CEL).
  if (hasSelector && selector) {
    const labels = obj(selector, "matchLabels") ?? {};
    for (const [k, v] of Object.entries(labels)) {
      const value = typeof v === "string" ? v : "";
      const p = joinKey("spec.selector.matchLabels", k);
      if (k === "") err(p, `empty key is not supported in selector: ${JSON.stringify(`${k}=${value}`)}`);
      if (k.includes("*") || value.includes("*")) {
        err(p, `wildcard is not supported in selector: ${JSON.stringify(`${k}=${value}`)}`);
      }
    }
    if (Object.keys(labels).length === 0) {
      warnings.push({ severity: "warning", path: "spec.selector", message: "workload selector specified without labels" });
    }
  }

  // validatePolicyTargetReference(s)
  if (hasTargetRef) checkTargetRef(spec!.targetRef, "spec.targetRef", errors);
  targetRefs.forEach((r, i) => checkTargetRef(r, joinIndex("spec.targetRefs", i), errors));

  const action = effectiveAction(spec) ?? "";
  const rulesPresent = present(spec, "rules");
  const rules = list(spec, "rules") ?? [];
  const provider = obj(spec, "provider");
  const providerPresent = present(spec, "provider");

  if (action === "CUSTOM") {
    if (!rulesPresent) {
      err(
        "spec.rules",
        "CUSTOM action without `rules` is meaningless as it will never be triggered, " +
          "add an empty rule `{}` if you want it be triggered for every request",
      );
    } else if (!providerPresent || str(provider, "name") === "") {
      err(providerPresent ? "spec.provider.name" : "spec.provider", "`provider.name` must not be empty");
    }
    rules.forEach((rule, i) => {
      if (!isObj(rule)) return;
      const rulePath = joinIndex("spec.rules", i);
      (list(rule, "from") ?? []).forEach((from, j) => {
        const src = isObj(from) ? obj(from, "source") : undefined;
        if (!src) return;
        const srcPath = `${joinIndex(`${rulePath}.from`, j)}.source`;
        for (const [field, label] of CUSTOM_UNSUPPORTED_SOURCE) {
          if (len(src, field) !== 0) err(joinKey(srcPath, field), `${label} is currently not supported with CUSTOM action`);
        }
      });
      (list(rule, "when") ?? []).forEach((when, k) => {
        const whenPath = joinIndex(`${rulePath}.when`, k);
        if (!isObj(when)) {
          err(whenPath, "when field cannot be nil");
          return;
        }
        const key = str(when, "key");
        const unsupported = CUSTOM_UNSUPPORTED_KEYS.includes(key) && (key !== "source.trustDomain" || since(version, "trustDomains"));
        if (unsupported || key.startsWith("request.auth.")) {
          err(`${whenPath}.key`, `${key} is currently not supported with CUSTOM action`);
        }
      });
    });
  }
  if (providerPresent && action !== "CUSTOM" && action !== "") {
    err("spec.provider", `\`provider\` must not be with non CUSTOM action, found ${action}`);
  }
  if (action === "DENY" && !rulesPresent) {
    err(
      "spec.rules",
      "DENY action without `rules` is meaningless as it will never be triggered, " +
        "add an empty rule `{}` if you want it be triggered for every request",
    );
  }

  rules.forEach((rule, i) => {
    const rulePath = joinIndex("spec.rules", i);
    if (!isObj(rule)) {
      if (rule === null || rule === undefined) err(rulePath, `\`rule\` must not be nil, found at rule ${i}`);
      return; // other types: schema layer
    }
    const fromList = list(rule, "from");
    if (fromList && fromList.length === 0) err(`${rulePath}.from`, `\`from\` must not be empty, found at rule ${i}`);
    let tcpRulesInFrom = false;
    let tcpRulesInTo = false;
    let fromRuleExist = false;
    let toRuleExist = false;

    (fromList ?? []).forEach((from, j) => {
      const fromPath = joinIndex(`${rulePath}.from`, j);
      if (from === null || from === undefined) {
        err(fromPath, `\`from\` must not be nil, found at rule ${i}`);
        return;
      }
      if (!isObj(from)) return;
      const src = obj(from, "source");
      if (!src) {
        if (!present(from, "source")) err(`${fromPath}.source`, `\`from.source\` must not be nil, found at rule ${i}`);
        return;
      }
      fromRuleExist = true;
      const srcPath = `${fromPath}.source`;
      if (
        len(src, "principals") + len(src, "notPrincipals") + len(src, "namespaces") + len(src, "notNamespaces") > 0 &&
        len(src, "serviceAccounts") + len(src, "notServiceAccounts") > 0
      ) {
        // Also the CRD's CEL rule "Cannot set serviceAccounts with namespaces or principals".
        err(srcPath, `cannot set serviceAccounts with namespaces or principals, found at rule ${i}`);
      }
      if (SOURCE_FIELDS_FOR_EMPTY.every((f) => len(src, f) === 0)) {
        err(srcPath, `\`from.source\` must not be empty, found at rule ${i}`);
      }
      for (const f of ["ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"]) {
        for (const e of validateIPs(strItems(src, f))) valueErr(joinKey(srcPath, f), e);
      }
      const empties: Array<[string, string]> = [
        ["principals", "Principals"],
        ["requestPrincipals", "RequestPrincipals"],
        ["namespaces", "Namespaces"],
        ["ipBlocks", "IpBlocks"],
        ["remoteIpBlocks", "RemoteIpBlocks"],
        ["notPrincipals", "NotPrincipals"],
        ["notRequestPrincipals", "NotRequestPrincipals"],
        ["notNamespaces", "NotNamespaces"],
        ["notIpBlocks", "NotIpBlocks"],
        ["notRemoteIpBlocks", "NotRemoteIpBlocks"],
      ];
      for (const [f, label] of empties) valueErr(joinKey(srcPath, f), checkEmptyValues(label, strItems(src, f)));
      for (const [f, label] of [
        ["serviceAccounts", "ServiceAccounts"],
        ["notServiceAccounts", "NotServiceAccounts"],
      ] as const) {
        valueErr(joinKey(srcPath, f), checkServiceAccount(label, strItems(src, f), len(src, f)));
      }
      for (const [f, label] of [
        ["trustDomains", "TrustDomains"],
        ["notTrustDomains", "NotTrustDomains"],
      ] as const) {
        // The fields exist since 1.31 (before, the CRD's unknown-field check rejects them: index.ts).
        if (since(version, "trustDomains")) valueErr(joinKey(srcPath, f), checkTrustDomainValues(label, strItems(src, f)));
      }
      if (SOURCE_TCP_FIELDS.some((f) => present(src, f))) tcpRulesInFrom = true;
    });

    const toList = list(rule, "to");
    if (toList && toList.length === 0) err(`${rulePath}.to`, `\`to\` must not be empty, found at rule ${i}`);
    (toList ?? []).forEach((to, j) => {
      const toPath = joinIndex(`${rulePath}.to`, j);
      if (to === null || to === undefined) {
        err(toPath, `\`to\` must not be nil, found at rule ${i}`);
        return;
      }
      if (!isObj(to)) return;
      const op = obj(to, "operation");
      if (!op) {
        if (!present(to, "operation")) err(`${toPath}.operation`, `\`to.operation\` must not be nil, found at rule ${i}`);
        return;
      }
      toRuleExist = true;
      const opPath = `${toPath}.operation`;
      if (OPERATION_FIELDS.every((f) => len(op, f) === 0)) {
        err(opPath, `\`to.operation\` must not be empty, found at rule ${i}`);
      }
      for (const f of ["ports", "notPorts"]) {
        for (const e of validatePorts(strItems(op, f))) valueErr(joinKey(opPath, f), e);
      }
      const empties: Array<[string, string]> = [
        ["ports", "Ports"],
        ["methods", "Methods"],
        ["paths", "Paths"],
        ["hosts", "Hosts"],
        ["notPorts", "NotPorts"],
        ["notMethods", "NotMethods"],
        ["notPaths", "NotPaths"],
        ["notHosts", "NotHosts"],
      ];
      for (const [f, label] of empties) valueErr(joinKey(opPath, f), checkEmptyValues(label, strItems(op, f)));
      valueErr(joinKey(opPath, "paths"), checkValidPathTemplate("Paths", strItems(op, "paths")));
      valueErr(joinKey(opPath, "notPaths"), checkValidPathTemplate("NotPaths", strItems(op, "notPaths")));
      if (present(op, "ports") || present(op, "notPorts")) tcpRulesInTo = true;
    });

    (list(rule, "when") ?? []).forEach((cond, k) => {
      const condPath = joinIndex(`${rulePath}.when`, k);
      const c = isObj(cond) ? cond : undefined;
      if (cond !== null && cond !== undefined && !c) return; // wrong type: schema layer
      const key = str(c, "key");
      if (key === "") {
        // The CRD also marks `key` as required ("Required value").
        err(`${condPath}.key`, "`key` must not be empty");
        return;
      }
      const values = strItems(c, "values");
      const notValues = strItems(c, "notValues");
      if (len(c, "values") === 0 && len(c, "notValues") === 0) {
        err(condPath, `at least one of \`values\` or \`notValues\` must be set for key ${key}`);
        return;
      }
      // Go calls ValidateAttribute(key, values) and (key, notValues); a key error would come out twice,
      // once per call: report it once.
      const rv = validateAttribute(key, values, version);
      const rn = validateAttribute(key, notValues, version);
      const keyError = rv.keyError ?? rn.keyError;
      if (keyError !== null) {
        err(`${condPath}.key`, `invalid \`${rv.keyError !== null ? "value" : "notValue"}\` for \`key\` ${key}: ${keyError}`);
      }
      for (const e of rv.valueErrors) valueErr(`${condPath}.values`, { ...e, message: `invalid \`value\` for \`key\` ${key}: ${e.message}` });
      for (const e of rn.valueErrors) {
        valueErr(`${condPath}.notValues`, { ...e, message: `invalid \`notValue\` for \`key\` ${key}: ${e.message}` });
      }
    });

    if (((fromRuleExist && !toRuleExist && !tcpRulesInFrom) || (toRuleExist && !tcpRulesInTo)) && action === "DENY") {
      warnings.push({ severity: "warning", path: rulePath, message: DENY_HTTP_ONLY_WARNING });
    }
  });

  return { errors, warnings };
}
