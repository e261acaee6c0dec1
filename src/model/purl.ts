// Package URLs (purl) for what k3sguard reports: Go modules, the Go standard library, the K3s
// binary and plain files. Small pure functions: the inventory builder and both SBOM writers use
// the same ones, so an SBOM cannot disagree with the inventory about what a component is.
//
// Encoding follows the purl specification ("Character encoding" and "Rules for each purl
// component"): every namespace segment, the name and the version are UTF-8 percent-encoded,
// except the alphanumerics, the punctuation `.-_~` and the colon, which are never encoded.
// So `v1.31.4+k3s1` becomes `v1.31.4%2Bk3s1`.
//
// One deliberate departure: the golang type definition still says namespace and name "must be
// lowercased", a rule its own note says predates Go modules. Module paths are case-sensitive
// (`github.com/BurntSushi/toml` and `github.com/burntsushi/toml` are different modules to the
// Go proxy) and the Go vulnerability database, Syft, Trivy and govulncheck all keep the case, so
// k3sguard keeps it too: lowercasing would make advisory matching miss those modules.
import { basename } from 'node:path';
import type { Component, GoModule, GoModuleComponent } from './inventory.ts';

/** `go build` records this for a main module built from a source checkout: never a version. */
const DEVEL = '(devel)';

/** Where the K3s release version lives and what advisories are filed under. */
export const K3S_MODULE_PATH = 'github.com/k3s-io/k3s';

function isUnencoded(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    byte === 0x2e || // .
    byte === 0x2d || // -
    byte === 0x5f || // _
    byte === 0x7e || // ~
    byte === 0x3a // : is never encoded, wherever it appears
  );
}

/** Percent-encode one purl segment (a namespace segment, the name, a version or a qualifier value). */
export function encodePurlSegment(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += isUnencoded(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A recorded version that may be reported: not absent, not empty, not `(devel)`. */
export function isReportableVersion(version: string | undefined): version is string {
  return version !== undefined && version !== '' && version !== DEVEL;
}

function versionSuffix(version: string | undefined): string {
  return isReportableVersion(version) ? `@${encodePurlSegment(version)}` : '';
}

/**
 * `pkg:golang/<namespace>/<name>@<version>`: the namespace is every module path segment but the
 * last, the name is the last (`github.com/foo/bar/v2` -> namespace `github.com/foo/bar`, name
 * `v2`). No version for `(devel)` or an empty one. Empty segments (a stray `/`) are dropped, as
 * the spec says leading and trailing slashes are not significant.
 * @throws TypeError when the path has no segment at all.
 */
export function goModulePurl(path: string, version: string | undefined): string {
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.length === 0) throw new TypeError(`not a Go module path: ${JSON.stringify(path)}`);
  return `pkg:golang/${segments.map(encodePurlSegment).join('/')}${versionSuffix(version)}`;
}

// go1.22.0, go1.20 (before Go 1.21 the first release had no `.0`), go1.21rc2, go1.18beta1.
const GO_RELEASE = /^go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta|alpha)(\d+))?$/;

/**
 * The standard library's version as the Go vulnerability database writes it: SemVer without a
 * `v` (`go1.22.0` -> `1.22.0`, `go1.20` -> `1.20.0`, `go1.21rc2` -> `1.21.0-rc.2`). Anything after
 * the first space is dropped: `go1.25.1 X:nodwarf5` records GOEXPERIMENTs, not a different Go.
 * Undefined for a development toolchain (`devel go1.23-abc123 ...`), which has no release.
 */
export function goStdlibVersion(goVersion: string): string | undefined {
  const token = goVersion.trim().split(/\s+/)[0] ?? '';
  const m = GO_RELEASE.exec(token);
  if (m) {
    const [, major, minor, patch, pre, preNumber] = m;
    return `${major}.${minor}.${patch ?? '0'}${pre ? `-${pre}.${preNumber}` : ''}`;
  }
  // A vendor build (`go1.22.5-1`, `go1.20.12b7`): keep what follows `go` as an opaque version.
  if (/^go\d/.test(token)) return token.slice(2);
  return undefined;
}

/**
 * `pkg:golang/stdlib@1.22.0`, the convention of Syft and Grype (the Go vulnerability database
 * keys standard library advisories by the module name `stdlib` and this version form).
 */
export function goStdlibPurl(goVersion: string): string {
  return `pkg:golang/stdlib${versionSuffix(goStdlibVersion(goVersion))}`;
}

/**
 * The K3s binary as the Go module its release is tagged in:
 * `pkg:golang/github.com/k3s-io/k3s@v1.31.4%2Bk3s1`. Old releases used `github.com/rancher/k3s`.
 */
export function k3sPurl(version: string, modulePath: string = K3S_MODULE_PATH): string {
  return goModulePurl(modulePath, version);
}

/**
 * A file that is no package of any ecosystem: `pkg:generic/<name>[@<version>]?checksum=sha256:<hex>`.
 * The checksum qualifier is what makes a generic purl identify one file rather than a name.
 */
export function genericFilePurl(name: string, sha256: string, version?: string): string {
  return `pkg:generic/${encodePurlSegment(name)}${versionSuffix(version)}?checksum=sha256:${encodePurlSegment(sha256)}`;
}

/**
 * The module whose code was compiled in: the replacement when it is a module (it has a version),
 * the required module for a local-directory replacement or none.
 */
export function builtModule(c: Pick<GoModuleComponent, 'module' | 'replacement'>): GoModule {
  return c.replacement?.version ? c.replacement : c.module;
}

/**
 * A container image as the purl spec's `oci` type writes it: the last path segment as name,
 * the manifest digest as version, where it came from as `repository_url` (without a tag), and
 * `tag` and `arch` qualifiers, sorted: `pkg:oci/mirrored-pause@sha256:...?arch=amd64&repository_url=docker.io%2Francher%2Fmirrored-pause&tag=3.6`.
 */
export function ociPurl(reference: string | undefined, digest: string, arch?: string): string {
  const at = reference?.indexOf('@') ?? -1;
  const noDigest = reference === undefined ? undefined : at >= 0 ? reference.slice(0, at) : reference;
  const colon = noDigest?.lastIndexOf(':') ?? -1;
  const slash = noDigest?.lastIndexOf('/') ?? -1;
  const repository = noDigest !== undefined && colon > slash ? noDigest.slice(0, colon) : noDigest;
  const tag = noDigest !== undefined && colon > slash ? noDigest.slice(colon + 1) : undefined;
  const name = repository === undefined ? 'image' : repository.slice(repository.lastIndexOf('/') + 1).toLowerCase();
  const qualifiers: Array<[string, string | undefined]> = [
    ['arch', arch],
    ['repository_url', repository],
    ['tag', tag],
  ];
  const query = qualifiers
    .filter((q): q is [string, string] => q[1] !== undefined)
    .map(([k, v]) => `${k}=${encodePurlSegment(v)}`)
    .join('&');
  const base = `pkg:oci/${encodePurlSegment(name)}@${encodePurlSegment(digest)}`;
  return query === '' ? base : `${base}?${query}`;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The purl a component is reported under when the inventory did not set one: the K3s purl for a
 * binary whose K3s version is known, a generic purl with its checksum for any other hashed file
 * or bundle, the built module for a Go module, stdlib at its Go version. Symlinks and
 * directories are not packages: none.
 */
export function componentPurl(c: Component): string | undefined {
  switch (c.type) {
    case 'file':
      if (c.k3s && isReportableVersion(c.k3s.version)) return k3sPurl(c.k3s.version, c.k3s.modulePath);
      return SHA256_HEX.test(c.sha256) ? genericFilePurl(basename(c.path), c.sha256) : undefined;
    case 'k3s-bundle':
      return c.sha256 && SHA256_HEX.test(c.sha256) ? genericFilePurl(c.name, c.sha256) : undefined;
    case 'go-module': {
      const built = builtModule(c);
      const version = built === c.module ? (c.version ?? c.module.version) : built.version;
      return built.path.split('/').some((s) => s !== '') ? goModulePurl(built.path, version) : undefined;
    }
    case 'go-stdlib':
      return goStdlibPurl(c.goVersion);
    case 'os-package':
    case 'image':
      return c.purl;
    case 'image-archive':
      return c.sha256 && SHA256_HEX.test(c.sha256) ? genericFilePurl(c.name, c.sha256) : undefined;
    case 'symlink':
    case 'directory':
      return undefined;
  }
}
