// meshauthz package --network: a second WasmPlugin (type NETWORK) for the TCP ports, valid against
// Istio's WasmPlugin CRD schema (/work/shared/schemas), whose pluginConfig the filter runs as a
// network filter.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as yaml from "js-yaml";
import { meshauthz } from "./cli-runner.ts";
import { EnvoyHost } from "../../tools/host/index.ts";
import { readFilterWasm } from "../../tools/cases/filter-decision.ts";
import { nodeForWorkload } from "../../tools/cases/request-stream.ts";

const CRD = new URL("../../../shared/schemas/wasmplugins.extensions.istio.io.yaml", import.meta.url);

/** The subset of OpenAPI v3 the CRD uses: type, properties (no unknown fields), enum, items,
 *  minimum/maximum, required. Returns the paths that break it. */
function validate(value: unknown, schema: any, path = "spec"): string[] {
  if (!schema) return [];
  if (schema["x-kubernetes-preserve-unknown-fields"] && schema.type === "object") return [];
  const errs: string[] = [];
  const t = schema.type;
  if (t === "object") {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${path}: not an object`];
    for (const r of schema.required ?? []) if (!(r in (value as object))) errs.push(`${path}.${r}: required`);
    for (const [k, v] of Object.entries(value as object)) {
      const sub = schema.properties?.[k] ?? (schema.additionalProperties === true ? {} : schema.additionalProperties);
      if (!sub) errs.push(`${path}.${k}: unknown field`);
      else errs.push(...validate(v, sub, `${path}.${k}`));
    }
  } else if (t === "array") {
    if (!Array.isArray(value)) return [`${path}: not an array`];
    value.forEach((v, i) => errs.push(...validate(v, schema.items, `${path}[${i}]`)));
  } else if (t === "string") {
    if (typeof value !== "string") errs.push(`${path}: not a string`);
    else if (schema.enum && !schema.enum.includes(value)) errs.push(`${path}: ${value} not in ${schema.enum.join("|")}`);
  } else if (t === "integer") {
    if (!Number.isInteger(value)) errs.push(`${path}: not an integer`);
    else if ((schema.minimum !== undefined && (value as number) < schema.minimum) || (schema.maximum !== undefined && (value as number) > schema.maximum)) errs.push(`${path}: out of range`);
  }
  return errs;
}

function specSchema(): any {
  const crd = yaml.load(readFileSync(CRD, "utf8")) as any;
  const version = crd.spec.versions.find((v: any) => v.name === "v1alpha1");
  return version.schema.openAPIV3Schema.properties.spec;
}

test("package --network emits the NETWORK WasmPlugin for the TCP ports, valid against the CRD", async () => {
  const r = meshauthz(["package", "deploy/examples/seed/manifests", "--url", `oci://registry.example.com/meshauthz@sha256:${"ab".repeat(32)}`, "--network", "--tcp-ports", "9000,5432,9000"]);
  assert.equal(r.status, 0, r.stderr);
  const docs = yaml.loadAll(r.stdout) as any[];
  // The HTTP delivery plan (docs/delivery.md: default's plugin, then the root plugin), then the NETWORK plugin.
  assert.equal(docs.length, 3);
  const [nsPlugin, http, net] = docs;
  assert.equal(http.spec.type, undefined, "the HTTP plugin keeps the default type");
  assert.equal(net.metadata.name, "meshauthz-tcp");
  assert.equal(net.spec.type, "NETWORK");
  assert.equal(net.spec.phase, "AUTHZ");
  assert.deepEqual(net.spec.match, [{ mode: "SERVER", ports: [{ number: 5432 }, { number: 9000 }] }]);
  assert.equal(net.spec.pluginConfig.mode, "network");
  // The NETWORK plugin carries the whole mesh; here that is default's policies (the seed has no root ones).
  assert.equal(net.spec.pluginConfig.policy, nsPlugin.spec.pluginConfig.policy);
  assert.equal(net.spec.url, http.spec.url, "both plugins pull the same pinned module");
  assert.equal(net.spec.sha256, http.spec.sha256);
  const schema = specSchema();
  for (const d of docs) assert.deepEqual(validate(d.spec, schema), [], d.metadata.name);
  assert.ok(validate({ ...net.spec, type: "TCP" }, schema).length > 0, "the validator sees a bad type");

  // The filter runs that pluginConfig as a network filter: the seed's deny-all-backend closes the connection.
  const host = await EnvoyHost.create({
    wasm: readFilterWasm(),
    configuration: JSON.stringify(net.spec.pluginConfig),
    node: nodeForWorkload({ namespace: "default", labels: { app: "backend" } }),
    workers: 1,
  });
  const c = host.connect({ downstreamRemote: "10.0.0.1:4000", downstreamLocal: "10.0.0.2:9000", tls: null });
  assert.equal(c.allowed, false);
  assert.equal(c.filterState["meshauthz.termination_details"], "rbac_access_denied_matched_policy[ns[default]-policy[deny-all-backend]-rule[0]]");
});

test("package --network without --tcp-ports, or with a bad port, is a usage error", () => {
  const base = ["package", "deploy/examples/seed/manifests", "--url", "oci://r.example.com/m:1"];
  const a = meshauthz([...base, "--network"]);
  assert.equal(a.status, 2);
  assert.match(a.stderr, /--network needs --tcp-ports/);
  const b = meshauthz([...base, "--network", "--tcp-ports", "80,70000"]);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /"70000" is not a port/);
});
