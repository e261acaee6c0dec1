// What an image's OS package is looked up as. Debian, Ubuntu and Alpine file their OSV records
// under the SOURCE package (dpkg's `Source`, apk's origin) and give its versions, in an ecosystem
// scoped to one release:
//
// - Debian: `Debian:<major>` (`Debian:12`; releases before 7 are `Debian:4.0`, as Debian's
//   distro-info-data numbers them), from os-release's VERSION_ID;
// - Ubuntu: `Ubuntu:22.04`, or `Ubuntu:22.04:LTS` for an LTS release (the schema makes the suffix
//   mandatory then); both spellings are looked up, so which releases are LTS is not hard-coded.
//   `Ubuntu:Pro:...` records are fixes only Ubuntu Pro subscribers get: not looked up;
// - Alpine: `Alpine:v<major>.<minor>` (`Alpine:v3.20` for VERSION_ID 3.20.3);
// - each also under its bare name (`Debian`): a record that names no release applies to all.
//
// The installed version compared is the source version: a binNMU (`bash 5.2.15-2+b8`, rebuilt
// without source change) is still source 5.2.15-2, which is what Debian's records list and fix.
// Versions are ordered by the manager's own rules (orders.ts), never as SemVer.
//
// An entry Debian rates `unimportant` (`ecosystem_specific.urgency`: no security impact on
// Debian's packages, e.g. code that is not built, and never to be fixed) is not matched, as
// osv-scanner does not count it either. An open issue (introduced, no fix yet, any other
// urgency) is matched and the finding says that no fixed version is known.
// A package whose distribution is unknown (no os-release), or does not go with its manager
// (a dpkg database in an image that says it is Alpine), is not looked up: not guessed.
import type { OsPackageComponent } from '../model/inventory.ts';
import type { OsvAffected } from '../vulndb/osv.ts';
import type { EntryScope, FixedVersion } from './records.ts';
import type { MatchTarget } from './targets.ts';

/** Debian's rating for a CVE in one release; `unimportant` means it will not be fixed, by design. */
export function debianUrgency(entry: OsvAffected): string | undefined {
  const urgency = (entry.ecosystem_specific as { urgency?: unknown } | undefined)?.urgency;
  return typeof urgency === 'string' ? urgency : undefined;
}

const notUnimportant = (entry: OsvAffected): boolean => debianUrgency(entry) !== 'unimportant';

interface Release {
  /** Ecosystems to look records up in, the release's own first. */
  ecosystems: string[];
  /** For messages: `Debian 12`. */
  label: string;
}

/** The OSV ecosystems of a distribution release, or undefined when it cannot be told. */
export function releaseOf(manager: 'dpkg' | 'apk', distro: { id: string; versionId?: string }): Release | undefined {
  const v = distro.versionId ?? '';
  const [major, minor] = v.split('.');
  const numeric = (s: string | undefined): s is string => s !== undefined && /^\d+$/.test(s);
  if (manager === 'dpkg' && distro.id === 'debian') {
    // Testing and sid have no VERSION_ID: only release-less records can be said to apply.
    if (!numeric(major)) return { ecosystems: ['Debian'], label: 'Debian (no release number)' };
    const release = Number(major) >= 7 ? String(Number(major)) : `${Number(major)}.${numeric(minor) ? minor : '0'}`;
    return { ecosystems: [`Debian:${release}`, 'Debian'], label: `Debian ${release}` };
  }
  if (manager === 'dpkg' && distro.id === 'ubuntu') {
    if (!/^\d{2}\.\d{2}$/.test(v)) return undefined;
    return { ecosystems: [`Ubuntu:${v}`, `Ubuntu:${v}:LTS`, 'Ubuntu'], label: `Ubuntu ${v}` };
  }
  if (manager === 'apk' && distro.id === 'alpine') {
    if (!numeric(major) || !numeric(minor)) return undefined;
    const branch = `${Number(major)}.${Number(minor)}`;
    return { ecosystems: [`Alpine:v${branch}`, 'Alpine'], label: `Alpine ${branch}` };
  }
  return undefined;
}

/** The source version to compare; a dpkg entry without one falls back to the binary version less its binNMU suffix. */
function sourceVersion(c: OsPackageComponent): string {
  if (c.source.version) return c.source.version;
  return c.manager === 'dpkg' ? c.version.replace(/\+b\d+$/, '') : c.version;
}

/** The lookup for one OS package, or undefined when its release cannot be told. */
export function osPackageTarget(
  c: OsPackageComponent,
  imageOs: { id: string; versionId?: string } | undefined,
): MatchTarget | undefined {
  const distro = c.distro ?? imageOs;
  if (!distro) return undefined;
  const release = releaseOf(c.manager, distro);
  if (!release) return undefined;
  const scope: EntryScope = { ecosystems: release.ecosystems, applies: notUnimportant };
  return {
    component: c.ref,
    location: c.location,
    names: [c.source.name || c.name],
    version: sourceVersion(c),
    order: c.manager,
    via: 'os-package',
    scope,
    platform: { goos: 'linux' },
    osPackage: { manager: c.manager, name: c.name, version: c.version, release: release.label },
  };
}

function idList(ids: readonly string[]): string {
  return ids.length > 1 ? `${ids[0]} (${ids.slice(1).join(', ')})` : (ids[0] ?? '');
}

/** The message of an OS package finding, in the distribution's terms. */
export function osPackageMessage(t: MatchTarget, ids: readonly string[], fixes: readonly FixedVersion[]): string {
  const p = t.osPackage;
  const source = t.names[0] ?? '';
  if (!p) return `${source} ${t.version} is affected by ${idList(ids)}.`;
  const from = p.name === source && p.version === t.version ? '' : ` (source package ${source} ${t.version})`;
  const head = `${p.name} ${p.version}${from} in ${p.release} is affected by ${idList(ids)}`;
  const fixed = fixes[0]?.display;
  if (!fixed) return `${head}; ${p.release} has no fixed version of ${source} yet.`;
  const upgrade = p.manager === 'dpkg' ? 'apt-get upgrade' : 'apk upgrade';
  return (
    `${head}; ${p.release} fixes it in ${source} ${fixed}: rebuild the image so that ${p.name} comes from ` +
    `${source} ${fixed} or later (${upgrade}, or a newer base image).`
  );
}
