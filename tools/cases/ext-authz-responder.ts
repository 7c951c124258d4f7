// Case files say what the ext_authz provider would answer (`request.ext_authz_decision`); the
// filter must really ask it. This starts one loopback server per provider a case uses, speaking
// the provider's protocol (Envoy's ext_authz HTTP service: 200 allows, 403 denies; or the gRPC
// envoy.service.auth.v3.Authorization/Check answering CheckResponse.status OK or PERMISSION_DENIED),
// and maps the provider's Istio cluster name to it. Servers live on 127.0.0.1 only, and close().
import * as net from "node:net";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { ExtAuthzProvider, ResolvedProviders } from "../meshconfig/providers.ts";
import { resolveExtensionProviders } from "../meshconfig/providers.ts";
import type { AuthorizationPolicy } from "../model/policy.ts";
import type { CaseRequest } from "../model/case-file.ts";
import type { Decision } from "./filter-decision.ts";

export type ExtAuthzDecision = "allow" | "deny";

/** The provider names a case's CUSTOM policies use. */
export function customProviderNames(policies: AuthorizationPolicy[]): string[] {
  const names = policies.filter((p) => p.spec?.action === "CUSTOM").map((p) => p.spec?.provider?.name ?? "");
  return [...new Set(names)].filter((n) => n !== "").sort();
}

/** Providers for case files without a mesh config: each named provider exists, as an HTTP
 *  ext_authz service with Istio's defaults (the case says only what it answers). */
export function syntheticProviders(names: string[]): ResolvedProviders {
  return resolveExtensionProviders(
    names.map((name) => ({ name, envoyExtAuthzHttp: { service: `${name}.ext-authz.svc.cluster.local`, port: 8000 } })),
  );
}

// CheckResponse { status (1): google.rpc.Status { code (1) } } (external_auth.proto).
function checkResponse(code: number): Buffer {
  const status = code === 0 ? Buffer.alloc(0) : Buffer.from([0x08, code]);
  const msg = Buffer.concat([Buffer.from([0x0a, status.length]), status]);
  const frame = Buffer.alloc(5 + msg.length);
  frame.writeUInt32BE(msg.length, 1);
  msg.copy(frame, 5);
  return frame;
}

export class CaseAuthorizer {
  /** What every provider answers for the current case (undefined: the case says nothing). */
  decision: ExtAuthzDecision | undefined;
  /** Checks received while `decision` was unset. */
  unexpected = 0;
  /** Checks received in all. */
  consulted = 0;
  private readonly closers: Array<() => Promise<void>> = [];

  private constructor(readonly clusters: Record<string, string>) {}

  static async start(providers: ExtAuthzProvider[]): Promise<CaseAuthorizer> {
    const a = new CaseAuthorizer({});
    try {
      for (const p of providers) a.clusters[p.cluster] = await (p.kind === "grpc" ? a.grpc() : a.http());
    } catch (e) {
      await a.close();
      throw e;
    }
    return a;
  }

  private answer(): ExtAuthzDecision | undefined {
    this.consulted++;
    if (this.decision === undefined) this.unexpected++;
    return this.decision;
  }

  /** A minimal HTTP/1.1 server on a raw socket: it answers whatever the method (Node's own HTTP
   *  parser refuses methods outside its list, which Envoy would forward to the provider). */
  private async http(): Promise<string> {
    const server = net.createServer((socket) => {
      let head = "";
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => {
        if (head.includes("\r\n\r\n")) return;
        head += chunk;
        if (!head.includes("\r\n\r\n")) return;
        const d = this.answer();
        const [status, body] = d === "allow" ? ["200 OK", ""] : d === "deny" ? ["403 Forbidden", "denied by ext_authz"] : ["500 Internal Server Error", "the case gives no ext_authz_decision"];
        socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      });
      socket.on("error", () => socket.destroy());
    });
    const sockets = new Set<net.Socket>();
    server.on("connection", (c) => {
      sockets.add(c);
      c.on("close", () => sockets.delete(c));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    this.closers.push(() => new Promise<void>((r) => {
      for (const c of sockets) c.destroy();
      server.close(() => r());
    }));
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  private async grpc(): Promise<string> {
    const server = http2.createServer();
    server.on("stream", (stream) => {
      stream.resume();
      stream.on("end", () => {
        const d = this.answer();
        if (d === undefined) {
          stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "13", "grpc-message": "no ext_authz_decision" }, { endStream: true });
          return;
        }
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end(checkResponse(d === "allow" ? 0 : 7));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    this.closers.push(() => new Promise<void>((r) => server.close(() => r())));
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await Promise.all(this.closers.splice(0).map((c) => c()));
  }
}

/** The providers a simulated request uses: the mesh config's (if any), else, when the request says
 *  what the provider answers (`ext_authz_decision`), every named provider exists (as in case files). */
export function providersForRequest(
  policies: AuthorizationPolicy[],
  configured: ResolvedProviders | undefined,
  extAuthzDecision: string | undefined,
): ResolvedProviders | undefined {
  const names = customProviderNames(policies);
  if (configured !== undefined || names.length === 0 || extAuthzDecision === undefined) return configured;
  return syntheticProviders(names);
}

/** Decides one request through a started filter whose ext_authz providers answer
 *  `ext_authz_decision` from loopback servers; `unexpected` when a provider was asked without one. */
export async function decideWithProviders(
  start: (clusters: Record<string, string>) => Promise<{ decideAsync(r: CaseRequest): Promise<Decision> }>,
  providers: ExtAuthzProvider[],
  request: CaseRequest,
): Promise<{ decision: Decision; unexpected: boolean }> {
  const authorizer = await CaseAuthorizer.start(providers);
  try {
    const ed = request.ext_authz_decision;
    authorizer.decision = ed === "allow" || ed === "deny" ? ed : undefined;
    const filter = await start(authorizer.clusters);
    return { decision: await filter.decideAsync(request), unexpected: authorizer.unexpected > 0 };
  } finally {
    await authorizer.close();
  }
}
