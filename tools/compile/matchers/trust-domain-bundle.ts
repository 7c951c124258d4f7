// meshConfig trustDomain + trustDomainAliases applied to principal values, as istiod does
// (pilot/pkg/security/trustdomain/bundle.go ReplaceTrustDomainAliases / ExpandTrustDomainAliases).

export class TrustDomainBundle {
  readonly trustDomains: string[];

  constructor(trustDomain: string, aliases: string[]) {
    this.trustDomains = [trustDomain, ...aliases];
  }

  /** principals: `<td>/ns/<ns>/sa/<sa>` values whose td is local (or cluster.local) get one copy per td. */
  replaceAliases(principals: string[]): string[] {
    const out: string[] = [];
    const [only] = this.trustDomains;
    for (const principal of principals) {
      // Without aliases, a principal in the local trust domain is its only copy (most principals;
      // every rule is compiled twice, for HTTP and TCP chains).
      if (this.trustDomains.length === 1 && principal.startsWith(only) && principal.charCodeAt(only.length) === 47 && principal.split("/").length === 5) {
        out.push(principal);
        continue;
      }
      const parts = principal.split("/");
      if (parts.length !== 5 || parts[0] === "*") {
        out.push(principal);
        continue;
      }
      const td = parts[0];
      if (!stringMatch(td, this.trustDomains) && td !== "cluster.local") {
        out.push(principal);
        continue;
      }
      const copies: string[] = [];
      for (const local of this.trustDomains) {
        const next = suffixMatch(local, td) ? principal : [local, ...parts.slice(1)].join("/");
        if (!copies.includes(next)) copies.push(next);
      }
      out.push(...copies);
    }
    return out;
  }

  /** trustDomains: a value equal to the local trust domain or an alias stands for all of them. */
  expandAliases(values: string[]): string[] {
    const out: string[] = [];
    for (const v of values) {
      for (const td of this.trustDomains.includes(v) ? this.trustDomains : [v]) {
        if (!out.includes(td)) out.push(td);
      }
    }
    return out;
  }
}

function stringMatch(a: string, list: string[]): boolean {
  return list.some(
    (s) => a === s || s === "*" || prefixMatch(a, s) || prefixMatch(s, a) || suffixMatch(a, s) || suffixMatch(s, a),
  );
}

function prefixMatch(a: string, pattern: string): boolean {
  return pattern.endsWith("*") && a.startsWith(pattern.slice(0, -1));
}

function suffixMatch(a: string, pattern: string): boolean {
  return pattern.startsWith("*") && a.endsWith(pattern.slice(1));
}
