// The version orders advisory ranges are evaluated in. A Go module (and `stdlib`, once the
// Go version is converted) is ordered as Go orders module versions; a K3s release by its
// `vX.Y.Z[-rcN]+k3sN` rules, where SemVer would call +k3s1 and +k3s2 equal. An image's OS
// packages are ordered as their package manager orders them: Debian and Ubuntu records as
// dpkg does (epochs, `~` below everything), Alpine records as apk-tools does (`_rc` below the
// release, `-rN` revisions) -- what the OSV schema asks of an ECOSYSTEM range in those ecosystems.
import { compareApkVersions, isValidApkVersion } from '../versions/apk.ts';
import { compareDpkg, compareDpkgPart, type DpkgVersion, parseDpkgVersion } from '../versions/dpkg.ts';
import { compareGoSemver, type GoSemver, parseGoSemver } from '../versions/gosemver.ts';
import { compareK3s, formatK3sRelease, type K3sVersion, parseK3sVersion, sameK3sLine } from '../versions/k3sversion.ts';

export type OrderKind = 'go' | 'k3s' | 'dpkg' | 'apk';

export interface VersionOrder<V> {
  readonly kind: OrderKind;
  parse(text: string): V | undefined;
  compare(a: V, b: V): number;
  /**
   * "The same line": for Go and K3s the minor line (v1.27.x), where a fix on the same line is
   * looked for; for dpkg and apk the same upstream version (a distribution's backport is a
   * new revision of the version installed).
   */
  sameLine(a: V, b: V): boolean;
  /** How a fixed version is shown: the record's own spelling, except the K3s release for K3s. */
  display(v: V, recordText: string): string;
}

export const GO_ORDER: VersionOrder<GoSemver> = {
  kind: 'go',
  parse: parseGoSemver,
  compare: compareGoSemver,
  sameLine: (a, b) => a.major === b.major && a.minor === b.minor,
  display: (_v, text) => text,
};

export const K3S_ORDER: VersionOrder<K3sVersion> = {
  kind: 'k3s',
  parse: parseK3sVersion,
  compare: compareK3s,
  sameLine: sameK3sLine,
  display: (v) => formatK3sRelease(v),
};

export const DPKG_ORDER: VersionOrder<DpkgVersion> = {
  kind: 'dpkg',
  parse: parseDpkgVersion,
  compare: compareDpkg,
  sameLine: (a, b) => a.epoch === b.epoch && compareDpkgPart(a.upstream, b.upstream) === 0,
  display: (_v, text) => text,
};

/** An apk version is compared as text; only strings apk-tools accepts are one. */
type ApkVersion = string;

/** The upstream part of an apk version: everything before `-rN`. */
function apkUpstream(v: ApkVersion): string {
  return v.replace(/-r\d+$/, '');
}

export const APK_ORDER: VersionOrder<ApkVersion> = {
  kind: 'apk',
  // apk versions compare as text; only versions apk-tools accepts are placed (no guessing).
  parse: (text) => (isValidApkVersion(text) ? text : undefined),
  compare: (a, b) => compareApkVersions(a, b) ?? 0,
  sameLine: (a, b) => compareApkVersions(apkUpstream(a), apkUpstream(b)) === 0,
  display: (_v, text) => text,
};

const ORDERS: Record<OrderKind, VersionOrder<unknown>> = {
  go: GO_ORDER as VersionOrder<unknown>,
  k3s: K3S_ORDER as VersionOrder<unknown>,
  dpkg: DPKG_ORDER as VersionOrder<unknown>,
  apk: APK_ORDER as VersionOrder<unknown>,
};

export function orderOf(kind: OrderKind): VersionOrder<unknown> {
  return ORDERS[kind];
}
