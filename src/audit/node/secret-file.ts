// Files that hold secrets (registries.yaml credentials, config.yaml tokens): who besides the
// owner can read one, and a finding's region that points at the secret without printing it
// (the snippet goes into tables, JSON and SARIF uploaded to code scanning).

import type { Node, Pair } from 'yaml';
import type { SourceRegion } from '../../model/inventory.ts';
import { regionOf, type YamlFile } from './yamlpos.ts';

/** `every local user` or `its group` when the mode lets them read the file; undefined: owner only. */
export function otherReaders(mode: number): string | undefined {
  if ((mode & 0o004) !== 0) return 'every local user';
  if ((mode & 0o040) !== 0) return 'its group';
  return undefined;
}

/** `0644`. */
export function octalMode(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/** The region of `key: <secret>` with the value cut from the snippet. */
export function secretRegion(y: YamlFile, pair: Pair<Node, Node | null>, key: string): SourceRegion {
  const region = regionOf(y, pair);
  const snippet = region.snippet ?? '';
  const at = snippet.indexOf(`${key}:`);
  region.snippet = at < 0 ? `${key}: (value not shown)` : `${snippet.slice(0, at + key.length + 1)} (value not shown)`;
  return region;
}
