// The WasmPlugin CRD's structural schema (../shared/schemas), as the API server checks an object.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { SHARED } from "../e2e/cli-runner.ts";

/** The subset of OpenAPI v3 a structural CRD schema uses, as the API server checks it. */
function checkSchema(value: unknown, schema: any, path: string, out: string[]): void {
  if (value === undefined || value === null) return;
  if (schema["x-kubernetes-preserve-unknown-fields"] && !schema.properties) return;
  switch (schema.type) {
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) return void out.push(`${path}: not an object`);
      for (const r of schema.required ?? []) if (!(r in (value as object))) out.push(`${path}.${r}: required`);
      for (const [k, v] of Object.entries(value as object)) {
        const sub = schema.properties?.[k] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
        if (!sub) {
          if (!schema["x-kubernetes-preserve-unknown-fields"]) out.push(`${path}.${k}: unknown field`);
          continue;
        }
        checkSchema(v, sub, `${path}.${k}`, out);
      }
      return;
    }
    case "array":
      if (!Array.isArray(value)) return void out.push(`${path}: not an array`);
      value.forEach((v, i) => checkSchema(v, schema.items, `${path}[${i}]`, out));
      return;
    case "string":
      if (typeof value !== "string") return void out.push(`${path}: not a string`);
      if (schema.enum && !schema.enum.includes(value)) out.push(`${path}: "${value}" not in ${schema.enum}`);
      if (schema.pattern && !new RegExp(schema.pattern).test(value)) out.push(`${path}: does not match ${schema.pattern}`);
      return;
    case "integer":
      if (!Number.isInteger(value)) out.push(`${path}: not an integer`);
      return;
    case "boolean":
      if (typeof value !== "boolean") out.push(`${path}: not a boolean`);
      return;
  }
}

const crd = yaml.load(readFileSync(join(SHARED, "schemas", "wasmplugins.extensions.istio.io.yaml"), "utf8")) as any;
const v1alpha1 = crd.spec.versions.find((v: any) => v.name === "v1alpha1").schema.openAPIV3Schema;

export function schemaIssues(doc: any): string[] {
  const out: string[] = [];
  checkSchema(doc.spec, v1alpha1.properties.spec, "spec", out);
  return out;
}

