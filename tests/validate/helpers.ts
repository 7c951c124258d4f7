import assert from "node:assert/strict";
import { validatePolicy } from "../../tools/validate/index.ts";
import { formatDiagnostic } from "../../tools/model/diagnostic.ts";
import type { Diagnostic } from "../../tools/model/diagnostic.ts";
import type { AuthorizationPolicy } from "../../tools/model/policy.ts";

/** An AuthorizationPolicy `foo/p` with the given spec (any shape) and extra metadata. */
export function ap(spec: unknown, metadata: Record<string, unknown> = {}): AuthorizationPolicy {
  const p: Record<string, unknown> = {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "p", namespace: "foo", ...metadata },
  };
  if (spec !== undefined) p.spec = spec;
  return p as unknown as AuthorizationPolicy;
}

/** A policy with one rule. */
export function rule(r: unknown, extra: Record<string, unknown> = {}): AuthorizationPolicy {
  return ap({ ...extra, rules: [r] });
}

function show(ds: Diagnostic[]): string {
  return ds.map(formatDiagnostic).join("\n  ") || "(no diagnostics)";
}

export function diagnostics(p: unknown): Diagnostic[] {
  return validatePolicy(p as AuthorizationPolicy);
}

export function assertValid(p: unknown, opts: { warning?: boolean } = {}): Diagnostic[] {
  const ds = diagnostics(p);
  const errors = ds.filter((d) => d.severity === "error");
  assert.equal(errors.length, 0, `expected no errors, got:\n  ${show(ds)}`);
  const warnings = ds.filter((d) => d.severity === "warning");
  if (opts.warning === true) assert.ok(warnings.length > 0, `expected a warning, got:\n  ${show(ds)}`);
  if (opts.warning === false || opts.warning === undefined) {
    assert.equal(warnings.length, 0, `expected no warnings, got:\n  ${show(ds)}`);
  }
  return ds;
}

/** Asserts an error at `path` (exact) whose message contains `text`. Returns all diagnostics. */
export function assertError(p: unknown, path: string, text: string): Diagnostic[] {
  const ds = diagnostics(p);
  assert.ok(
    ds.some((d) => d.severity === "error" && d.path === path && d.message.includes(text)),
    `expected an error at ${JSON.stringify(path)} containing ${JSON.stringify(text)}, got:\n  ${show(ds)}`,
  );
  return ds;
}

export function assertWarning(p: unknown, path: string, text: string): Diagnostic[] {
  const ds = diagnostics(p);
  assert.ok(
    ds.some((d) => d.severity === "warning" && d.path === path && d.message.includes(text)),
    `expected a warning at ${JSON.stringify(path)} containing ${JSON.stringify(text)}, got:\n  ${show(ds)}`,
  );
  return ds;
}

export function assertNoMessage(p: unknown, text: string): void {
  const ds = diagnostics(p);
  assert.ok(!ds.some((d) => d.message.includes(text)), `unexpected ${JSON.stringify(text)} in:\n  ${show(ds)}`);
}

export function errorCount(p: unknown): number {
  return diagnostics(p).filter((d) => d.severity === "error").length;
}
