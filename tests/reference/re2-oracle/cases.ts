// The RE2 test table's rows: every regex shape Istio generates (pilot/pkg/security/authz/matcher/string.go,
// header.go, model/generator.go) x byte strings around the edges of RE2's UTF-8 automaton (`\n`, NUL, lone
// continuation bytes, C0/C1/F5-FF, overlong forms, surrogates, > U+10FFFF, truncated sequences).
// `node --import tsx tests/reference/re2-oracle/generate.ts` runs them through the real libre2 and writes
// ../re2-table.json.

const enc = new TextEncoder();
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Each pattern with the texts it is meant for (every pattern also gets "" and "a"). */
export const PATTERNS: Array<[string, string[]]> = [
  [".+", ["spiffe://x.com", "é"]],
  [".*", ["spiffe://x.com"]],
  ["spiffe://.*x\\.com", ["spiffe://x.com", "spiffe://ax.com"]],
  [".*/ns/foo/.*", ["spiffe://cluster.local/ns/foo/sa/bar"]],
  [".*/ns/f.*o/.*", ["spiffe://cluster.local/ns/fxo/sa/bar", "spiffe://cluster.local/ns/foo/sa/bar"]],
  ["spiffe://.+/ns/default/(.+/|)sa/bob(/.+)?", ["spiffe://cluster.local/ns/default/sa/bob", "spiffe://td/ns/default/x/y/sa/bob/z"]],
  ["spiffe://example\\.com[^/]*/.*", ["spiffe://example.com.org/x", "spiffe://example.com/"]],
  ["spiffe://[^/]*\\.com/.*", ["spiffe://a.com/", "spiffe://x.com/y"]],
  ["^a\\.b$|^a\\.b,.*|.*,a\\.b,.*|.*,a\\.b$", ["a.b", "x,a.b,y", "x,a.b", "a.b,d"]],
  ["a\\.b.*|a\\.b.*,.*|.*,a\\.b.*,.*|.*,a\\.b.*", ["a.bc,d", "x,a.bq"]],
  ["é.*", ["é", "éa"]],
  [".*ü", ["aü"]],
  ["spiffe://.*\\[x\\]", ["spiffe://q[x]"]],
];

/** Byte sequences at the edges of RE2's UTF-8 handling. */
export const SPECIALS: number[][] = [
  [0x0a], [0x00], [0x0d], [0x09], [0x7f], [0x80], [0xbf], [0xc0], [0xc0, 0x80], [0xc1, 0xbf], [0xc2, 0x80],
  [0xdf, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xe0, 0xa0, 0x80], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
  [0xef, 0xbf, 0xbf], [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x90, 0x80, 0x80], [0xf4, 0x8f, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfe], [0xff], [0xe2, 0x82],
  [0xf0, 0x9f, 0x98], [0xc3], [0xc3, 0xa9], [0xc3, 0xbc], [0x2f], [0x2c],
];

export function rows(): Array<{ pattern: string; input: string }> {
  const out: Array<{ pattern: string; input: string }> = [];
  const seen = new Set<string>();
  for (const [pattern, bases] of PATTERNS) {
    for (const base of ["", "a", ...bases]) {
      const b = enc.encode(base);
      const variants: Uint8Array[] = [b];
      for (const s of SPECIALS) {
        const sp = Uint8Array.from(s);
        const mid = b.length >> 1;
        variants.push(Uint8Array.from([...b, ...sp]), Uint8Array.from([...b.slice(0, mid), ...sp, ...b.slice(mid)]));
      }
      for (const v of variants) {
        const key = `${pattern}\u0000${hex(v)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ pattern, input: hex(v) });
      }
    }
  }
  return out;
}
