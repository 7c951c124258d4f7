// Which Istio release's validation meshauthz emulates (`--istio-version X.Y`). Every behaviour that differs
// between the supported releases is a named entry below, with the release it starts in; docs/istio-versions.md
// is the table of them, with the Istio source each was read from (git tags 1.26.0 ... 1.31.0-rc.0).
// Decisions (the filter and the compiler) follow the newest supported release; only validation changes.

export interface IstioVersion {
  minor: number;
  text: string;
}

export const OLDEST_MINOR = 26;
export const NEWEST_MINOR = 31;
export const SUPPORTED_ISTIO_VERSIONS = Array.from({ length: NEWEST_MINOR - OLDEST_MINOR + 1 }, (_, i) => `1.${OLDEST_MINOR + i}`);
export const DEFAULT_ISTIO_VERSION: IstioVersion = { minor: NEWEST_MINOR, text: `1.${NEWEST_MINOR}` };

/** The first minor release with each version-dependent behaviour. */
export const SINCE = {
  /** validation.go validateMetadata rejects `internal.istio.io/parent-namespace` and `internal.istio.io/parents`. */
  internalParentAnnotations: 27,
  /** security.go ValidateAttribute knows `source.trustDomain` (accepted without a value check in 1.30). */
  sourceTrustDomainKey: 30,
  /** `source.trustDomain` values: CheckWildcardValues; `trustDomains`/`notTrustDomains` fields (CRD + webhook,
   *  CheckTrustDomainValues); CUSTOM rejects them. */
  trustDomains: 31,
} as const;

export function since(v: IstioVersion, feature: keyof typeof SINCE): boolean {
  return v.minor >= SINCE[feature];
}

/** "1.28", "1.28.3" or "v1.28" -> the release; an error message for anything else. */
export function parseIstioVersion(text: string): IstioVersion | string {
  const m = /^v?1\.(\d+)(\.\d+)?$/.exec(text.trim());
  const supported = `supported: ${SUPPORTED_ISTIO_VERSIONS[0]} to ${SUPPORTED_ISTIO_VERSIONS[SUPPORTED_ISTIO_VERSIONS.length - 1]}`;
  if (!m) return `--istio-version takes a release like 1.28, not "${text}" (${supported})`;
  const minor = Number(m[1]);
  if (minor < OLDEST_MINOR || minor > NEWEST_MINOR) return `Istio 1.${minor} is not supported (${supported})`;
  return { minor, text: `1.${minor}` };
}
