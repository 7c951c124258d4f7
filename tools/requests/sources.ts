// Requests to replay, from the files operators have: case files, request files (`check
// --request`), and Envoy access logs (tools/requests/access-log.ts). Each request keeps where it
// came from and what its source does not tell.
import { readFileSync } from "node:fs";
import { readCaseFile } from "../cases/case-file.ts";
import { readRequestFile } from "../cli/commands/check.ts";
import { UserError } from "../cli/errors.ts";
import type { Workload } from "../model/case-file.ts";
import { AccessLogError, type LoggedRequest, NOTHING_UNKNOWN, readAccessLog } from "./access-log.ts";

export interface RequestSet {
  requests: LoggedRequest[];
  skipped: Array<{ origin: string; reason: string }>;
}

/** An access log starts with a JSON object or an Envoy `[START_TIME]`; anything else is YAML. */
function looksLikeAccessLog(text: string): boolean {
  const first = text.split("\n").find((l) => l.trim() !== "")?.trim() ?? "";
  return first.startsWith("{") || /^\[\d{4}-\d{2}-\d{2}T/.test(first);
}

export function loadRequests(files: string[], logWorkload: Workload | undefined): RequestSet {
  const out: RequestSet = { requests: [], skipped: [] };
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new UserError(`${file}: cannot read: ${(e as Error).message}`);
    }
    if (looksLikeAccessLog(text)) {
      try {
        const log = readAccessLog(text, file, logWorkload);
        out.requests.push(...log.requests);
        out.skipped.push(...log.skipped);
      } catch (e) {
        if (e instanceof AccessLogError) throw new UserError(e.message);
        throw e;
      }
      continue;
    }
    if (/^\s*(cases|validation_cases|meta)\s*:/m.test(text)) {
      let caseFile;
      try {
        caseFile = readCaseFile(file);
      } catch (e) {
        throw new UserError((e as Error).message);
      }
      for (const c of caseFile.cases ?? []) {
        out.requests.push({ origin: `${file}: case ${c.id}`, workload: c.workload, request: c.request, unknown: NOTHING_UNKNOWN });
      }
      continue;
    }
    const r = readRequestFile(file);
    out.requests.push({ origin: file, workload: r.workload, request: r.request, unknown: NOTHING_UNKNOWN });
  }
  return out;
}

/** `NAMESPACE` or `NAMESPACE/key=value,key=value`. */
export function parseWorkloadFlag(text: string): Workload {
  const slash = text.indexOf("/");
  const namespace = slash < 0 ? text : text.slice(0, slash);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) {
    throw new UserError(`--workload: "${namespace}" is not a namespace name (expected NAMESPACE[/key=value,...])`);
  }
  const labels: Record<string, string> = {};
  if (slash >= 0) {
    for (const part of text.slice(slash + 1).split(",")) {
      if (part === "") continue;
      const eq = part.indexOf("=");
      if (eq <= 0) throw new UserError(`--workload: label "${part}" is not key=value`);
      labels[part.slice(0, eq)] = part.slice(eq + 1);
    }
  }
  return { namespace, labels };
}
