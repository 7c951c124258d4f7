// PROVIDERS (blob format 1.1, tag 8): the mesh config's ext_authz providers, sorted by name.
import type { ExtAuthzProvider, HeaderNameMatcher } from "../meshconfig/providers.ts";
import { ByteWriter } from "./byte-writer.ts";
import { HEADER_MATCH_KIND, NONE, PROVIDER_FLAG_FAIL_OPEN, PROVIDER_KIND } from "./format.ts";

export class ProviderEncodeError extends Error {}

export function encodeProviders(providers: ExtAuthzProvider[], str: (v: string) => number): Uint8Array {
  const records = new ByteWriter().u32(providers.length);
  const items = new ByteWriter();
  let itemCount = 0;
  const matchers = (list: HeaderNameMatcher[]) => {
    for (const m of list) {
      items.u32(HEADER_MATCH_KIND[m.kind]).u32(str(m.value));
      itemCount++;
    }
    return list.length;
  };
  for (let i = 1; i < providers.length; i++) {
    if (Buffer.compare(Buffer.from(providers[i - 1].name), Buffer.from(providers[i].name)) >= 0) {
      throw new ProviderEncodeError("providers must be sorted by name and unique");
    }
  }
  for (const p of providers) {
    const first = itemCount;
    const include = matchers(p.includeRequestHeaders);
    const upstream = matchers(p.headersToUpstreamOnAllow);
    const downstream = matchers(p.headersToDownstreamOnDeny);
    for (const [k, v] of p.additionalHeaders) {
      items.u32(str(k)).u32(str(v));
      itemCount++;
    }
    const counts = [include, upstream, downstream, p.additionalHeaders.length];
    if (counts.some((n) => n > 0xffff)) throw new ProviderEncodeError(`provider ${p.name}: too many header entries`);
    records
      .u32(str(p.name))
      .u8(PROVIDER_KIND[p.kind])
      .u8(p.failOpen ? PROVIDER_FLAG_FAIL_OPEN : 0)
      .u16(p.statusOnError)
      .u32(str(p.cluster))
      .u32(str(p.hostname))
      .u32(Math.min(p.timeoutMs, 0x7fffffff))
      .u32(p.pathPrefix === "" ? NONE : str(p.pathPrefix))
      .u32(first)
      .u16(include)
      .u16(upstream)
      .u16(downstream)
      .u16(p.additionalHeaders.length);
  }
  return records.u32(itemCount).bytes(items.finish()).finish();
}
