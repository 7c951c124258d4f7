// Requests to replay, from the files operators have: case files, request files (`check
// --request`), and Envoy access logs (tools/requests/access-log.ts). Each request keeps where it
// came from and what its source does not tell. Access logs are read line by line as the requests
// are consumed, so a log of any size is replayed in bounded memory.
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { readCaseFile } from "../cases/case-file.ts";
import { readRequestFile } from "../cli/commands/check.ts";
import { UserError } from "../cli/errors.ts";
import type { Workload } from "../model/case-file.ts";
import { AccessLogError, type LoggedRequest, NOTHING_UNKNOWN, readAccessLogLine } from "./access-log.ts";

/** Skipped log lines: all counted, the first MAX_KEPT kept with their reason. */
export class SkippedLines {
  static readonly MAX_KEPT = 100;
  total = 0;
  readonly first: Array<{ origin: string; reason: string }> = [];
  add(origin: string, reason: string): void {
    this.total++;
    if (this.first.length < SkippedLines.MAX_KEPT) this.first.push({ origin, reason });
  }
}

export interface RequestSet {
  /** Read lazily: iterate once. */
  requests: Iterable<LoggedRequest>;
  skipped: SkippedLines;
}

const CHUNK = 1 << 20;

/** The lines of a file, read in chunks (the last one may lack its newline). */
function* fileLines(file: string): Generator<string> {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    throw new UserError(`${file}: cannot read: ${(e as Error).message}`);
  }
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    const decoder = new StringDecoder("utf8");
    let rest = "";
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, CHUNK, null);
      } catch (e) {
        throw new UserError(`${file}: cannot read: ${(e as Error).message}`);
      }
      const text = rest + (n > 0 ? decoder.write(buf.subarray(0, n)) : decoder.end());
      const lines = text.split("\n");
      rest = lines.pop()!;
      for (const l of lines) yield l;
      if (n === 0) break;
    }
    if (rest !== "") yield rest;
  } finally {
    closeSync(fd);
  }
}

/** An access log starts with a JSON object or an Envoy `[START_TIME]`; anything else is YAML. */
function looksLikeAccessLog(file: string): boolean {
  for (const l of fileLines(file)) {
    const first = l.trim();
    if (first === "") continue;
    return first.startsWith("{") || /^\[\d{4}-\d{2}-\d{2}T/.test(first);
  }
  return false;
}

function* logRequests(file: string, logWorkload: Workload | undefined, skipped: SkippedLines): Generator<LoggedRequest> {
  let n = 0;
  for (const line of fileLines(file)) {
    const origin = `${file}:${++n}`;
    let r: LoggedRequest | string | null;
    try {
      r = readAccessLogLine(line, origin, logWorkload);
    } catch (e) {
      if (e instanceof AccessLogError) throw new UserError(e.message);
      throw e;
    }
    if (typeof r === "string") skipped.add(origin, r);
    else if (r !== null) yield r;
  }
}

function* fileRequests(file: string, logWorkload: Workload | undefined, skipped: SkippedLines): Generator<LoggedRequest> {
  if (looksLikeAccessLog(file)) {
    yield* logRequests(file, logWorkload, skipped);
    return;
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError(`${file}: cannot read: ${(e as Error).message}`);
  }
  if (/^\s*(cases|validation_cases|meta)\s*:/m.test(text)) {
    let caseFile;
    try {
      caseFile = readCaseFile(file);
    } catch (e) {
      throw new UserError((e as Error).message);
    }
    for (const c of caseFile.cases ?? []) {
      yield { origin: `${file}: case ${c.id}`, workload: c.workload, request: c.request, unknown: NOTHING_UNKNOWN };
    }
    return;
  }
  const r = readRequestFile(file);
  yield { origin: file, workload: r.workload, request: r.request, unknown: NOTHING_UNKNOWN };
}

/** The requests of every file, in order, read as they are consumed. */
export function loadRequests(files: string[], logWorkload: Workload | undefined): RequestSet {
  const skipped = new SkippedLines();
  function* all(): Generator<LoggedRequest> {
    for (const file of files) yield* fileRequests(file, logWorkload, skipped);
  }
  return { requests: all(), skipped };
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
