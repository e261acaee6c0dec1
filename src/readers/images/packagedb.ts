// The operating-system packages of an image's final file view: which distribution it is
// (os-release) and what its package manager says is installed (dpkg or apk). Each package gets
// a Package URL as the purl specification's `deb` and `apk` types define it, with the `arch` and
// `distro` qualifiers SBOM tools use (`pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12`),
// and keeps its source package, which is what Debian and Alpine advisories are filed under.
//
// Reading is pull-based through `ImageFileReader`, so the layer reader decides how files are
// found (whiteouts applied, symlinks resolved inside the image) and only these few files are read.
import { encodePurlSegment } from '../../model/purl.ts';
import { OS_RELEASE_PATHS, type OsRelease, parseOsRelease } from './osrelease.ts';
import { parseApkInstalled } from './packagedb-apk.ts';
import { type DbProblem, isDpkgStatusDFile, parseDpkgDatabase } from './packagedb-dpkg.ts';

export type { DbProblem } from './packagedb-dpkg.ts';

/** The files of an image, after layers are applied; paths are absolute inside the image. */
export interface ImageFileReader {
  /** The file's bytes, following symlinks inside the image; undefined when absent or not a regular file. */
  readFile(path: string): Promise<Buffer | undefined>;
  /** Names of the entries of a directory; undefined when it is absent. */
  listDir(path: string): Promise<string[] | undefined>;
}

export type PackageManager = 'dpkg' | 'apk';

export interface OsPackage {
  manager: PackageManager;
  name: string;
  version: string;
  /** As the database writes it (`amd64`, `x86_64`, `all`); empty when not recorded. */
  arch: string;
  /** The source package (dpkg `Source`, apk `o:` origin) and its version: what advisories name. */
  source: { name: string; version: string };
  purl: string;
  /** The database file it was read from, e.g. `/var/lib/dpkg/status`. */
  db: string;
  license?: string;
}

export interface OsPackages {
  /** Undefined when the image has no os-release (scratch and some distroless images). */
  os?: OsRelease;
  packages: OsPackage[];
  problems: DbProblem[];
}

export const DPKG_STATUS = '/var/lib/dpkg/status';
export const DPKG_STATUS_D = '/var/lib/dpkg/status.d';
export const APK_INSTALLED = '/lib/apk/db/installed';

/** `debian-12`, `alpine-3.20.3`: the distro qualifier; undefined without an os-release version. */
export function distroQualifier(os: OsRelease | undefined): string | undefined {
  if (!os || os.versionId === undefined) return undefined;
  return `${os.id}-${os.versionId}`;
}

/**
 * A purl for an OS package. The namespace is the distribution (`debian`, `ubuntu`, `alpine`),
 * from os-release when known, else the manager's usual one; qualifiers are sorted by key, as the
 * spec's canonical form requires, and empty ones are left out.
 */
export function osPackagePurl(
  manager: PackageManager,
  name: string,
  version: string,
  arch: string,
  os?: OsRelease,
): string {
  const type = manager === 'dpkg' ? 'deb' : 'apk';
  const namespace = os && os.id !== 'linux' ? os.id : manager === 'dpkg' ? 'debian' : 'alpine';
  const qualifiers: [string, string | undefined][] = [
    ['arch', arch === '' ? undefined : arch],
    ['distro', distroQualifier(os)],
  ];
  const query = qualifiers
    .filter((q): q is [string, string] => q[1] !== undefined)
    .map(([k, v]) => `${k}=${encodePurlSegment(v)}`)
    .join('&');
  // The spec lower-cases deb and apk names; Debian and Alpine names are lower-case already.
  const base = `pkg:${type}/${encodePurlSegment(namespace)}/${encodePurlSegment(name.toLowerCase())}@${encodePurlSegment(version)}`;
  return query === '' ? base : `${base}?${query}`;
}

async function readOs(files: ImageFileReader): Promise<OsRelease | undefined> {
  for (const path of OS_RELEASE_PATHS) {
    const bytes = await files.readFile(path);
    if (bytes !== undefined) return parseOsRelease(bytes);
  }
  return undefined;
}

/** Reads os-release and every package database present: dpkg `status`, distroless `status.d/`, apk. */
export async function readOsPackages(files: ImageFileReader): Promise<OsPackages> {
  const os = await readOs(files);
  const packages: OsPackage[] = [];
  const problems: DbProblem[] = [];

  const dpkgFiles: string[] = [DPKG_STATUS];
  const statusD = (await files.listDir(DPKG_STATUS_D)) ?? [];
  for (const name of [...statusD].sort()) if (isDpkgStatusDFile(name)) dpkgFiles.push(`${DPKG_STATUS_D}/${name}`);
  for (const db of dpkgFiles) {
    const bytes = await files.readFile(db);
    if (bytes === undefined) continue;
    const parsed = parseDpkgDatabase(bytes, db);
    problems.push(...parsed.problems);
    for (const e of parsed.entries) {
      packages.push({
        manager: 'dpkg',
        name: e.name,
        version: e.version,
        arch: e.arch,
        source: { name: e.sourceName, version: e.sourceVersion },
        purl: osPackagePurl('dpkg', e.name, e.version, e.arch, os),
        db,
      });
    }
  }

  const apk = await files.readFile(APK_INSTALLED);
  if (apk !== undefined) {
    const parsed = parseApkInstalled(apk, APK_INSTALLED);
    problems.push(...parsed.problems);
    for (const e of parsed.entries) {
      const pkg: OsPackage = {
        manager: 'apk',
        name: e.name,
        version: e.version,
        arch: e.arch,
        source: { name: e.origin, version: e.version },
        purl: osPackagePurl('apk', e.name, e.version, e.arch, os),
        db: APK_INSTALLED,
      };
      if (e.license !== undefined) pkg.license = e.license;
      packages.push(pkg);
    }
  }
  return os === undefined ? { packages, problems } : { os, packages, problems };
}
