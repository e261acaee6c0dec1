// Go module version ordering (golang.org/x/mod/semver rules), for matching OSV records.
//
// Go module versions are SemVer 2.0 with a `v` prefix; the Go vulnerability database stores
// them WITHOUT the prefix (`"fixed": "1.1.12"`), so both spellings are accepted here.
// Pseudo-versions need no special case: Go designed them as pre-releases that sort where the
// commit sits (`v1.2.4-0.20230102150405-abcdef123456` is after v1.2.3 and before v1.2.4,
// `v0.0.0-2019...` before every release), so plain SemVer precedence orders them correctly,
// provided numeric identifiers are compared as numbers of any length (timestamps exceed 2^31).
// `+incompatible` is build metadata: it never changes precedence (`v20.10.5+incompatible`
// compares as 20.10.5), as in Go.

export interface GoSemver {
  /** Decimal digits, no leading zero (kept as text: compared by length, then lexically). */
  major: string;
  minor: string;
  patch: string;
  /** Dot-separated pre-release identifiers; empty for a release. */
  prerelease: string[];
  /** Build metadata without the `+` (e.g. `incompatible`); ignored by comparison. */
  build: string;
}

const NUM = /^(?:0|[1-9]\d*)$/;
const IDENT = /^[0-9A-Za-z-]+$/;
// vMAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD]: Go accepts the `v1` and `v1.2` shorthands
// (meaning v1.0.0 and v1.2.0) but only without pre-release or build parts.
const SHAPE = /^v?(\d+)(?:\.(\d+)(?:\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?)?)?$/;

/** Parses `v1.2.3`, `1.2.3`, `v1.2.3-rc.1+incompatible`, pseudo-versions; undefined if invalid. */
export function parseGoSemver(text: string): GoSemver | undefined {
  const m = SHAPE.exec(text);
  if (!m) return undefined;
  // A shorthand (`v1.2`) cannot carry a pre-release or build: SHAPE only allows them after PATCH.
  const [, major = '', minor = '0', patch, pre, build] = m;
  if (![major, minor, patch ?? '0'].every((n) => NUM.test(n))) return undefined;
  const prerelease = pre === undefined ? [] : pre.split('.');
  // SemVer: identifiers are non-empty; numeric ones have no leading zero.
  if (!prerelease.every((id) => IDENT.test(id) && (!/^\d+$/.test(id) || NUM.test(id)))) return undefined;
  if (build !== undefined && !build.split('.').every((id) => IDENT.test(id))) return undefined;
  return { major, minor, patch: patch ?? '0', prerelease, build: build ?? '' };
}

/** Compares two decimal strings without leading zeros (any length). */
function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return compareDigits(a, b);
  // Numeric identifiers have lower precedence than alphanumeric ones (SemVer 11.4.3).
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** SemVer precedence: negative, zero or positive. Build metadata is ignored. */
export function compareGoSemver(a: GoSemver, b: GoSemver): number {
  const core = compareDigits(a.major, b.major) || compareDigits(a.minor, b.minor) || compareDigits(a.patch, b.patch);
  if (core !== 0) return core;
  const ap = a.prerelease;
  const bp = b.prerelease;
  // A release is above its own pre-releases.
  if (ap.length === 0 || bp.length === 0) return ap.length === bp.length ? 0 : ap.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.min(ap.length, bp.length); i++) {
    const c = compareIdentifiers(ap[i] as string, bp[i] as string);
    if (c !== 0) return c;
  }
  return ap.length - bp.length === 0 ? 0 : ap.length < bp.length ? -1 : 1;
}

/** Compares two version strings; undefined when either is not a valid Go semver. */
export function compareGoVersions(a: string, b: string): number | undefined {
  const pa = parseGoSemver(a);
  const pb = parseGoSemver(b);
  return pa && pb ? compareGoSemver(pa, pb) : undefined;
}

/** `v1.2.3` -> `1.2.3`: the Go vulnerability database's spelling. */
export function withoutV(version: string): string {
  return version.startsWith('v') ? version.slice(1) : version;
}
