// The two version orders advisory ranges are evaluated in. A Go module (and `stdlib`, once the
// Go version is converted) is ordered as Go orders module versions; a K3s release by its
// `vX.Y.Z[-rcN]+k3sN` rules, where SemVer would call +k3s1 and +k3s2 equal.
import { compareGoSemver, type GoSemver, parseGoSemver } from '../versions/gosemver.ts';
import { compareK3s, formatK3sRelease, type K3sVersion, parseK3sVersion, sameK3sLine } from '../versions/k3sversion.ts';

export interface VersionOrder<V> {
  readonly kind: 'go' | 'k3s';
  parse(text: string): V | undefined;
  compare(a: V, b: V): number;
  /** Same minor line (v1.27.x): where a fix "on the same line" is looked for. */
  sameLine(a: V, b: V): boolean;
  /** How a fixed version is shown: the record's own spelling for Go, the K3s release for K3s. */
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

export function orderOf(kind: 'go' | 'k3s'): VersionOrder<unknown> {
  return (kind === 'k3s' ? K3S_ORDER : GO_ORDER) as VersionOrder<unknown>;
}
