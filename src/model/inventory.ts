// The one component model every reader fills and every report reads.
// Data flows one way: target -> readers -> Inventory -> checks -> findings -> reports.
//
// A component tree: a file (or directory) holds what it is made of. A Go binary holds its
// main module, its dependency modules and `stdlib` at its Go version; a K3s binary also holds
// its embedded bundle, which holds the bundled files, each inspected the same way.

export type Sha256 = string; // 64 lowercase hex digits

/** Where something was found: the chain of containers from the target down. */
export type Location = readonly string[];

export interface GoModule {
  path: string;
  /** Version as recorded; `(devel)` is kept here but never reported as a version. */
  version: string;
  /** `h1:` sum, when the build recorded one. */
  sum?: string;
}

export interface GoBuildSetting {
  key: string;
  value: string;
}

export interface GoBuildInfo {
  /** `inline` (Go 1.18+) or `pointer` (Go 1.13-1.17). */
  encoding: 'inline' | 'pointer';
  /** Runtime version, e.g. `go1.23.1`, exactly as recorded. */
  goVersion: string;
  /** The `path` line (main package path); may be absent in very old binaries. */
  path?: string;
  /** The `mod` line; absent for GOPATH builds (Debian). */
  main?: GoModule & { replace?: GoModule };
  deps: Array<GoModule & { replace?: GoModule }>;
  settings: GoBuildSetting[];
}

/** What a file turned out to be. A discriminated union: nothing is guessed. */
export type BinaryInfo =
  | { format: 'go'; buildInfo: GoBuildInfo; arch: ElfArch }
  /** A Go binary (pclntab / runtime version string found) whose build info was removed. */
  | { format: 'go-no-buildinfo'; goVersion?: string; arch: ElfArch; reason: string }
  | { format: 'elf'; arch: ElfArch } // an ELF that is not a Go binary
  | { format: 'packed'; packer: string }
  | { format: 'other'; detail: string }; // PE, Mach-O, script, data: "not a Go ELF binary"

export interface ElfArch {
  class: 32 | 64;
  endian: 'little' | 'big';
  machine: number;
  /** GOARCH-style name where known (`amd64`, `arm64`, `arm`, `386`, `s390x`, ...). */
  name: string;
}

export interface K3sIdentity {
  /** Module path the version came from: github.com/k3s-io/k3s or github.com/rancher/k3s. */
  modulePath: string;
  /** Full version with `+k3sN`; absent when the binary does not say (never `(devel)`). */
  version?: string;
  commit?: string;
  /** How it was found: the -X ldflag in the build settings, or the strings of the binary. */
  source: 'ldflags' | 'strings';
}

interface ComponentBase {
  /** Stable, unique id within an inventory (used as CycloneDX bom-ref / SPDX id seed). */
  ref: string;
  name: string;
  version?: string;
  purl?: string;
  location: Location;
}

export interface FileComponent extends ComponentBase {
  type: 'file';
  /** Path as found: relative to the directory target or the bundle root. */
  path: string;
  size: number;
  sha256: Sha256;
  /** Unix mode bits when known (directory targets, bundle members). */
  mode?: number;
  binary: BinaryInfo;
  k3s?: K3sIdentity;
  /** In an image: the digest of the layer the file comes from (the one the final view holds). */
  layer?: string;
  children: Component[];
}

export interface SymlinkComponent extends ComponentBase {
  type: 'symlink';
  path: string;
  target: string;
}

export interface GoModuleComponent extends ComponentBase {
  type: 'go-module';
  role: 'main' | 'dep';
  module: GoModule;
  /** The `=>` replacement: the code that was really built. */
  replacement?: GoModule;
  /** For K3s forks: the upstream module and version this replacement stands for. */
  upstream?: { path: string; version: string };
}

export interface GoStdlibComponent extends ComponentBase {
  type: 'go-stdlib';
  goVersion: string;
}

export interface BundleComponent extends ComponentBase {
  type: 'k3s-bundle';
  /** The hash in the bundle's name (`<hash>.tar.zst` or `data/<hash>`). */
  declaredHash: Sha256;
  /** The sha256 of the embedded zstd frame as found; absent for an extracted data dir. */
  sha256?: Sha256;
  /** Byte offset and length of the frame in the outer binary. */
  offset?: number;
  compressedSize?: number;
  uncompressedSize: number;
  links: Array<{ name: string; target: string }>;
  children: Component[];
}

export interface DirectoryComponent extends ComponentBase {
  type: 'directory';
  path: string;
  children: Component[];
}

/** A package an image's OS package manager says is installed (dpkg or apk). */
export interface OsPackageComponent extends ComponentBase {
  type: 'os-package';
  manager: 'dpkg' | 'apk';
  version: string;
  /** As the database writes it (`amd64`, `x86_64`, `all`); empty when not recorded. */
  arch: string;
  /** The source package (dpkg `Source`, apk origin) and its version: what advisories name. */
  source: { name: string; version: string };
  /** The distribution from the image's os-release (`debian` `12`, `alpine` `3.20.3`), when known. */
  distro?: { id: string; versionId?: string };
  /** The database file it was read from, e.g. `/var/lib/dpkg/status`. */
  db: string;
  license?: string;
}

/** One container image (one platform of it), its OS packages and its inspected files. */
export interface ImageComponent extends ComponentBase {
  type: 'image';
  /** Normalized references (`docker.io/rancher/mirrored-pause:3.6`), sorted; may be empty. */
  names: string[];
  /** Manifest digest (`sha256:<hex>`); for Docker-only entries the config digest stands in. */
  manifestDigest?: string;
  configDigest?: string;
  indexDigest?: string;
  platform?: { os: string; architecture: string; variant?: string };
  os?: { id: string; versionId?: string; prettyName?: string };
  layers: Array<{ digest: string; diffId?: string; size: number; mediaType: string }>;
  /** OS packages, then the files worth listing (Go binaries and other ELF files). */
  children: Component[];
}

/** An image archive (airgap tarball, docker save, OCI archive) or an OCI layout directory. */
export interface ImageArchiveComponent extends ComponentBase {
  type: 'image-archive';
  path: string;
  format: 'oci+docker-archive' | 'oci-archive' | 'docker-archive' | 'oci-layout';
  compression: 'none' | 'gzip' | 'zstd';
  /** Of the archive file; absent for a layout directory. */
  size?: number;
  sha256?: Sha256;
  children: ImageComponent[];
}

export type Component =
  | FileComponent
  | SymlinkComponent
  | GoModuleComponent
  | GoStdlibComponent
  | BundleComponent
  | DirectoryComponent
  | OsPackageComponent
  | ImageComponent
  | ImageArchiveComponent;

/** `unknown`: a vulnerability whose record gives no CVSS score; never invented. */
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info' | 'unknown';

/** What a vulnerability finding adds to a Finding (scan). */
export interface VulnerabilityInfo {
  /** Every id of the one vulnerability, the record's own first: GO-…, GHSA-…, CVE-…. */
  ids: string[];
  summary?: string;
  /** The module (or `stdlib`, or the K3s module, or an OS package's source package) the record was matched on. */
  module: string;
  /** The installed version compared, in the record's terms (e.g. `1.1.5`, `1.19.8`, a source package's `5.2.15-2`). */
  version: string;
  /**
   * How it was matched: the module itself, the upstream of a fork, the Go version, the K3s
   * version, or an image's OS package (by its source package, in its release's ecosystem).
   */
  via: 'module' | 'upstream' | 'stdlib' | 'k3s' | 'os-package';
  /** Lowest fixed version above the installed one, when the record has one. */
  fixed?: string;
  /** From the binary's function table, for records that list vulnerable symbols. */
  reachability: 'present' | 'absent' | 'unknown';
  /** Vulnerable symbols found in the binary (when present). */
  symbols?: string[];
  cvss?: { version: string; vector: string; score: number };
  /** Set when an OpenVEX statement says `not_affected`: shown, not counted. */
  suppressed?: { justification?: string; statement?: string; document: string };
}

/** One finding model for every check (tampering now; vulnerabilities and policy later). */
export interface Finding {
  /** Stable rule id, e.g. `K3SG-BUNDLE-HASH`. */
  id: string;
  severity: Severity;
  title: string;
  message: string;
  location: Location;
  /** The ref of the component concerned, when there is one. */
  component?: string;
  /** For vulnerability findings (scan). */
  vulnerability?: VulnerabilityInfo;
  /** For findings in a text file (audit): where in it, 1-based, as SARIF regions count. */
  region?: SourceRegion;
}

export interface SourceRegion {
  /** The file as given or found (relative to the audited root when there is one). */
  file: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  /** The source text of the line(s), for tables and SARIF snippets. */
  snippet?: string;
}

export interface Inventory {
  tool: { name: 'k3sguard'; version: string };
  target: string;
  targetKind: 'file' | 'directory' | 'k3s-data-dir' | 'image-archive' | 'oci-layout';
  root: FileComponent | DirectoryComponent | BundleComponent | ImageArchiveComponent;
  findings: Finding[];
  /** Notes that are not findings: e.g. "module list missing (build info stripped)". */
  notes: Array<{ location: Location; message: string }>;
}

export function hasChildren(
  c: Component,
): c is FileComponent | BundleComponent | DirectoryComponent | ImageComponent | ImageArchiveComponent {
  return (
    c.type === 'file' ||
    c.type === 'k3s-bundle' ||
    c.type === 'directory' ||
    c.type === 'image' ||
    c.type === 'image-archive'
  );
}

/** Depth-first walk over a component tree. */
export function* walk(c: Component, parent?: Component): Generator<{ component: Component; parent?: Component }> {
  yield parent ? { component: c, parent } : { component: c };
  if (hasChildren(c)) for (const child of c.children) yield* walk(child, c);
}
