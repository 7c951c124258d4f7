// A case-file request and workload -> what Envoy's inbound listener would hand the filter.
import type { ConnectionSpec, NodeInfo, StreamSpec } from "../host/types.ts";
import type { CaseRequest, Workload } from "../model/case-file.ts";
import { DEFAULT_SPACE_DELIMITED_CLAIMS, jwtAuthnMetadata } from "./jwt-authn.ts";

const DEFAULT_PEER_PORT = 51234;
const DEFAULT_DESTINATION_IP = "10.244.2.20";
const DEFAULT_DESTINATION_PORT = 8080;
const DEFAULT_SOURCE_IP = "10.244.1.10";

function hostPort(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function nodeForWorkload(workload: Workload): NodeInfo {
  return {
    id: `sidecar~${DEFAULT_DESTINATION_IP}~workload.${workload.namespace}~${workload.namespace}.svc.cluster.local`,
    metadata: { NAMESPACE: workload.namespace, LABELS: { ...(workload.labels ?? {}) } },
  };
}

/** `spaceDelimitedClaims`: the claims jwt_authn splits for this token (jwt-authn.ts). */
export function streamForRequest(
  request: CaseRequest,
  spaceDelimitedClaims: readonly string[] = DEFAULT_SPACE_DELIMITED_CLAIMS,
): StreamSpec {
  const grpc = request.protocol === "GRPC";
  const headers: Array<[string, string | Uint8Array]> = [];
  const method = request.method ?? (grpc ? "POST" : "GET");
  headers.push([":method", method]);
  // Filters run after the connection manager normalized the path.
  const path = request.path_normalized ?? request.path;
  if (path !== undefined) headers.push([":path", path]);
  if (request.host !== undefined) headers.push([":authority", request.host]);
  headers.push([":scheme", "http"]);
  let hasContentType = false;
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (name.toLowerCase() === "content-type") hasContentType = true;
    for (const v of Array.isArray(value) ? value : [value]) headers.push([name, v instanceof Uint8Array ? v : String(v)]);
  }
  if (grpc && !hasContentType) headers.push(["content-type", "application/grpc"]);

  const sourceIp = request.source_ip ?? request.remote_ip ?? DEFAULT_SOURCE_IP;
  const destinationIp = request.destination_ip ?? DEFAULT_DESTINATION_IP;
  const destinationPort = request.destination_port ?? DEFAULT_DESTINATION_PORT;
  const cert = request.peer_certificate ?? null;
  const uriSans = cert ? (cert.uri_sans ?? []) : request.source_principal ? [request.source_principal] : [];
  const hasTls = cert !== null || (request.source_principal ?? null) !== null || (request.sni ?? null) !== null;
  return {
    headers,
    downstreamRemote: hostPort(sourceIp, DEFAULT_PEER_PORT),
    downstreamLocal: hostPort(destinationIp, destinationPort),
    tls: hasTls
      ? {
          uriSans,
          dnsSans: cert?.dns_sans ?? [],
          subject: cert?.subject ?? "",
          sni: request.sni ?? "",
          peerCertificate: cert !== null || Boolean(request.source_principal),
        }
      : null,
    dynamicMetadata: request.jwt ? jwtAuthnMetadata(request.jwt, spaceDelimitedClaims) : undefined,
    protocol: grpc ? "HTTP/2" : "HTTP/1.1",
    xffNumTrustedHops: 0,
    endOfStream: true,
  };
}

/** A TCP case: one connection (the peer, the pod's address, the TLS handshake's identity and SNI)
 *  whose client sends one read; what the network filter decides on. */
export function connectionForRequest(request: CaseRequest): ConnectionSpec {
  // Without PROXY protocol a connection's remote address is its peer (remote_ip = source_ip).
  const sourceIp = request.source_ip ?? request.remote_ip ?? DEFAULT_SOURCE_IP;
  const destinationIp = request.destination_ip ?? DEFAULT_DESTINATION_IP;
  const destinationPort = request.destination_port ?? DEFAULT_DESTINATION_PORT;
  const hasTls = (request.source_principal ?? null) !== null || (request.sni ?? null) !== null;
  return {
    downstreamRemote: hostPort(sourceIp, DEFAULT_PEER_PORT),
    downstreamLocal: hostPort(destinationIp, destinationPort),
    tls: hasTls
      ? { uriSans: request.source_principal ? [request.source_principal] : [], sni: request.sni ?? "", peerCertificate: Boolean(request.source_principal) }
      : null,
    downstreamData: ["ping"],
  };
}
