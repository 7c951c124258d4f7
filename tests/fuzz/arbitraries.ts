// fast-check generators for differential fuzzing (issue #5): random but VALID policy sets (every field and
// value form, ALLOW/DENY/AUDIT, dry-run, selectors, targetRefs, namespaces incl. the root namespace, several
// policies and rules, mesh trust domains and aliases), and requests biased to hit the policies' values:
// everything is drawn from one per-scenario vocabulary ("pool") that both sides share, so principals meet
// matching SANs, paths meet their prefixes/suffixes/templates, IPs fall inside and outside CIDRs, etc.
//
// Values carry what Envoy can deliver (issue 9): header values, SNI and SANs are bytes and may hold `\n`
// (SNI, SANs), control characters and bytes that are not UTF-8; JWT claims have every JSON type (null, bool,
// number, strings with control characters and `\n`, nested objects, lists holding nulls and objects) and
// shapes that once fooled the filter's type guessing; certificates may carry several URI and DNS SANs.
//
// CUSTOM is out of scope (the filter does not call providers yet). About one request in ten is a TCP
// connection (protocol TCP: no HTTP attributes), decided by the filter's network mode.
// Generated policies must pass `compilePolicyObjects` without errors; the runner counts any rejection as a
// generator bug (not a mismatch).

import fc from "fast-check";
import type { CaseRequest, Workload } from "../../tools/model/case-file.ts";
import type { AuthorizationPolicy, Condition, MeshSettings, Operation, Rule, Source } from "../../tools/model/policy.ts";
import { flipBits, formatIp, type IpBytes, type V6Style, v4Mapped } from "./ip.ts";

// ---------------------------------------------------------------------------------------------------------
// Vocabulary

export interface Pool {
  mesh: MeshSettings;
  /** Namespaces workloads live in (may include the root namespace). */
  namespaces: string[];
  /** A namespace no workload lives in (its policies never apply). */
  otherNamespace: string;
  serviceAccounts: string[];
  /** Trust domains that appear in identities: mesh td, aliases, cluster.local, a foreign one. */
  trustDomains: string[];
  labels: Record<string, string[]>;
  paths: string[];
  pathSegments: string[];
  hosts: string[];
  methods: string[];
  headerNames: string[];
  headerValues: string[];
  issuers: string[];
  subjects: string[];
  audiences: string[];
  presenters: string[];
  claimPaths: string[][];
  claimValues: string[];
  ips: IpBytes[];
  ports: number[];
  snis: string[];
}

const NAMESPACE_WORDS = ["default", "shop", "pay-1", "a", "frontend", "team-x9"];
const ROOT_NAMESPACES = ["istio-system", "mesh-root"];
const TRUST_DOMAINS = ["cluster.local", "td1.example", "prod.mesh", "old-td"];
const SA_WORDS = ["frontend", "backend", "admin", "sa-1", "default", "web"];
const PATH_SEGMENTS = ["api", "v1", "v2", "admin", "data", "users", "a.txt", "x~y", "%41", "foo;bar", "Admin", "-", "s=1", "@me"];
const HOST_BASES = ["backend", "backend.shop.svc.cluster.local", "example.com", "api.example.com", "Backend.Shop"];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PURGE"];
const HEADER_NAMES = ["x-user", "x-tenant", "X-Api-Key", "content-type", "user-agent", "x-forwarded-for", "x.dotted", "x-empty", "host"];
const HEADER_VALUES = ["alice", "bob", "admin", "application/json", "application/grpc", "v1,v2", "a b", "Alice", "10.0.0.1", "*"];
const ISSUERS = ["https://issuer.example", "issuer-b", "https://accounts.google.com", "iss/with/slash"];
const SUBJECTS = ["alice", "bob", "12345", "svc-a", "Alice"];
const AUDIENCES = ["aud-1", "aud-2", "web", "https://api.example"];
const PRESENTERS = ["client-1", "web", "cli"];
const CLAIM_PATHS = [
  ["groups"], ["nested", "role"], ["a.b"], ["scope"], ["iss"], ["num"], ["flag"], ["deep", "x", "y"], ["groups", "0"], ["permission"],
  ["obj"], ["nul\u0000key"],
];
const CLAIM_VALUES = ["admin", "dev", "read", "write", "x", "Admin"];
const PORTS = [8080, 80, 443, 9090, 15000, 65535, 1];
const SNIS = ["outbound_.8080_._.backend.shop.svc.cluster.local", "backend.shop", "example.com", "api.example.com"];
const LABELS: Record<string, string[]> = { app: ["backend", "frontend", "db"], version: ["v1", "v2"], team: ["x", ""] };

const ipv4Arb: fc.Arbitrary<IpBytes> = fc.oneof(
  fc.tuple(fc.constantFrom(10, 172, 192, 203), fc.nat(255), fc.nat(255), fc.nat(255)),
  fc.array(fc.nat(255), { minLength: 4, maxLength: 4 }),
);
const ipv6Arb: fc.Arbitrary<IpBytes> = fc.oneof(
  // 2001:db8::/32 with a sparse tail, so compressed forms appear
  fc.tuple(fc.nat(0xffff), fc.nat(255), fc.nat(255)).map(([a, b, c]) => [0x20, 0x01, 0x0d, 0xb8, a >> 8, a & 0xff, 0, 0, 0, 0, 0, 0, 0, 0, b, c]),
  fc.array(fc.nat(255), { minLength: 16, maxLength: 16 }),
  ipv4Arb.map(v4Mapped),
  fc.constantFrom<IpBytes>(new Array(16).fill(0), [...new Array(15).fill(0), 1], [0xfe, 0x80, ...new Array(13).fill(0), 1]),
);

export const poolArb: fc.Arbitrary<Pool> = fc
  .record({
    root: fc.oneof({ arbitrary: fc.constantFrom(...ROOT_NAMESPACES), weight: 9 }, { arbitrary: fc.constant(""), weight: 1 }),
    nss: fc.shuffledSubarray(NAMESPACE_WORDS, { minLength: 2, maxLength: 3 }),
    td: fc.constantFrom(...TRUST_DOMAINS),
    aliases: fc.subarray(TRUST_DOMAINS, { maxLength: 2 }),
    sas: fc.shuffledSubarray(SA_WORDS, { minLength: 2, maxLength: 4 }),
    segs: fc.shuffledSubarray(PATH_SEGMENTS, { minLength: 3, maxLength: 8 }),
    paths: fc.array(fc.tuple(fc.array(fc.nat(20), { minLength: 1, maxLength: 3 }), fc.boolean()), { minLength: 2, maxLength: 5 }),
    v4: fc.array(ipv4Arb, { minLength: 1, maxLength: 3 }),
    v6: fc.array(ipv6Arb, { minLength: 1, maxLength: 2 }),
    hostPorts: fc.subarray(["", ":8080", ":80", ":9090"], { minLength: 1 }),
  })
  .map(({ root, nss, td, aliases, sas, segs, paths, v4, v6, hostPorts }) => {
    const namespaces = root !== "" && !nss.includes(root) ? [...nss, root] : nss;
    const hosts = HOST_BASES.flatMap((h) => hostPorts.map((p) => h + p));
    return {
      mesh: { rootNamespace: root, trustDomain: td, trustDomainAliases: aliases.filter((a) => a !== td) },
      namespaces,
      otherNamespace: "elsewhere",
      serviceAccounts: sas,
      trustDomains: [...new Set([td, ...aliases, "cluster.local", "foreign.td"])],
      labels: LABELS,
      paths: paths.map(([idx, slash]) => "/" + idx.map((i) => segs[i % segs.length]).join("/") + (slash ? "/" : "")),
      pathSegments: segs,
      hosts,
      methods: METHODS,
      headerNames: HEADER_NAMES,
      headerValues: HEADER_VALUES,
      issuers: ISSUERS,
      subjects: SUBJECTS,
      audiences: AUDIENCES,
      presenters: PRESENTERS,
      claimPaths: CLAIM_PATHS,
      claimValues: CLAIM_VALUES,
      ips: [...v4, ...v6],
      ports: PORTS,
      snis: SNIS,
    };
  });

// ---------------------------------------------------------------------------------------------------------
// Value forms (spec §4): exact `abc`, prefix `ab*`, suffix `*bc`, presence `*`

/** One Istio string value built from a vocabulary token: exact, prefix, suffix or presence. */
export function formOf(token: string, opts: { presence?: boolean } = {}): fc.Arbitrary<string> {
  const cut = fc.integer({ min: 1, max: Math.max(1, token.length - 1) });
  const forms: Array<fc.WeightedArbitrary<string>> = [
    { arbitrary: fc.constant(token), weight: 5 },
    { arbitrary: cut.map((k) => token.slice(0, k) + "*"), weight: 2 },
    { arbitrary: cut.map((k) => "*" + token.slice(k)), weight: 2 },
  ];
  if (opts.presence !== false) forms.push({ arbitrary: fc.constant("*"), weight: 1 });
  return fc.oneof(...forms);
}

const pick = <T>(xs: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);
const list = <T>(a: fc.Arbitrary<T>, max = 3) => fc.array(a, { minLength: 1, maxLength: max });

function principalToken(pool: Pool): fc.Arbitrary<string> {
  return fc
    .tuple(pick(pool.trustDomains), pick(pool.namespaces), pick(pool.serviceAccounts))
    .map(([td, ns, sa]) => `${td}/ns/${ns}/sa/${sa}`);
}

function cidrArb(pool: Pool): fc.Arbitrary<string> {
  return fc
    .tuple(pick(pool.ips), fc.nat(128), fc.boolean(), pick<V6Style>(["compressed", "full", "upper", "mixed"]), fc.array(fc.nat(127), { maxLength: 2 }))
    .map(([ip, n, bare, style, flips]) => {
      const bits = ip.length * 8;
      const len = n % (bits + 1);
      // Host bits are left set on purpose sometimes (Istio passes them through; Envoy masks them).
      const addr = flipBits(ip, flips.map((f) => (f % bits >= len ? f % bits : bits - 1)).filter(() => len < bits));
      const text = formatIp(addr, style);
      return bare ? text : `${text}/${len}`;
    });
}

function pathValueArb(pool: Pool): fc.Arbitrary<string> {
  // Templates (spec §5.2.5): segments are literals or `{*}`; one `{**}` may follow, then literals only.
  const template = fc
    .record({
      head: fc.array(fc.oneof(pick(pool.pathSegments), fc.constant("{*}")), { maxLength: 3 }),
      glob: fc.boolean(),
      tail: fc.array(pick(pool.pathSegments), { maxLength: 2 }),
      slash: fc.boolean(),
    })
    .map(({ head, glob, tail, slash }) => {
      const segs = [...head, ...(glob ? ["{**}", ...tail] : [])];
      if (!segs.some((s) => s === "{*}" || s === "{**}")) segs.push("{*}");
      return "/" + segs.join("/") + (slash ? "/" : "");
    });
  return fc.oneof({ arbitrary: pick(pool.paths).chain((t) => formOf(t)), weight: 4 }, { arbitrary: template, weight: 1 });
}

function requestPrincipalValue(pool: Pool): fc.Arbitrary<string> {
  return fc.tuple(pick(pool.issuers), pick(pool.subjects), fc.nat(9)).chain(([iss, sub, k]) => {
    const token = `${iss}/${sub}`;
    if (k === 0) return fc.constant(`*/${sub}`);
    if (k === 1) return fc.constant(`${iss}/*`);
    if (k === 2) return fc.constant(iss); // no `/`: requires an empty sub
    return formOf(token);
  });
}

function trustDomainValue(pool: Pool): fc.Arbitrary<string> {
  // <= 1 `*`, at the start or the end; no `/`
  return pick(pool.trustDomains).chain((td) => formOf(td));
}

function serviceAccountValue(pool: Pool): fc.Arbitrary<string> {
  return fc.oneof(pick(pool.serviceAccounts), fc.tuple(pick(pool.namespaces), pick(pool.serviceAccounts)).map(([ns, sa]) => `${ns}/${sa}`));
}

function namespaceValue(pool: Pool): fc.Arbitrary<string> {
  return pick([...pool.namespaces, pool.otherNamespace]).chain((ns) =>
    fc.oneof(
      { arbitrary: formOf(ns), weight: 4 },
      // an interior `*` is a wildcard too in namespaces (spec §5.1.2)
      { arbitrary: fc.nat().map((k) => (ns.length > 2 ? ns.slice(0, 1 + (k % (ns.length - 2))) + "*" + ns.slice(2 + (k % (ns.length - 2))) : ns)), weight: 1 },
    ),
  );
}

function portValue(pool: Pool): fc.Arbitrary<string> {
  return fc.oneof({ arbitrary: pick(pool.ports).map(String), weight: 8 }, { arbitrary: fc.constantFrom("0", "08080"), weight: 1 });
}

type Values = { values?: string[]; not?: string[] };
function valuesNot(a: fc.Arbitrary<string>): fc.Arbitrary<Values> {
  return fc.oneof(
    { arbitrary: list(a).map((values) => ({ values })), weight: 5 },
    { arbitrary: list(a).map((not) => ({ not })), weight: 2 },
    { arbitrary: fc.tuple(list(a), list(a)).map(([values, not]) => ({ values, not })), weight: 1 },
  );
}

const SOURCE_FIELDS = ["principals", "requestPrincipals", "namespaces", "serviceAccounts", "trustDomains", "ipBlocks", "remoteIpBlocks"] as const;
type SourceField = (typeof SOURCE_FIELDS)[number];

function sourceValueArb(pool: Pool, f: SourceField): fc.Arbitrary<string> {
  switch (f) {
    case "principals":
      return fc.oneof({ arbitrary: principalToken(pool).chain((t) => formOf(t)), weight: 9 }, { arbitrary: fc.constant("*/ns/shop/sa/web"), weight: 1 });
    case "requestPrincipals":
      return requestPrincipalValue(pool);
    case "namespaces":
      return namespaceValue(pool);
    case "serviceAccounts":
      return serviceAccountValue(pool);
    case "trustDomains":
      return trustDomainValue(pool);
    case "ipBlocks":
    case "remoteIpBlocks":
      return cidrArb(pool);
  }
}

function sourceArb(pool: Pool): fc.Arbitrary<Source> {
  return fc
    .uniqueArray(pick(SOURCE_FIELDS), { minLength: 1, maxLength: 3 })
    .map((fs) => (fs.includes("serviceAccounts") ? fs.filter((f) => f !== "principals" && f !== "namespaces") : fs))
    .chain((fs) => fc.tuple(...fs.map((f) => valuesNot(sourceValueArb(pool, f)).map((v) => [f, v] as const))))
    .map((entries) => {
      const s: Record<string, string[]> = {};
      for (const [f, v] of entries) {
        if (v.values) s[f] = v.values;
        if (v.not) s[`not${f[0]!.toUpperCase()}${f.slice(1)}`] = v.not;
      }
      return s as Source;
    });
}

const OPERATION_FIELDS = ["hosts", "ports", "methods", "paths"] as const;
type OperationField = (typeof OPERATION_FIELDS)[number];

function operationValueArb(pool: Pool, f: OperationField): fc.Arbitrary<string> {
  switch (f) {
    case "hosts":
      return pick(pool.hosts).chain((h) => formOf(h));
    case "ports":
      return portValue(pool);
    case "methods":
      return pick(pool.methods).chain((m) => fc.oneof({ arbitrary: formOf(m), weight: 9 }, { arbitrary: fc.constant(m.toLowerCase()), weight: 1 }));
    case "paths":
      return pathValueArb(pool);
  }
}

function operationArb(pool: Pool): fc.Arbitrary<Operation> {
  return fc
    .uniqueArray(pick(OPERATION_FIELDS), { minLength: 1, maxLength: 3 })
    .chain((fs) => fc.tuple(...fs.map((f) => valuesNot(operationValueArb(pool, f)).map((v) => [f, v] as const))))
    .map((entries) => {
      const o: Record<string, string[]> = {};
      for (const [f, v] of entries) {
        if (v.values) o[f] = v.values;
        if (v.not) o[`not${f[0]!.toUpperCase()}${f.slice(1)}`] = v.not;
      }
      return o as Operation;
    });
}

function headerNameCase(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constant(name), weight: 3 },
    { arbitrary: fc.constant(name.toUpperCase()), weight: 1 },
    { arbitrary: fc.constant(name.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase())), weight: 1 },
  );
}

function conditionArb(pool: Pool): fc.Arbitrary<Condition> {
  const keyed = (key: fc.Arbitrary<string>, value: fc.Arbitrary<string>) =>
    fc.tuple(key, valuesNot(value)).map(([k, v]) => {
      const c: Condition = { key: k };
      if (v.values) c.values = v.values;
      if (v.not) c.notValues = v.not;
      return c;
    });
  const headerValue = pick(pool.headerValues).chain((v) => formOf(v));
  const claimKey = pick(pool.claimPaths).map((p) => "request.auth.claims" + p.map((s) => `[${s}]`).join(""));
  return fc.oneof(
    { arbitrary: keyed(pick(pool.headerNames).chain(headerNameCase).map((n) => `request.headers[${n}]`), headerValue), weight: 4 },
    { arbitrary: keyed(fc.constantFrom("request.headers[:authority]", "request.headers[:method]", "request.headers[:path]"), fc.oneof(pick(pool.hosts), pick(pool.methods), pick(pool.paths)).chain((t) => formOf(t))), weight: 1 },
    // `host` is :authority in Envoy's header map (header_map_impl.cc)
    { arbitrary: keyed(fc.constantFrom("request.headers[host]", "request.headers[Host]"), pick(pool.hosts).chain((t) => formOf(t))), weight: 1 },
    // No request.experimental.inline.headers: no Istio release accepts the key (docs/istio-versions.md).
    { arbitrary: keyed(fc.constantFrom("source.ip", "remote.ip", "destination.ip"), cidrArb(pool)), weight: 4 },
    { arbitrary: keyed(fc.constant("destination.port"), portValue(pool)), weight: 2 },
    { arbitrary: keyed(fc.constant("source.namespace"), namespaceValue(pool)), weight: 1 },
    { arbitrary: keyed(fc.constant("source.principal"), principalToken(pool).chain((t) => formOf(t))), weight: 2 },
    { arbitrary: keyed(fc.constant("source.serviceAccount"), serviceAccountValue(pool)), weight: 1 },
    { arbitrary: keyed(fc.constant("source.trustDomain"), trustDomainValue(pool)), weight: 1 },
    { arbitrary: keyed(fc.constant("request.auth.principal"), requestPrincipalValue(pool)), weight: 2 },
    { arbitrary: keyed(fc.constant("request.auth.audiences"), pick(pool.audiences).chain((t) => formOf(t))), weight: 1 },
    { arbitrary: keyed(fc.constant("request.auth.presenter"), pick(pool.presenters).chain((t) => formOf(t))), weight: 1 },
    { arbitrary: keyed(claimKey, pick(pool.claimValues).chain((t) => formOf(t))), weight: 3 },
    { arbitrary: keyed(fc.constant("connection.sni"), pick(pool.snis).chain((t) => formOf(t))), weight: 2 },
    {
      arbitrary: keyed(
        fc.constantFrom("experimental.envoy.filters.network.mysql_proxy[db.table]", "experimental.envoy.filters.http.jwt_authn[payload]"),
        fc.constantFrom("[update]", "x", "*", "[*]"),
      ),
      weight: 1,
    },
    {
      // Istio splits the key ONCE: `[payload][sub]` is the literal key `payload][sub` (generator.go)
      arbitrary: keyed(
        fc.constantFrom("experimental.envoy.filters.http.jwt_authn[payload][sub]", "experimental.envoy.filters.http.jwt_authn[payload][groups]"),
        fc.oneof(pick(pool.claimValues).chain((t) => formOf(t)), pick(pool.claimValues).map((t) => `[${t}]`), pick(pool.claimValues).map((t) => `[[${t}]]`), pick(pool.subjects), fc.constant("[*]")),
      ),
      weight: 1,
    },
  );
}

function ruleArb(pool: Pool): fc.Arbitrary<Rule> {
  return fc
    .record(
      {
        from: fc.array(sourceArb(pool), { minLength: 1, maxLength: 2 }).map((ss) => ss.map((source) => ({ source }))),
        to: fc.array(operationArb(pool), { minLength: 1, maxLength: 2 }).map((os) => os.map((operation) => ({ operation }))),
        when: fc.array(conditionArb(pool), { minLength: 1, maxLength: 2 }),
      },
      { requiredKeys: [] },
    )
    .map((r) => r as Rule);
}

// ---------------------------------------------------------------------------------------------------------
// Policies

const NAME_BASES = ["p", "a", "allow", "deny", "z", "p1", "p10", "p2", "a.b", "x-y", "audit"];
const DRY_RUN_VALUES = ["true", "false", "1", "0", "t", "F", "TRUE", "True", "false"];

export type GenAction = "ALLOW" | "DENY" | "AUDIT" | undefined;

function policyArb(pool: Pool, workloads: Workload[]): fc.Arbitrary<AuthorizationPolicy> {
  const labelKeys = Object.keys(pool.labels);
  const wlNamespaces = workloads.length > 0 ? workloads.map((w) => w.namespace) : pool.namespaces;
  const wlLabelSets = workloads.map((w) => Object.entries(w.labels ?? {})).filter((e) => e.length > 0);
  const selector = fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 4 },
    ...(wlLabelSets.length > 0
      ? [{ arbitrary: pick(wlLabelSets).chain((kvs) => fc.subarray(kvs, { minLength: 1 })).map((kvs) => ({ matchLabels: Object.fromEntries(kvs) })), weight: 4 }]
      : []),
    {
      arbitrary: fc
        .uniqueArray(pick(labelKeys), { minLength: 1, maxLength: 2 })
        .chain((ks) => fc.tuple(...ks.map((k) => pick(pool.labels[k]!).map((v) => [k, v] as const))))
        .map((kvs) => ({ matchLabels: Object.fromEntries(kvs) })),
      weight: 4,
    },
    { arbitrary: fc.constantFrom<Record<string, unknown>>({}, { matchLabels: {} }), weight: 1 },
  );
  const rules = fc.oneof(
    { arbitrary: fc.array(ruleArb(pool), { minLength: 1, maxLength: 4 }), weight: 12 },
    { arbitrary: fc.array(ruleArb(pool), { minLength: 10, maxLength: 12 }), weight: 1 }, // rule[10] sorts before rule[2]
    { arbitrary: fc.constant([] as Rule[]), weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 1 },
    { arbitrary: fc.constant([{}] as Rule[]), weight: 1 },
  );
  const target = fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 20 },
    { arbitrary: fc.constant({ targetRef: { kind: "Service", name: "backend" } }), weight: 1 },
    { arbitrary: fc.constant({ targetRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "gw" }] }), weight: 1 },
  );
  return fc
    .record({
      name: pick(NAME_BASES),
      ns: fc.oneof(
        { arbitrary: pick(wlNamespaces), weight: 6 },
        { arbitrary: pick(pool.namespaces), weight: 1 },
        { arbitrary: fc.constant(pool.mesh.rootNamespace || pool.namespaces[0]!), weight: 2 },
        { arbitrary: fc.constant(pool.otherNamespace), weight: 1 },
        { arbitrary: fc.constant(undefined), weight: 1 },
      ),
      action: fc.constantFrom<GenAction>("ALLOW", "DENY", "AUDIT", undefined, "DENY", "ALLOW"),
      dryRun: fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: pick(DRY_RUN_VALUES), weight: 1 }),
      selector,
      rules,
      target,
    })
    .map(({ name, ns, action, dryRun, selector, rules, target }) => {
      const spec: Record<string, unknown> = {};
      if (action !== undefined) spec.action = action;
      if (target) Object.assign(spec, target);
      else if (selector !== undefined) spec.selector = selector;
      // DENY needs `rules` (validation); AUDIT without rules is accepted.
      const r = action === "DENY" && rules === undefined ? [{}] : rules;
      if (r !== undefined) spec.rules = r;
      const metadata: AuthorizationPolicy["metadata"] = { name };
      if (ns !== undefined) metadata.namespace = ns;
      // The dry-run annotation is only valid on ALLOW/DENY.
      if (dryRun !== undefined && action !== "AUDIT") metadata.annotations = { "istio.io/dry-run": dryRun };
      return { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata, spec } as AuthorizationPolicy;
    });
}

/** Names are unique per namespace: suffix duplicates. */
function uniqueNames(ps: AuthorizationPolicy[]): AuthorizationPolicy[] {
  const seen = new Set<string>();
  return ps.map((p) => {
    const ns = p.metadata.namespace ?? "default";
    let name = p.metadata.name;
    for (let i = 2; seen.has(`${ns}/${name}`); i++) name = `${p.metadata.name}-${i}`;
    seen.add(`${ns}/${name}`);
    return name === p.metadata.name ? p : { ...p, metadata: { ...p.metadata, name } };
  });
}

export function policiesArb(pool: Pool, workloads: Workload[] = [], maxPolicies = 6): fc.Arbitrary<AuthorizationPolicy[]> {
  return fc.array(policyArb(pool, workloads), { minLength: 1, maxLength: maxPolicies, size: "medium" }).map(uniqueNames);
}

// ---------------------------------------------------------------------------------------------------------
// Hints: the literal parts of the values the policies use, so that requests hit them

export interface Hints {
  principals: string[];
  requestPrincipals: string[];
  paths: string[];
  hosts: string[];
  methods: string[];
  headerNames: string[];
  headerValues: string[];
  claimValues: string[];
  audiences: string[];
  presenters: string[];
  snis: string[];
}

/** `ab*` -> `ab`, `*bc` -> `bc`, `*` -> null; templates get their operators filled in. */
function literalOf(v: string): string | null {
  if (v === "*") return null;
  if (v.includes("{*}") || v.includes("{**}")) return v.replace(/\{\*\*\}/g, "x/y").replace(/\{\*\}/g, "seg");
  return v.replace(/^\*|\*$/g, "");
}

export function hintsFrom(policies: AuthorizationPolicy[]): Hints {
  const h: Hints = { principals: [], requestPrincipals: [], paths: [], hosts: [], methods: [], headerNames: [], headerValues: [], claimValues: [], audiences: [], presenters: [], snis: [] };
  const add = (k: keyof Hints, vs: string[] | undefined) => {
    for (const v of vs ?? []) {
      const l = literalOf(String(v));
      if (l !== null && l !== "" && !h[k].includes(l)) h[k].push(l);
    }
  };
  for (const p of policies) {
    for (const r of p.spec?.rules ?? []) {
      for (const f of r?.from ?? []) {
        const s = f?.source ?? {};
        add("principals", s.principals);
        add("principals", s.notPrincipals);
        add("requestPrincipals", s.requestPrincipals);
        add("requestPrincipals", s.notRequestPrincipals);
      }
      for (const t of r?.to ?? []) {
        const o = t?.operation ?? {};
        add("paths", o.paths);
        add("paths", o.notPaths);
        add("hosts", o.hosts);
        add("hosts", o.notHosts);
        add("methods", o.methods);
        add("methods", o.notMethods);
      }
      for (const c of r?.when ?? []) {
        const vs = [...(c?.values ?? []), ...(c?.notValues ?? [])];
        const key = String(c?.key ?? "");
        const m = /^request\.(?:experimental\.inline\.)?headers\[(.*)\]$/.exec(key);
        if (m) {
          if (m[1] === ":path") add("paths", vs);
          else if (m[1] === ":authority" || m[1]!.toLowerCase() === "host") add("hosts", vs);
          else if (m[1] === ":method") add("methods", vs);
          else {
            if (!h.headerNames.includes(m[1]!)) h.headerNames.push(m[1]!);
            add("headerValues", vs);
          }
        } else if (key === "source.principal") add("principals", vs);
        else if (key === "request.auth.principal") add("requestPrincipals", vs);
        else if (key.startsWith("request.auth.claims")) add("claimValues", vs);
        else if (key === "request.auth.audiences") add("audiences", vs);
        else if (key === "request.auth.presenter") add("presenters", vs);
        else if (key === "connection.sni") add("snis", vs);
      }
    }
  }
  return h;
}

/** Mostly a hinted value (when there is one), else one from the pool. */
function hinted(hints: string[], pool: readonly string[]): fc.Arbitrary<string> {
  if (hints.length === 0) return fc.constantFrom(...pool);
  return fc.oneof({ arbitrary: fc.constantFrom(...hints), weight: 3 }, { arbitrary: fc.constantFrom(...pool), weight: 1 });
}

// ---------------------------------------------------------------------------------------------------------
// Workloads and requests

export function workloadArb(pool: Pool): fc.Arbitrary<Workload> {
  return fc
    .record({
      ns: fc.oneof({ arbitrary: pick(pool.namespaces), weight: 5 }, { arbitrary: fc.constant("default"), weight: 1 }),
      labels: fc.uniqueArray(pick(Object.keys(pool.labels)), { maxLength: 3 }).chain((ks) => fc.tuple(...ks.map((k) => pick(pool.labels[k]!).map((v) => [k, v] as const)))),
    })
    .map(({ ns, labels }) => ({ namespace: ns, labels: Object.fromEntries(labels) }));
}

/** A token with small variations: case flips, an extra character, truncation. */
function variant(token: string): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constant(token), weight: 6 },
    { arbitrary: fc.constant(token.toUpperCase()), weight: 1 },
    { arbitrary: fc.constant(token.toLowerCase()), weight: 1 },
    { arbitrary: fc.constantFrom("x", "/", ".", "-z", ",", " ").map((s) => token + s), weight: 1 },
    { arbitrary: fc.constantFrom("x", "/", ".", "a-").map((s) => s + token), weight: 1 },
    { arbitrary: fc.nat().map((k) => token.slice(0, token.length > 1 ? 1 + (k % (token.length - 1)) : 0)), weight: 1 },
  );
}

function ipTextArb(pool: Pool): fc.Arbitrary<string> {
  return fc
    .tuple(pick(pool.ips), fc.array(fc.nat(127), { maxLength: 3 }), fc.integer({ min: 0, max: 127 }), pick<V6Style>(["compressed", "compressed", "full", "upper", "mixed"]))
    .map(([ip, flips, from, style]) => {
      const bits = ip.length * 8;
      // flip bits at or after a random position: sometimes inside the policy's CIDR, sometimes outside
      return formatIp(flipBits(ip, flips.map((f) => Math.min(bits - 1, (from % bits) + (f % bits)) % bits)), style);
    });
}

/** The little-endian float64 whose 8 bytes are `text` (padded/cut to 8), when finite: a number that reads as text. */
function numberSpelling(text: string): number {
  const b = Buffer.alloc(8, 0x5f);
  Buffer.from(text, "latin1").copy(b, 0, 0, 8);
  const n = b.readDoubleLE(0);
  return Number.isFinite(n) ? n : 1.5;
}

/** The pairs serialization of a list of strings, as a string: what a list property looks like to a filter. */
function pairsShaped(items: string[]): string {
  const head = Buffer.alloc(4 + 8 * items.length);
  head.writeUInt32LE(items.length, 0);
  items.forEach((it, i) => head.writeUInt32LE(Buffer.byteLength(it), 4 + 8 * i));
  return head.toString("latin1") + items.map((it) => `${it}\0\0`).join("");
}

/** A claim string with characters no printable claim has: `\n` (RE2's `.` stops there), NUL, C0, U+2028. */
function claimSpice(token: string): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom("\n", "\0", "\x01", "\x1f", "\t", "\u2028", "\r"), fc.constantFrom<"pre" | "mid" | "post">("pre", "mid", "post"))
    .map(([c, at]) => (at === "pre" ? c + token : at === "post" ? token + c : token.slice(0, token.length >> 1) + c + token.slice(token.length >> 1)));
}

/** Any claim value: every JSON type, shapes that once fooled the filter's type guessing, and hinted strings. */
function claimValueArb(vals: string[], hs: string[]): fc.Arbitrary<unknown> {
  const str = hinted(hs, vals);
  const leaf: fc.Arbitrary<unknown> = fc.oneof(
    { arbitrary: str.chain(variant), weight: 6 },
    { arbitrary: str.chain(claimSpice), weight: 3 },
    { arbitrary: fc.constantFrom<unknown>(null, true, false, 0, 1, 7, 2.5, -1, "", " ", "\u0000", "\u0001", "true", "1"), weight: 2 },
    { arbitrary: str.map(numberSpelling), weight: 1 }, // 8 printable bytes as a double
    { arbitrary: str.map((t) => (t + "\u0001_______").slice(0, 8)), weight: 1 }, // 8 bytes with a control character
    { arbitrary: fc.array(str, { minLength: 1, maxLength: 2 }).map(pairsShaped), weight: 1 },
  );
  return fc.oneof(
    { arbitrary: leaf, weight: 6 },
    { arbitrary: fc.array(fc.oneof({ arbitrary: str, weight: 4 }, { arbitrary: leaf, weight: 2 }, { arbitrary: fc.constant({ k: "v" }), weight: 1 }), { maxLength: 3 }), weight: 4 },
    { arbitrary: fc.array(str, { minLength: 1, maxLength: 2 }).map((ks) => Object.fromEntries(ks.map((k) => [k, ""]))), weight: 1 }, // object of "" values
    { arbitrary: str.map((t) => ({ [t]: t, role: [t, null] })), weight: 1 },
  );
}

function jwtArb(pool: Pool, hints: Hints): fc.Arbitrary<Record<string, unknown>> {
  const strOrList = (vals: string[], hs: string[]) => claimValueArb(vals, hs);
  // iss/sub from a hinted request principal (split at the last `/`, spec §5.1.6)
  const pairs = hints.requestPrincipals.map((v) => {
    const i = v.lastIndexOf("/");
    return i < 0 ? [v, ""] : [v.slice(0, i), v.slice(i + 1)];
  });
  const issSub = fc.oneof(
    { arbitrary: fc.tuple(pick(pool.issuers), pick(pool.subjects)), weight: 2 },
    ...(pairs.length > 0 ? [{ arbitrary: pick(pairs).map(([a, b]) => [a!, b!] as [string, string]), weight: 3 }] : []),
  );
  const spaced = fc.array(hinted(hints.claimValues, pool.claimValues), { maxLength: 3 }).chain((ws) =>
    fc.oneof(fc.constant<unknown>(ws), fc.constantFrom(" ", "  ").map((sep) => ws.join(sep)), fc.constant(` ${ws.join(" ")} `)),
  );
  return fc
    .record(
      {
        issSub,
        odd: fc.nat(29),
        aud: strOrList(pool.audiences, hints.audiences),
        azp: strOrList(pool.presenters, hints.presenters),
        groups: strOrList(pool.claimValues, hints.claimValues),
        nested: fc.record({ role: strOrList(pool.claimValues, hints.claimValues) }, { requiredKeys: [] }),
        "a.b": strOrList(pool.claimValues, hints.claimValues),
        scope: spaced,
        permission: spaced,
        num: fc.constantFrom<unknown>(1, "1", 2.5),
        flag: fc.constantFrom<unknown>(true, "true"),
        deep: fc.constant({ x: { y: "admin" } }),
        obj: strOrList(pool.claimValues, hints.claimValues),
        "nul\u0000key": strOrList(pool.claimValues, hints.claimValues),
        "payload][sub": fc.constantFrom("alice", "admin"),
      },
      { requiredKeys: ["issSub", "odd"] },
    )
    .chain(({ issSub, odd, ...rest }) => {
      const j: Record<string, unknown> = { iss: issSub[0], sub: issSub[1], ...rest };
      if (odd === 0) j.iss = 42; // non-string claims never match
      if (odd === 1) j.sub = ["alice"];
      if (odd === 2) delete j.sub;
      if (odd >= 3 && odd <= 6) {
        // iss/sub with `\n`, NUL, control characters: RE2's `.+` (the `*` of requestPrincipals) stops at `\n`
        return claimSpice(String(j[odd % 2 === 0 ? "iss" : "sub"] ?? "x")).map((v) => ({ ...j, [odd % 2 === 0 ? "iss" : "sub"]: v }));
      }
      if (odd === 7) j.sub = null;
      return fc.constant(j);
    });
}

/** Envoy's right-most X-Forwarded-For address (trusted hops 0), or undefined when it does not parse. */
export function rightmostXff(value: string): string | undefined {
  const comma = value.lastIndexOf(",");
  const last = (comma >= 0 && comma + 1 < value.length ? value.slice(comma + 1) : value).replace(/^[ \t]+|[ \t]+$/g, "");
  return last === "" ? undefined : last;
}

export interface GenRequest {
  /** index into the scenario's workloads (modulo their count) */
  workload: number;
  request: CaseRequest;
}

/** Bytes around the edges of RE2's UTF-8 automaton: none of them is a `.`, except the surrogate (lenient). */
const BAD_UTF8: number[][] = [[0x80], [0xbf], [0xc0, 0x80], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xff]];

/**
 * A value with what Envoy can deliver in it: `\n` (SNI, SANs; never in a header value: every codec refuses
 * NUL, CR and LF there), control characters, and bytes that are not UTF-8 (a Uint8Array).
 */
export function wireSpice(token: string, opts: { newline: boolean }): fc.Arbitrary<string | Uint8Array> {
  const text = fc.constantFrom(...(opts.newline ? ["\n", "\n", "\x01", "\t", "\x7f", "é"] : ["\x01", "\t", "\x7f", "\x1f", "é"]));
  const at = fc.constantFrom<"pre" | "mid" | "post">("pre", "mid", "post");
  const put = <T extends string | number[]>(t: T, c: T, where: "pre" | "mid" | "post") => {
    const half = t.length >> 1;
    return (where === "pre" ? [...c, ...t] : where === "post" ? [...t, ...c] : [...t.slice(0, half), ...c, ...t.slice(half)]) as unknown[];
  };
  return fc.oneof(
    fc.tuple(text, at).map(([c, where]) => (put(token, c, where) as string[]).join("")),
    fc.tuple(fc.constantFrom(...BAD_UTF8), at).map(([c, where]) => Uint8Array.from(put([...Buffer.from(token)], c, where) as number[])),
  );
}

/** Mostly the token (with variations), sometimes spiced with what Envoy can deliver. */
function wireValue(token: fc.Arbitrary<string>, newline: boolean): fc.Arbitrary<string | Uint8Array> {
  return fc.oneof({ arbitrary: token.chain(variant), weight: 6 }, { arbitrary: token.chain((t) => wireSpice(t, { newline })), weight: 2 });
}

/** A peer certificate Istio's CA does not issue: several URI SANs, DNS SANs, a subject (Envoy RBAC sees them all). */
function certificateArb(pool: Pool, hints: Hints): fc.Arbitrary<NonNullable<CaseRequest["peer_certificate"]>> {
  const uri = fc.oneof(
    principalToken(pool).map((t) => `spiffe://${t}`),
    ...(hints.principals.length > 0 ? [pick(hints.principals).map((t) => `spiffe://${t}`)] : []),
  );
  return fc
    .record({
      uri_sans: fc.array(fc.oneof({ arbitrary: uri, weight: 4 }, { arbitrary: uri.chain((t) => wireSpice(t, { newline: true })), weight: 1 }), { maxLength: 3 }),
      dns_sans: fc.array(fc.oneof(pick(pool.hosts), uri), { maxLength: 2 }),
      subject: fc.oneof(fc.constant(""), fc.constant("CN=workload,O=example"), uri.map((u) => `CN=${u}`)),
    })
    .map((c) => c as NonNullable<CaseRequest["peer_certificate"]>);
}

export function requestArb(pool: Pool, hints: Hints = hintsFrom([])): fc.Arbitrary<GenRequest> {
  const headerNames = [...new Set([...pool.headerNames, ...hints.headerNames])].filter((n) => n.toLowerCase() !== "x-forwarded-for" && !n.startsWith(":") && n.toLowerCase() !== "host");
  const headerEntry = fc.tuple(
    hinted(hints.headerNames.filter((n) => headerNames.includes(n)), headerNames).chain(headerNameCase),
    fc.oneof(
      { arbitrary: wireValue(hinted(hints.headerValues, pool.headerValues), false), weight: 5 },
      { arbitrary: fc.array(pick(pool.headerValues), { minLength: 2, maxLength: 3 }), weight: 1 },
      { arbitrary: fc.constant(""), weight: 1 },
    ),
  );
  const xff = fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 7 },
    { arbitrary: fc.array(ipTextArb(pool), { minLength: 1, maxLength: 3 }).chain((ips) => fc.constantFrom(", ", ",").map((sep) => ips.join(sep))), weight: 3 },
  );
  const principal = fc.oneof(
    { arbitrary: fc.constant(null), weight: 3 },
    { arbitrary: principalToken(pool).map((t) => `spiffe://${t}`), weight: 4 },
    ...(hints.principals.length > 0 ? [{ arbitrary: pick(hints.principals).map((t) => `spiffe://${t}`), weight: 3 }] : []),
    { arbitrary: principalToken(pool).map((t) => `spiffe://${t}/extra`), weight: 1 },
    { arbitrary: principalToken(pool), weight: 1 },
  );
  return fc
    .record({
      workload: fc.nat(7),
      grpc: fc.nat(9),
      method: hinted(hints.methods, pool.methods).chain(variant),
      path: fc.oneof({ arbitrary: hinted(hints.paths.filter((p) => p.startsWith("/")), pool.paths).chain(variant), weight: 20 }, { arbitrary: fc.constant(undefined), weight: 1 }),
      pathTail: fc.constantFrom("", "", "", "?q=1", "#frag", "?a=/admin#x", "/sub"),
      host: fc.oneof({ arbitrary: hinted(hints.hosts, pool.hosts).chain(variant), weight: 20 }, { arbitrary: fc.constant(undefined), weight: 1 }),
      headers: fc.array(headerEntry, { maxLength: 3 }),
      xff,
      principal,
      sourceIp: ipTextArb(pool),
      destinationIp: ipTextArb(pool),
      destinationPort: fc.oneof({ arbitrary: pick(pool.ports), weight: 9 }, { arbitrary: fc.integer({ min: 1, max: 65535 }), weight: 1 }),
      sni: fc.oneof({ arbitrary: fc.constant(null), weight: 2 }, { arbitrary: wireValue(hinted(hints.snis, pool.snis), true), weight: 3 }),
      jwt: fc.oneof({ arbitrary: fc.constant(null), weight: 1 }, { arbitrary: jwtArb(pool, hints), weight: 2 }),
      cert: fc.oneof({ arbitrary: fc.constant(null), weight: 5 }, { arbitrary: certificateArb(pool, hints), weight: 1 }),
      // a `host` header: Envoy keeps it in the :authority slot (the authority when there is none; dropped
      // after :authority over HTTP/2)
      hostHeader: fc.oneof({ arbitrary: fc.constant(null), weight: 8 }, { arbitrary: hinted(hints.hosts, pool.hosts), weight: 1 }),
    })
    .map((r) => {
      const headers: Record<string, string | Uint8Array | Array<string | Uint8Array>> = {};
      for (const [k, v] of r.headers) if (!Object.keys(headers).some((h) => h.toLowerCase() === k.toLowerCase())) headers[k] = v;
      if (r.grpc === 1) {
        // A TCP connection: the peer, the pod's address, the TLS identity and SNI; no request.
        const tcp: CaseRequest = { protocol: "TCP", source_principal: r.principal, source_ip: r.sourceIp, remote_ip: r.sourceIp };
        tcp.destination_ip = r.destinationIp;
        tcp.destination_port = r.destinationPort;
        tcp.sni = r.sni;
        return { workload: r.workload, request: tcp };
      }
      const request: CaseRequest = { protocol: r.grpc === 0 ? "GRPC" : "HTTP", method: r.method };
      if (r.path !== undefined) request.path = r.path + r.pathTail;
      if (r.host !== undefined) request.host = r.host;
      request.source_principal = r.principal;
      request.source_ip = r.sourceIp;
      request.remote_ip = r.sourceIp;
      if (r.xff !== undefined) {
        headers["x-forwarded-for"] = r.xff;
        // What Envoy computes (and the host serves as source.address): the right-most XFF address.
        request.remote_ip = rightmostXff(r.xff) ?? r.sourceIp;
      }
      request.headers = headers;
      request.destination_ip = r.destinationIp;
      request.destination_port = r.destinationPort;
      request.sni = r.sni;
      request.jwt = r.jwt;
      if (r.cert) {
        request.peer_certificate = r.cert;
        request.source_principal = typeof r.cert.uri_sans?.[0] === "string" ? r.cert.uri_sans[0] : null;
      }
      // Over HTTP/1.1 the Host header IS the authority; a request with both is HTTP/2 (gRPC) only.
      if (r.hostHeader !== null && (request.protocol === "GRPC" || request.host === undefined)) headers[r.grpc % 2 === 0 ? "host" : "Host"] = r.hostHeader;
      return { workload: r.workload, request };
    });
}

// ---------------------------------------------------------------------------------------------------------
// Scenario: one policy set (compiled once), its workloads (one filter each) and many requests

export interface Scenario {
  /** pluginConfig `engine` (undefined = the filter's default, indexed) */
  engine?: "indexed" | "linear";
  mesh: MeshSettings;
  policies: AuthorizationPolicy[];
  workloads: Workload[];
  requests: GenRequest[];
}

export interface ScenarioOptions {
  maxPolicies?: number;
  requests?: number;
}

export function scenarioArb(opts: ScenarioOptions = {}): fc.Arbitrary<Scenario> {
  const n = opts.requests ?? 20;
  return poolArb.chain((pool) =>
    fc
      .array(workloadArb(pool), { minLength: 1, maxLength: 3 })
      .chain((workloads) => fc.tuple(fc.constant(workloads), policiesArb(pool, workloads, opts.maxPolicies ?? 6)))
      .chain(([workloads, policies]) =>
        fc.record(
          {
            engine: fc.constantFrom<Scenario["engine"]>(undefined, undefined, "indexed", "linear"),
            mesh: fc.constant(pool.mesh),
            policies: fc.constant(policies),
            workloads: fc.constant(workloads),
            requests: fc.array(requestArb(pool, hintsFrom(policies)), { minLength: 1, maxLength: n, size: "max" }),
          },
          { requiredKeys: ["mesh", "policies", "workloads", "requests"] },
        ),
      ),
  );
}
