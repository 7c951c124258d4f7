// One AuthorizationPolicy rule -> one matcher tree:
// AND(OR over from[].source, OR over to[].operation, every when condition), each field an OR of
// its values and each not-field NOT(OR(values)), as Istio's model.New/Generate builds them.
import type { Condition, Operation, Rule, Source } from "../model/policy.ts";
import { Attribute, type MatchNode, type PolicyAction } from "./ir.ts";
import { cidrMatcher } from "./matchers/ip.ts";
import {
  namespaceMatcher,
  principalMatcher,
  serviceAccountMatcher,
  trustDomainMatcher,
} from "./matchers/peer-identity.ts";
import { audienceMatcher, claimMatcher, claimNames, presenterMatcher, requestPrincipalMatcher } from "./matchers/request-auth.ts";
import {
  headerMatcher,
  hostMatcher,
  inlineHeaderMatcher,
  metadataMatcher,
  methodMatcher,
  pathMatcher,
  portMatcher,
  sniMatcher,
  splitMetadataKey,
} from "./matchers/request-http.ts";
import { allOf, anyOf, not } from "./matchers/string-form.ts";
import type { TrustDomainBundle } from "./matchers/trust-domain-bundle.ts";

export class RuleCompileError extends Error {
  constructor(message: string, readonly path: string) {
    super(message);
  }
}

export interface RuleContext {
  policyNamespace: string;
  trustDomains: TrustDomainBundle;
  /** Set for the TCP projection (a network filter chain): Istio's model.Generate(forTCP=true). */
  tcp?: { action: PolicyAction };
}

/** The rule uses an HTTP-only field and the action is ALLOW: on a TCP chain Istio skips the whole
 *  rule (builder.go "skipped rule ... on TCP filter chain"). Thrown for most ALLOW rules of a
 *  mesh, so it is a plain object: an Error would capture a stack trace each time (the largest
 *  item in a 10,000-policy compile profile). */
class DroppedOnTcp {}
const DROPPED_ON_TCP = new DroppedOnTcp();

type ValueMatcher = (value: string) => MatchNode;

/** values -> OR, notValues -> NOT(OR); both -> AND. Returns the terms to AND into the rule. */
function field(values: string[] | undefined, notValues: string[] | undefined, m: ValueMatcher): MatchNode[] {
  const terms: MatchNode[] = [];
  if (values && values.length > 0) terms.push(anyOf(values.map(m)));
  if (notValues && notValues.length > 0) terms.push(not(anyOf(notValues.map(m))));
  return terms;
}

/** An HTTP-only field (generator.go: `"<key>" is HTTP only` when forTCP). On a TCP chain an ALLOW
 *  rule using it is dropped; for DENY, AUDIT and CUSTOM the field is left out (model.go checkError),
 *  values and notValues alike, so the rule matches more widely. */
function httpField(ctx: RuleContext, values: string[] | undefined, notValues: string[] | undefined, m: ValueMatcher): MatchNode[] {
  const used = (values?.length ?? 0) > 0 || (notValues?.length ?? 0) > 0;
  if (!ctx.tcp || !used) return field(values, notValues, m);
  if (ctx.tcp.action === "ALLOW") throw DROPPED_ON_TCP;
  return [];
}

function identityMatchers(ctx: RuleContext) {
  return {
    principals: (vs: string[] | undefined) => (vs ? ctx.trustDomains.replaceAliases(vs) : vs),
    trustDomains: (vs: string[] | undefined) => (vs ? ctx.trustDomains.expandAliases(vs) : vs),
    serviceAccount: (v: string) => serviceAccountMatcher(v, ctx.policyNamespace),
  };
}

function sourceTerms(s: Source, ctx: RuleContext): MatchNode[] {
  const id = identityMatchers(ctx);
  return [
    ...field(id.principals(s.principals), id.principals(s.notPrincipals), principalMatcher),
    ...httpField(ctx, s.requestPrincipals, s.notRequestPrincipals, requestPrincipalMatcher),
    ...field(s.namespaces, s.notNamespaces, namespaceMatcher),
    ...field(s.serviceAccounts, s.notServiceAccounts, id.serviceAccount),
    ...field(id.trustDomains(s.trustDomains), id.trustDomains(s.notTrustDomains), trustDomainMatcher),
    ...field(s.ipBlocks, s.notIpBlocks, (v) => cidrMatcher(Attribute.SourceIp, v)),
    ...field(s.remoteIpBlocks, s.notRemoteIpBlocks, (v) => cidrMatcher(Attribute.RemoteIp, v)),
  ];
}

function operationTerms(o: Operation, ctx: RuleContext): MatchNode[] {
  return [
    ...httpField(ctx, o.hosts, o.notHosts, hostMatcher),
    ...field(o.ports, o.notPorts, portMatcher),
    ...httpField(ctx, o.methods, o.notMethods, methodMatcher),
    ...httpField(ctx, o.paths, o.notPaths, pathMatcher),
  ];
}

/** `a[b][c]` -> ["b", "c"] for the part after the key's name; each bracket is one literal key. */
export function bracketPath(key: string, prefix: string): string[] | null {
  let rest = key.slice(prefix.length);
  const out: string[] = [];
  while (rest.length > 0) {
    if (!rest.startsWith("[")) return null;
    const close = rest.indexOf("]");
    if (close <= 1) return null;
    out.push(rest.slice(1, close));
    rest = rest.slice(close + 1);
  }
  return out.length > 0 ? out : null;
}

interface ConditionMatcher {
  matcher: ValueMatcher;
  expand?: (vs: string[] | undefined) => string[] | undefined;
  /** request.headers[..], request.auth.*: HTTP only (model.go New, generator.go forTCP). */
  httpOnly?: boolean;
}

function conditionMatcher(c: Condition, ctx: RuleContext, path: string): ConditionMatcher {
  const id = identityMatchers(ctx);
  const key = c.key;
  switch (key) {
    case "source.ip":
      return { matcher: (v) => cidrMatcher(Attribute.SourceIp, v) };
    case "remote.ip":
      return { matcher: (v) => cidrMatcher(Attribute.RemoteIp, v) };
    case "destination.ip":
      return { matcher: (v) => cidrMatcher(Attribute.DestinationIp, v) };
    case "destination.port":
      return { matcher: portMatcher };
    case "source.namespace":
      return { matcher: namespaceMatcher };
    case "source.principal":
      return { matcher: principalMatcher, expand: id.principals };
    case "source.serviceAccount":
      return { matcher: id.serviceAccount };
    case "source.trustDomain":
      return { matcher: trustDomainMatcher, expand: id.trustDomains };
    case "request.auth.principal":
      return { matcher: requestPrincipalMatcher, httpOnly: true };
    case "request.auth.audiences":
      return { matcher: audienceMatcher, httpOnly: true };
    case "request.auth.presenter":
      return { matcher: presenterMatcher, httpOnly: true };
    case "connection.sni":
      return { matcher: sniMatcher };
  }
  if (key.startsWith("request.experimental.inline.headers[")) {
    const p = bracketPath(key, "request.experimental.inline.headers");
    if (p && p.length === 1) return { matcher: (v) => inlineHeaderMatcher(p[0], v), httpOnly: true };
  } else if (key.startsWith("request.headers[")) {
    const p = bracketPath(key, "request.headers");
    if (p && p.length === 1) return { matcher: (v) => headerMatcher(p[0], v), httpOnly: true };
  } else if (key.startsWith("request.auth.claims")) {
    const p = claimNames(key.slice("request.auth.claims".length));
    if (p) return { matcher: (v) => claimMatcher(p, v), httpOnly: true };
  } else if (key.startsWith("experimental.envoy.filters.")) {
    const p = splitMetadataKey(key);
    if (p) return { matcher: (v) => metadataMatcher(p[0], p[1], v) };
  }
  throw new RuleCompileError(`unknown attribute key "${key}"`, path);
}

export function compileRule(rule: Rule, ctx: RuleContext, path: string): MatchNode {
  const terms: MatchNode[] = [];
  if (rule.from && rule.from.length > 0) {
    terms.push(anyOf(rule.from.map((f) => allOf(sourceTerms(f.source ?? {}, ctx)))));
  }
  if (rule.to && rule.to.length > 0) {
    terms.push(anyOf(rule.to.map((t) => allOf(operationTerms(t.operation ?? {}, ctx)))));
  }
  (rule.when ?? []).forEach((c, i) => {
    const { matcher, expand, httpOnly } = conditionMatcher(c, ctx, `${path}.when[${i}]`);
    const values = expand ? expand(c.values) : c.values;
    const notValues = expand ? expand(c.notValues) : c.notValues;
    terms.push(...(httpOnly ? httpField(ctx, values, notValues, matcher) : field(values, notValues, matcher)));
  });
  return allOf(terms);
}

/** The rule as Istio builds it for a TCP filter chain (builder.go BuildTCP, model.go
 *  Generate(forTCP=true)): null when the rule is dropped (ALLOW with an HTTP-only field). */
export function compileTcpRule(rule: Rule, ctx: RuleContext, path: string, action: PolicyAction): MatchNode | null {
  try {
    return compileRule(rule, { ...ctx, tcp: { action } }, path);
  } catch (e) {
    if (e instanceof DroppedOnTcp) return null;
    throw e;
  }
}
