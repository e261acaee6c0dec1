// Debian package version ordering, exactly as dpkg orders versions (deb-version(7)), for
// matching the Debian OSV records against the dpkg database of an image.
//
// A version is `[epoch:]upstream[-revision]`. The epoch is the text before the FIRST colon and
// the revision the text after the LAST hyphen, so an upstream part may contain both colons and
// hyphens. Epochs compare as integers; upstream and revision are each compared by dpkg's
// `verrevcmp`: alternate runs of non-digits (compared character by character with `~` below
// everything, even the end of the string, and letters below every other character) and runs of
// digits (compared as numbers of any length). A missing revision compares equal to `0`, which
// is why `1.0` and `1.0-0` are the same version to dpkg.

export interface DpkgVersion {
  /** 0 when the version has no epoch: `1.0` and `0:1.0` are the same version. */
  epoch: number;
  upstream: string;
  /** Empty when absent (a native package). */
  revision: string;
}

// dpkg rejects an epoch above INT_MAX ("epoch in version is too big").
const MAX_EPOCH = 2 ** 31 - 1;

/**
 * Parses a version as dpkg's parseversion does; undefined for the inputs dpkg calls errors
 * (empty, empty or non-numeric or too big epoch, nothing after the colon, empty revision,
 * embedded whitespace). Characters outside the policy's set are only a warning to dpkg (it still
 * compares such versions), so they are accepted here too.
 */
export function parseDpkgVersion(text: string): DpkgVersion | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || /\s/.test(trimmed)) return undefined;
  let rest = trimmed;
  let epoch = 0;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const epochText = rest.slice(0, colon);
    if (!/^\d+$/.test(epochText)) return undefined;
    epoch = Number(epochText);
    if (epoch > MAX_EPOCH) return undefined;
    rest = rest.slice(colon + 1);
    if (rest === '') return undefined;
  }
  const hyphen = rest.lastIndexOf('-');
  if (hyphen < 0) return { epoch, upstream: rest, revision: '' };
  const revision = rest.slice(hyphen + 1);
  if (revision === '') return undefined;
  return { epoch, upstream: rest.slice(0, hyphen), revision };
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/**
 * The weight of one character in a non-digit run; NaN (past the end) and digits weigh 0.
 * `~` is below the end of the string so `1.0~rc1` < `1.0`; letters are below the other
 * punctuation so `1.0a` < `1.0+`. Codes are ASCII/byte values as dpkg sees them.
 */
function weight(code: number): number {
  if (Number.isNaN(code) || isDigit(code)) return 0;
  if (isLetter(code)) return code;
  if (code === 0x7e) return -1;
  return code + 256;
}

/** dpkg's verrevcmp on one part (upstream or revision): negative, zero or positive. */
export function compareDpkgPart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // Non-digit run: compare character weights until both sides reach a digit or the end.
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const wa = weight(a.charCodeAt(i));
      const wb = weight(b.charCodeAt(j));
      if (wa !== wb) return wa - wb;
      i++;
      j++;
    }
    // Digit run: numeric value, of any length (no overflow: compare by length, then digits).
    while (a.charCodeAt(i) === 0x30) i++;
    while (b.charCodeAt(j) === 0x30) j++;
    let firstDiff = 0;
    while (isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a.charCodeAt(i))) return 1;
    if (isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/** dpkg's version order: epoch, then upstream, then revision. Returns -1, 0 or 1. */
export function compareDpkg(a: DpkgVersion, b: DpkgVersion): number {
  const r = a.epoch - b.epoch || compareDpkgPart(a.upstream, b.upstream) || compareDpkgPart(a.revision, b.revision);
  return Math.sign(r);
}

/** Compares two version strings; undefined when either is not a valid dpkg version. */
export function compareDpkgVersions(a: string, b: string): number | undefined {
  const va = parseDpkgVersion(a);
  const vb = parseDpkgVersion(b);
  return va && vb ? compareDpkg(va, vb) : undefined;
}

/** The canonical spelling: `0:` dropped, as dpkg-query shows versions. */
export function formatDpkgVersion(v: DpkgVersion): string {
  const epoch = v.epoch === 0 ? '' : `${v.epoch}:`;
  return `${epoch}${v.upstream}${v.revision === '' ? '' : `-${v.revision}`}`;
}
