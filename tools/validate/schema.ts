// The AuthorizationPolicy CRD's structural schema (istio/istio manifests/charts/base/files/crd-all.gen.yaml,
// versions v1 and v1beta1 are identical) as the Kubernetes API server applies it before any webhook runs:
// unknown fields (kubectl's default --validate=strict), types, enum, maxItems, maxLength, minLength,
// maxProperties, pattern, required, and the CEL x-kubernetes-validations. Null-valued properties are pruned
// (treated as absent), as the API server does for non-nullable fields.
//
// A few CRD rules duplicate istiod webhook rules on the same condition (selector wildcards/empty keys,
// targetRef name and namespace, serviceAccounts limits, `when[].key` required, the one-of CEL rule). Those are
// reported once, by the webhook layer (istiod.ts), with Istio's text; this layer reports them only where the
// CRD is stricter than the webhook (e.g. `targetRefs: []` next to `selector`, which CEL's has() counts).

import { joinIndex, joinKey } from "../parse/path.ts";

export interface SchemaIssue {
  path: string;
  message: string;
}

type Schema =
  | { type: "object"; props: Record<string, Schema>; required?: string[]; preserveUnknown?: boolean; cel?: (o: Record<string, unknown>, path: string, out: SchemaIssue[]) => void }
  | { type: "map"; values: Schema; maxProperties?: number }
  | { type: "array"; items: Schema; maxItems?: number; nullItemsReportedElsewhere?: boolean }
  | { type: "string"; enum?: string[]; maxLength?: number; minLength?: number; pattern?: RegExp; patternText?: string }
  | { type: "any" };

const str: Schema = { type: "string" };
const strList: Schema = { type: "array", items: str };
const saList: Schema = { type: "array", items: { type: "string" } }; // maxItems 16 / maxLength 320: webhook layer

function has(o: Record<string, unknown>, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k) && o[k] !== null && o[k] !== undefined;
}

const sourceSchema: Schema = {
  type: "object",
  props: {
    principals: strList,
    notPrincipals: strList,
    requestPrincipals: strList,
    notRequestPrincipals: strList,
    namespaces: strList,
    notNamespaces: strList,
    serviceAccounts: saList,
    notServiceAccounts: saList,
    // "extended" CRD channel, Istio 1.31+ (spec §0, §5.1.4).
    trustDomains: strList,
    notTrustDomains: strList,
    ipBlocks: strList,
    notIpBlocks: strList,
    remoteIpBlocks: strList,
    notRemoteIpBlocks: strList,
  },
  cel: (o, path, out) => {
    // (has(self.serviceAccounts) || has(self.notServiceAccounts)) ? !has(principals|notPrincipals|namespaces|notNamespaces) : true
    const sa = has(o, "serviceAccounts") || has(o, "notServiceAccounts");
    const other = has(o, "principals") || has(o, "notPrincipals") || has(o, "namespaces") || has(o, "notNamespaces");
    if (!sa || !other) return;
    // The webhook reports the same condition when the lists are non-empty; report here only the has()-only case.
    const len = (k: string) => (Array.isArray(o[k]) ? (o[k] as unknown[]).length : 0);
    const webhookFires =
      len("serviceAccounts") + len("notServiceAccounts") > 0 &&
      len("principals") + len("notPrincipals") + len("namespaces") + len("notNamespaces") > 0;
    if (!webhookFires) out.push({ path, message: `Invalid value: "object": Cannot set serviceAccounts with namespaces or principals` });
  },
};

const operationSchema: Schema = {
  type: "object",
  props: {
    hosts: strList,
    notHosts: strList,
    ports: strList,
    notPorts: strList,
    methods: strList,
    notMethods: strList,
    paths: strList,
    notPaths: strList,
  },
};

const conditionSchema: Schema = {
  type: "object",
  // `required: [key]` is reported by the webhook layer together with "`key` must not be empty".
  props: { key: str, values: strList, notValues: strList },
};

const ruleSchema: Schema = {
  type: "object",
  props: {
    from: { type: "array", maxItems: 512, nullItemsReportedElsewhere: true, items: { type: "object", props: { source: sourceSchema } } },
    to: { type: "array", nullItemsReportedElsewhere: true, items: { type: "object", props: { operation: operationSchema } } },
    when: { type: "array", nullItemsReportedElsewhere: true, items: conditionSchema },
  },
};

const GROUP_RE = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KIND_RE = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

const targetRefSchema: Schema = {
  type: "object",
  // name: required/minLength 1 and namespace: CEL size()==0 are reported by the webhook layer.
  required: ["kind"],
  props: {
    group: { type: "string", maxLength: 253, pattern: GROUP_RE, patternText: String.raw`^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$` },
    kind: { type: "string", maxLength: 63, minLength: 1, pattern: KIND_RE, patternText: "^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$" },
    name: { type: "string", maxLength: 253 },
    namespace: str,
  },
};

export const ACTIONS = ["ALLOW", "DENY", "AUDIT", "CUSTOM"] as const;

const specSchema: Schema = {
  type: "object",
  props: {
    action: { type: "string", enum: [...ACTIONS] },
    provider: { type: "object", props: { name: str } },
    rules: { type: "array", maxItems: 512, nullItemsReportedElsewhere: true, items: ruleSchema },
    selector: {
      type: "object",
      props: {
        // Key/value wildcard and empty-key CEL rules: webhook layer (same conditions, Istio's text).
        matchLabels: { type: "map", maxProperties: 4096, values: { type: "string", maxLength: 63 } },
      },
    },
    targetRef: targetRefSchema,
    targetRefs: { type: "array", maxItems: 16, items: targetRefSchema },
  },
  cel: (o, path, out) => {
    const n = (has(o, "selector") ? 1 : 0) + (has(o, "targetRef") ? 1 : 0) + (has(o, "targetRefs") ? 1 : 0);
    if (n <= 1) return;
    const webhookN =
      (has(o, "selector") ? 1 : 0) +
      (has(o, "targetRef") ? 1 : 0) +
      (Array.isArray(o.targetRefs) && o.targetRefs.length > 0 ? 1 : 0);
    if (webhookN <= 1) out.push({ path, message: `Invalid value: "object": only one of targetRefs or selector can be set` });
  },
};

// metav1.ObjectMeta fields (anything else is a strict-decoding unknown field).
const metadataSchema: Schema = {
  type: "object",
  props: {
    name: str,
    generateName: str,
    namespace: str,
    selfLink: str,
    uid: str,
    resourceVersion: str,
    generation: { type: "any" },
    creationTimestamp: { type: "any" },
    deletionTimestamp: { type: "any" },
    deletionGracePeriodSeconds: { type: "any" },
    labels: { type: "map", values: str },
    annotations: { type: "map", values: str },
    ownerReferences: { type: "any" },
    finalizers: { type: "any" },
    managedFields: { type: "any" },
  },
};

export const rootSchema: Schema = {
  type: "object",
  props: {
    apiVersion: str,
    kind: str,
    metadata: metadataSchema,
    spec: specSchema,
    status: { type: "any" },
  },
};

export function jsonType(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  if (typeof v === "bigint") return "integer";
  if (typeof v === "object") return "object";
  return typeof v; // string, boolean
}

/** Closest known name, for "did you mean" hints on unknown fields. */
function suggest(name: string, known: string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  const lower = name.toLowerCase();
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  if (best === null) return null;
  return bestD <= Math.max(2, Math.floor(best.length / 4)) ? best : null;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

function typeError(path: string, value: unknown, want: string, out: SchemaIssue[]): void {
  const got = jsonType(value);
  out.push({ path, message: `Invalid value: "${got}": must be of type ${want}: "${got}"` });
}

function check(schema: Schema, value: unknown, path: string, out: SchemaIssue[]): void {
  switch (schema.type) {
    case "any":
      return;
    case "string": {
      if (typeof value !== "string") return typeError(path, value, "string", out);
      if (schema.enum && !schema.enum.includes(value)) {
        out.push({
          path,
          message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`,
        });
      }
      if (schema.maxLength !== undefined && [...value].length > schema.maxLength) {
        out.push({ path, message: `Too long: may not be longer than ${schema.maxLength}` });
      }
      if (schema.minLength !== undefined && [...value].length < schema.minLength) {
        out.push({ path, message: `Invalid value: ${JSON.stringify(value)}: should be at least ${schema.minLength} chars long` });
      } else if (schema.pattern && !schema.pattern.test(value)) {
        out.push({ path, message: `Invalid value: ${JSON.stringify(value)}: should match '${schema.patternText}'` });
      }
      return;
    }
    case "array": {
      if (!Array.isArray(value)) return typeError(path, value, "array", out);
      if (schema.maxItems !== undefined && value.length > schema.maxItems) {
        out.push({ path, message: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
      }
      value.forEach((item, i) => {
        if ((item === null || item === undefined) && schema.nullItemsReportedElsewhere) return;
        check(schema.items, item, joinIndex(path, i), out);
      });
      return;
    }
    case "map": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return typeError(path, value, "object", out);
      const entries = Object.entries(value as Record<string, unknown>);
      if (schema.maxProperties !== undefined && entries.length > schema.maxProperties) {
        out.push({ path, message: `Too many: ${entries.length}: must have at most ${schema.maxProperties} items` });
      }
      for (const [k, v] of entries) check(schema.values, v, joinKey(path, k), out);
      return;
    }
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return typeError(path, value, "object", out);
      const o = value as Record<string, unknown>;
      const known = Object.keys(schema.props);
      for (const k of Object.keys(o)) {
        const child = joinKey(path, k);
        const sub = schema.props[k];
        if (!sub) {
          if (schema.preserveUnknown) continue;
          const hint = suggest(k, known);
          out.push({
            path: child,
            message: `unknown field "${child}"` + (hint !== null ? ` (did you mean "${hint}"?)` : ""),
          });
          continue;
        }
        if (o[k] === null || o[k] === undefined) continue; // pruned
        check(sub, o[k], child, out);
      }
      for (const r of schema.required ?? []) {
        if (!has(o, r)) out.push({ path: joinKey(path, r), message: "Required value" });
      }
      schema.cel?.(o, path, out);
      return;
    }
  }
}

/** Structural-schema issues of a whole AuthorizationPolicy object (top level, metadata, spec). */
export function checkSchema(obj: unknown): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  check(rootSchema, obj, "", out);
  return out;
}
