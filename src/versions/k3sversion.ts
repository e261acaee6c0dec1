// K3s release versions: `vX.Y.Z[-rcN]+k3sN` (K3S-FACTS §4). SemVer ignores build metadata,
// so under plain SemVer v1.30.4+k3s1 and v1.30.4+k3s2 are equal, yet +k3s2 is a later
// release that can carry fixes: the order here compares X.Y.Z, then the pre-release, then N.
//
// Advisory ranges for github.com/k3s-io/k3s (GHSA ECOSYSTEM ranges, the Go vulndb's
// custom_ranges) are written in PLAIN versions: `1.28.1`, `1.32.4-rc1`. Their meaning, from
// the records themselves: GHSA-m4hf-6vgr-75r2 has `fixed: 1.28.1` and its text says "upgrade to
// v1.28.1+k3s1"; GHSA-864f-7xjm-2jp2 has `fixed: 1.32.4-rc1` and its text says "before
// 1.32.4-rc1+k3s1". So a plain version stands for the first K3s release of that Kubernetes
// version, `+k3s1` (K3s numbers its builds from 1): `fixed: 1.28.1` means v1.28.1+k3s1 and every
// later build is fixed; `introduced: 1.28.0` means v1.28.0+k3s1 and later are affected. A bound
// that does carry `+k3sN` is taken as written.
//
// Development builds (`v1.32.3+k3s-1a2b3c4d[-dirty]`, K3s's scripts/version.sh off a tag) name a
// Kubernetes version but no K3s release; they sort just below that version's +k3s1, so a fix
// released as X.Y.Z+k3s1 is never assumed to be in them.

export interface K3sVersion {
  major: number;
  minor: number;
  patch: number;
  /** `-rc2` -> {kind: 'rc', n: 2}; K3s's own pre-releases have no dot (`-rc1`), `-rc.1` is accepted. */
  pre?: { kind: 'alpha' | 'beta' | 'rc'; n: number };
  /** The N of `+k3sN`; 0 for a development build (between releases). */
  build: number;
  /** The commit of a development build (`+k3s-1a2b3c4d[-dirty]`), when it is one. */
  dev?: string;
}

const PRE_RANK = { alpha: 0, beta: 1, rc: 2 } as const;
// v? X.Y.Z [-(alpha|beta|rc)[.]N] [+k3sN | +k3s-<commit>[-dirty]]; image tags write `-k3sN`
// for `+k3sN` (K3S-FACTS §4), which cannot be mistaken for a pre-release, so it is accepted.
const SHAPE =
  /^v?(\d{1,4})\.(\d{1,4})\.(\d{1,4})(?:-(alpha|beta|rc)\.?(\d{1,4}))?(?:[+-]k3s(\d{1,4})|\+k3s-([0-9a-f]{7,40}(?:-dirty)?))?$/;

function parse(text: string): { v: K3sVersion; plain: boolean } | undefined {
  const m = SHAPE.exec(text.trim());
  if (!m) return undefined;
  const [, major, minor, patch, kind, n, build, dev] = m;
  const v: K3sVersion = { major: Number(major), minor: Number(minor), patch: Number(patch), build: 1 };
  if (kind) v.pre = { kind: kind as keyof typeof PRE_RANK, n: Number(n) };
  if (build !== undefined) v.build = Number(build);
  if (dev !== undefined) {
    v.build = 0;
    v.dev = dev;
  }
  return { v, plain: build === undefined && dev === undefined };
}

/**
 * A K3s version as a binary or a user states it (`v1.28.0+k3s1`, `v1.32.4-rc1+k3s1`, a dev
 * build `v1.32.3+k3s-1a2b3c4d`) or as an advisory bound states it (`1.28.1`, `1.32.0-rc1`).
 * Without `+k3s...` it is read as its first release, +k3s1. Undefined when it is not one.
 */
export function parseK3sVersion(text: string): K3sVersion | undefined {
  return parse(text)?.v;
}

/** True when the text carries the K3s build metadata (`+k3sN` or `+k3s-<commit>`). */
export function hasK3sBuild(text: string): boolean {
  const p = parse(text);
  return p !== undefined && !p.plain;
}

export function compareK3s(a: K3sVersion, b: K3sVersion): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return Math.sign(core);
  // A release is above its own pre-releases (v1.32.4-rc1+k3s1 < v1.32.4+k3s1).
  if (a.pre === undefined || b.pre === undefined) {
    if (a.pre !== b.pre) return a.pre === undefined ? 1 : -1;
  } else {
    const pre = PRE_RANK[a.pre.kind] - PRE_RANK[b.pre.kind] || a.pre.n - b.pre.n;
    if (pre !== 0) return Math.sign(pre);
  }
  return Math.sign(a.build - b.build);
}

/** The minor line, as users name it: `v1.28`. */
export function k3sLine(v: K3sVersion): string {
  return `v${v.major}.${v.minor}`;
}

export function sameK3sLine(a: K3sVersion, b: K3sVersion): boolean {
  return a.major === b.major && a.minor === b.minor;
}

/** The release a version stands for: `1.27.5` -> `v1.27.5+k3s1`, `1.32.4-rc1` -> `v1.32.4-rc1+k3s1`. */
export function formatK3sRelease(v: K3sVersion): string {
  const pre = v.pre ? `-${v.pre.kind}${v.pre.n}` : '';
  const build = v.dev !== undefined ? `k3s-${v.dev}` : `k3s${v.build}`;
  return `v${v.major}.${v.minor}.${v.patch}${pre}+${build}`;
}
