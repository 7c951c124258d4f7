// Envoy's HTTP connection manager path handling under Istio's default BASE normalization (spec §5.2.4):
// fragment stripped (Envoy's default since the CVE-2021-39156 fix), `normalize_path: true` (RFC 3986
// dot-segment removal, `\` -> `/`, unreserved %XX decoded, other escapes upper-cased, characters that are
// not allowed in a path percent-encoded as Chromium's canonicalizer does), `merge_slashes: false`,
// `path_with_escaped_slashes_action: KEEP_UNCHANGED` (%2F / %5C stay encoded). A path Envoy rejects
// (400: `%00`, no leading `/`) returns null: it never reaches a filter.
//
// This is the `path_normalized` the case format hands both the filter and the reference: they must agree
// on it; the point of the hostile tests is that the filter, given what Envoy hands it, decides as Istio.

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const encoder = new TextEncoder();

function removeDotSegments(path: string): string {
  // RFC 3986 §5.2.4
  let input = path;
  const out: string[] = [];
  while (input.length > 0) {
    if (input.startsWith("../")) input = input.slice(3);
    else if (input.startsWith("./")) input = input.slice(2);
    else if (input.startsWith("/./")) input = input.slice(2);
    else if (input === "/.") input = "/";
    else if (input.startsWith("/../")) {
      input = input.slice(3);
      out.pop();
    } else if (input === "/..") {
      input = "/";
      out.pop();
    } else if (input === "." || input === "..") input = "";
    else {
      const next = input.indexOf("/", 1);
      const seg = next < 0 ? input : input.slice(0, next);
      out.push(seg);
      input = next < 0 ? "" : input.slice(next);
    }
  }
  return out.join("");
}

function escapeByte(b: number): string {
  return "%" + b.toString(16).toUpperCase().padStart(2, "0");
}

export function normalizeBase(raw: string): string | null {
  if (!raw.startsWith("/")) return null;
  const hash = raw.indexOf("#");
  const noFragment = hash < 0 ? raw : raw.slice(0, hash);
  const q = noFragment.indexOf("?");
  let path = q < 0 ? noFragment : noFragment.slice(0, q);
  const query = q < 0 ? "" : noFragment.slice(q);
  if (/%00/.test(path) || path.includes("\0")) return null;
  path = path.replace(/\\/g, "/");
  let canon = "";
  const cps = [...path]; // code points
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!;
    const hex = (cps[i + 1] ?? "") + (cps[i + 2] ?? "");
    if (c === "%" && /^[0-9a-fA-F]{2}$/.test(hex)) {
      const byte = parseInt(hex, 16);
      const ch = String.fromCharCode(byte);
      canon += byte < 0x80 && UNRESERVED.test(ch) ? ch : escapeByte(byte);
      i += 2;
    } else if (/[\x21-\x7e]/.test(c) && !/["<>`{}|^]/.test(c)) {
      canon += c;
    } else {
      for (const b of encoder.encode(c)) canon += escapeByte(b);
    }
  }
  return removeDotSegments(canon) + query;
}
