// Outbound calls the module makes (proxy_http_call, proxy_grpc_call), made for real: the cluster
// name resolves through the host's cluster map (Envoy's cluster manager; Istio names clusters
// `outbound|<port>||<host>`) to a 127.0.0.1 port. Answers come back asynchronously; the VM delivers
// them to the root context in Envoy's order (ENVOY context.cc onHttpCallSuccess/Failure,
// onGrpcReceiveWrapper/onGrpcCloseWrapper; cpp-host context.cc onHttpCallResponse/onGrpcReceive/onGrpcClose):
// - HTTP: the response (headers, body, trailers) -> proxy_on_http_call_response(root, token, n_headers,
//   body_size, n_trailers). Envoy's async client answers a timeout with its router's 504 ("upstream
//   request timeout") and an unreachable upstream with 503; a reset gives n_headers 0 and
//   proxy_get_status 11 (BrokenConnection) "reset".
// - gRPC unary: an OK status with a message -> proxy_on_grpc_receive(root, token, size) (buffer 5);
//   any other outcome -> proxy_on_grpc_close(root, token, grpc_status) with proxy_get_status
//   (code, message): DEADLINE_EXCEEDED (4) on timeout, UNAVAILABLE (14) when unreachable.
import * as http from "node:http";
import * as http2 from "node:http2";
import { HeaderMap } from "./header-map.ts";

export interface HttpCallResponse {
  headers: HeaderMap;
  body: Uint8Array;
  trailers: HeaderMap;
}

export type CallOutcome =
  | { kind: "http"; token: number; response: HttpCallResponse | null }
  | { kind: "grpc-message"; token: number; message: Uint8Array }
  | { kind: "grpc-close"; token: number; status: number; message: string };

/** cluster name -> "127.0.0.1:<port>" (only loopback: tests never leave the machine). */
export type ClusterMap = Record<string, string>;

/** Hop-by-hop headers Envoy's codec does not hand on. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"]);

function loopback(target: string): { host: string; port: number } {
  const m = /^127\.0\.0\.1:(\d+)$/.exec(target);
  if (!m) throw new Error(`cluster target ${target} is not 127.0.0.1:<port>`);
  return { host: "127.0.0.1", port: Number(m[1]) };
}

function localReply(status: number, body: string): HttpCallResponse {
  const b = new TextEncoder().encode(body);
  return {
    headers: HeaderMap.from([[":status", String(status)], ["content-length", String(b.length)], ["content-type", "text/plain"]]),
    body: b,
    trailers: new HeaderMap(),
  };
}

/** The calls one VM has in flight. */
export class Outbound {
  private readonly inFlight = new Set<string>();
  private waiters: Array<() => void> = [];
  /** Calls started (tests). */
  started = 0;
  /** Delivers an answer to the module (the VM sets it). */
  deliver: (o: CallOutcome) => void = () => {};

  constructor(readonly clusters: ClusterMap) {}

  has(cluster: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.clusters, cluster);
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /** Each answer is delivered as soon as it arrives, one at a time (Node's event loop, like
   *  Envoy's worker thread), then whoever waits for a delivery is woken. */
  private track(key: string, p: Promise<CallOutcome>): void {
    this.started++;
    this.inFlight.add(key);
    void p.then((o) => {
      this.inFlight.delete(key);
      try {
        this.deliver(o);
      } finally {
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      }
    });
  }

  /** Resolves after the next answer was delivered (at once when nothing is in flight). */
  delivered(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  http(token: number, cluster: string, headers: Array<[string, string]>, body: Uint8Array, timeoutMs: number): void {
    const { host, port } = loopback(this.clusters[cluster]);
    const pseudo = new Map(headers.filter(([k]) => k.startsWith(":")));
    const plain: Array<[string, string]> = headers.filter(([k]) => !k.startsWith(":"));
    const p = new Promise<CallOutcome>((resolve) => {
      let done = false;
      const finish = (response: HttpCallResponse | null) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        resolve({ kind: "http", token, response });
      };
      // A request Node cannot write (a method or header value that is not a valid HTTP token or
      // field value) fails like an upstream that reset: the router's 503.
      const unwritable = () => finish(localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: protocol error"));
      let timer: ReturnType<typeof setTimeout> | null = null;
      try {
        const req = http.request({
          host,
          port,
          method: pseudo.get(":method"),
          path: pseudo.get(":path"),
          headers: [["host", pseudo.get(":authority") ?? ""], ...plain].flat(),
          agent: false,
        });
        timer = timeoutMs > 0 ? setTimeout(() => {
          finish(localReply(504, "upstream request timeout"));
          req.destroy();
        }, timeoutMs) : null;
        req.on("response", (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const h = new HeaderMap();
            h.add(":status", String(res.statusCode ?? 0));
            for (let i = 0; i < res.rawHeaders.length; i += 2) {
              const k = res.rawHeaders[i].toLowerCase();
              if (!HOP_BY_HOP.has(k)) h.add(k, res.rawHeaders[i + 1]);
            }
            const t = new HeaderMap();
            for (let i = 0; i < res.rawTrailers.length; i += 2) t.add(res.rawTrailers[i].toLowerCase(), res.rawTrailers[i + 1]);
            finish({ headers: h, body: new Uint8Array(Buffer.concat(chunks)), trailers: t });
          });
          res.on("error", () => finish(null));
        });
        req.on("error", () => finish(localReply(503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure")));
        req.end(Buffer.from(body));
      } catch {
        unwritable();
      }
    });
    this.track(`h${token}`, p);
  }

  grpc(token: number, cluster: string, authority: string, service: string, method: string, metadata: Array<[string, string]>, message: Uint8Array, timeoutMs: number): void {
    if (!this.has(cluster)) {
      this.track(`g${token}`, Promise.resolve({ kind: "grpc-close", token, status: 14, message: `cluster ${cluster} not found` }));
      return;
    }
    const { host, port } = loopback(this.clusters[cluster]);
    const p = new Promise<CallOutcome>((resolve) => {
      let done = false;
      let session: http2.ClientHttp2Session | null = null;
      const finish = (o: CallOutcome) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        session?.close();
        session?.destroy();
        resolve(o);
      };
      const close = (status: number, msg: string) => finish({ kind: "grpc-close", token, status, message: msg });
      const timer = timeoutMs > 0 ? setTimeout(() => close(4, "upstream request timeout"), timeoutMs) : null;
      session = http2.connect(`http://${host}:${port}`);
      session.on("error", () => close(14, "upstream connect error or disconnect/reset before headers. reset reason: connection failure"));
      const headers: http2.OutgoingHttpHeaders = {
        ":method": "POST",
        ":path": `/${service}/${method}`,
        ":authority": authority || cluster,
        "content-type": "application/grpc",
        te: "trailers",
      };
      if (timeoutMs > 0) headers["grpc-timeout"] = `${timeoutMs}m`;
      for (const [k, v] of metadata) headers[k] = v;
      try {
        const stream = session.request(headers);
        const chunks: Buffer[] = [];
        let status: number | null = null;
        let statusMessage = "";
        const takeStatus = (h: http2.IncomingHttpHeaders) => {
          if (h["grpc-status"] !== undefined) {
            status = Number(h["grpc-status"]);
            statusMessage = decodeURIComponent(String(h["grpc-message"] ?? ""));
          }
        };
        stream.on("response", (h) => {
          if (h[":status"] !== 200) {
            close(14, `upstream HTTP status ${String(h[":status"])}`);
            return;
          }
          takeStatus(h); // trailers-only response
        });
        stream.on("trailers", takeStatus);
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("error", () => close(14, "upstream connect error or disconnect/reset before headers. reset reason: connection failure"));
        stream.on("end", () => {
          if (status === null) return close(13, "no grpc-status");
          if (status !== 0) return close(status, statusMessage);
          const data = Buffer.concat(chunks);
          if (data.length < 5 || data[0] !== 0 || data.readUInt32BE(1) !== data.length - 5) return close(13, "malformed gRPC response message");
          finish({ kind: "grpc-message", token, message: new Uint8Array(data.subarray(5)) });
        });
        const frame = Buffer.alloc(5 + message.length);
        frame.writeUInt32BE(message.length, 1);
        frame.set(message, 5);
        stream.end(frame);
      } catch {
        close(13, "the request could not be written");
      }
    });
    this.track(`g${token}`, p);
  }
}

/** GrpcService (envoy/config/core/v3/grpc_service.proto): envoy_grpc (1) { cluster_name (1),
 *  authority (2) }. Returns null when the bytes do not parse as that message. */
export function parseGrpcService(bytes: Uint8Array): { cluster: string; authority: string } | null {
  const fields = readFields(bytes);
  if (fields === null) return null;
  const envoyGrpc = fields.find((f) => f.field === 1 && f.bytes);
  if (!envoyGrpc?.bytes) return null;
  const inner = readFields(envoyGrpc.bytes);
  if (inner === null) return null;
  const text = (n: number) => {
    const f = inner.find((x) => x.field === n && x.bytes);
    return f?.bytes ? new TextDecoder().decode(f.bytes) : "";
  };
  return { cluster: text(1), authority: text(2) };
}

function readFields(b: Uint8Array): Array<{ field: number; bytes?: Uint8Array }> | null {
  const out: Array<{ field: number; bytes?: Uint8Array }> = [];
  let i = 0;
  const varint = (): number | null => {
    let v = 0;
    let mul = 1;
    while (i < b.length) {
      const c = b[i++];
      v += (c & 0x7f) * mul;
      if ((c & 0x80) === 0) return v;
      mul *= 128;
      if (mul > 2 ** 63) return null;
    }
    return null;
  };
  while (i < b.length) {
    const key = varint();
    if (key === null || key < 8) return null;
    const wire = key % 8;
    const field = Math.floor(key / 8);
    if (wire === 0) {
      if (varint() === null) return null;
      out.push({ field });
    } else if (wire === 2) {
      const n = varint();
      if (n === null || i + n > b.length) return null;
      out.push({ field, bytes: b.subarray(i, i + n) });
      i += n;
    } else if (wire === 1) {
      i += 8;
    } else if (wire === 5) {
      i += 4;
    } else return null;
    if (i > b.length) return null;
  }
  return out;
}
