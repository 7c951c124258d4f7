// Real ext_authz servers on 127.0.0.1 for the tests: an HTTP authorization service (Envoy's ext_authz
// HTTP protocol: 200 allows, other statuses deny with that status/body/headers, 5xx is an error)
// and a gRPC envoy.service.auth.v3.Authorization server built with @grpc/grpc-js from Envoy's
// proto definitions (ext_authz.proto). Each answers what the test's `decide` says: allow (with
// headers), deny (status, body, headers), slowly (after `delayMs`), or fail; `downAddress()` is
// a port nothing listens on. Every request received is recorded.
import * as http from "node:http";
import * as net from "node:net";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

export type Answer =
  | { kind: "allow"; headers?: Record<string, string>; headersToRemove?: string[]; appendHeaders?: Record<string, string> }
  | { kind: "deny"; status?: number; body?: string; headers?: Record<string, string> }
  | { kind: "error"; status?: number };

export interface Behaviour {
  decide: (req: ReceivedCheck) => Answer;
  delayMs?: number;
}

/** What a server received, normalised across HTTP and gRPC. */
export interface ReceivedCheck {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** gRPC only: the decoded CheckRequest (proto-loader's object form). */
  check?: CheckRequestObject;
}

export interface CheckRequestObject {
  attributes?: {
    source?: { address?: { socketAddress?: { address?: string; portValue?: number } }; principal?: string };
    destination?: { address?: { socketAddress?: { address?: string; portValue?: number } }; principal?: string };
    request?: { http?: { id?: string; method?: string; headers?: Record<string, string>; path?: string; host?: string; scheme?: string; protocol?: string } };
  };
}

export interface RunningServer {
  address: string;
  received: ReceivedCheck[];
  close(): Promise<void>;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startHttpAuthz(b: Behaviour): Promise<RunningServer> {
  const received: ReceivedCheck[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", async () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(",") : String(v);
      const r: ReceivedCheck = { method: req.method ?? "", path: req.url ?? "", headers };
      received.push(r);
      if (b.delayMs) await delay(b.delayMs);
      if (res.destroyed) return;
      const a = b.decide(r);
      if (a.kind === "allow") {
        const h: Record<string, string> = { ...(a.headers ?? {}) };
        if (a.headersToRemove) h["x-envoy-auth-headers-to-remove"] = a.headersToRemove.join(", ");
        res.writeHead(200, h).end();
      } else if (a.kind === "deny") {
        res.writeHead(a.status ?? 403, a.headers ?? {}).end(a.body ?? "");
      } else {
        res.writeHead(a.status ?? 500).end("authorizer failed");
      }
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const PROTO = fileURLToPath(new URL("./ext_authz.proto", import.meta.url));

type GrpcPkg = { envoy: { service: { auth: { v3: { Authorization: { service: grpc.ServiceDefinition } } } } } };

export async function startGrpcAuthz(b: Behaviour): Promise<RunningServer> {
  const def = protoLoader.loadSync(PROTO, { keepCase: false, longs: Number, defaults: false, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as GrpcPkg;
  const received: ReceivedCheck[] = [];
  const server = new grpc.Server();
  server.addService(pkg.envoy.service.auth.v3.Authorization.service, {
    Check: async (call: grpc.ServerUnaryCall<CheckRequestObject, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const md: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap())) md[k] = String(v);
      const http = call.request.attributes?.request?.http;
      const r: ReceivedCheck = { method: http?.method ?? "", path: http?.path ?? "", headers: http?.headers ?? {}, check: call.request };
      received.push(r);
      if (b.delayMs) await delay(b.delayMs);
      if (call.cancelled) return;
      const a = b.decide(r);
      const opts = (h: Record<string, string> | undefined, append: boolean) =>
        Object.entries(h ?? {}).map(([key, value]) => ({ header: { key, value }, append: append ? { value: true } : undefined }));
      if (a.kind === "allow") {
        cb(null, {
          status: { code: 0 },
          okResponse: { headers: [...opts(a.headers, false), ...opts(a.appendHeaders, true)], headersToRemove: a.headersToRemove ?? [] },
        });
      } else if (a.kind === "deny") {
        cb(null, {
          status: { code: 7 },
          deniedResponse: { status: a.status ? { code: a.status } : undefined, headers: opts(a.headers, false), body: a.body ?? "" },
        });
      } else {
        cb({ code: grpc.status.INTERNAL, details: "authorizer failed" }, null);
      }
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((r) => server.tryShutdown(() => r())).then(() => server.forceShutdown()),
  };
}

/** A 127.0.0.1 port nothing listens on (bound, then released). */
export async function downAddress(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `127.0.0.1:${port}`;
}
