// What the build host's dpkg knows: which installed package a file came from, that package's
// version and control fields, and the files it installed. The image takes its shared libraries,
// CA certificates and os-release from the host's Debian, so each one is attributed to the
// Debian package (and version) it came from; a file no package owns is an error, since the
// image's SBOM and its dpkg records could not account for it.
import { execFileSync } from 'node:child_process';

export interface DebianPackage {
  name: string;
  version: string;
  arch: string;
  source: { name: string; version: string };
  /**
   * The package's control stanza as dpkg-query prints it, without the fields that describe
   * this host's installation (Status, Conffiles): what a distroless image keeps in
   * /var/lib/dpkg/status.d/<package>.
   */
  control: string;
}

function dpkgQuery(args: string[]): string {
  return execFileSync('dpkg-query', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * The package that installed `path`, as dpkg-query names it (`libc6:amd64` for a package that
 * can be installed for several architectures, `ca-certificates` for one that cannot). dpkg
 * records a path as the package spelled it, and since Debian merged /usr a library is reached by
 * more names than it was packaged under (/lib/x86_64-linux-gnu/libc.so.6 is packaged, /usr/lib/...
 * is not; libstdc++ the other way round): `aliases` are the other names of the same file, tried
 * in turn. A file that instances of one package for several architectures share (a copyright
 * file) is attributed to the `arch` instance.
 */
export function owningPackage(path: string, aliases: readonly string[], arch: string): string {
  for (const candidate of [path, ...aliases]) {
    let out: string;
    try {
      out = dpkgQuery(['-S', candidate]);
    } catch {
      continue; // dpkg-query exits 1 when no package has the path
    }
    for (const line of out.split('\n')) {
      // `libc6:arm64, libc6:amd64: /usr/share/doc/libc6/copyright`
      // (`diversion by ... from: /path` lines say who diverted it, not who owns it.)
      const sep = line.indexOf(': /');
      if (sep < 0 || line.startsWith('diversion by ') || line.slice(sep + 2) !== candidate) continue;
      const owners = line
        .slice(0, sep)
        .split(', ')
        .filter((o) => !o.includes(':') || o.endsWith(`:${arch}`));
      // Two different packages for one path (a diversion): which one's file this is, dpkg cannot say.
      if (owners.length === 1) return owners[0] as string;
      throw new Error(`${candidate}: owned by ${line.slice(0, sep)}, not by one ${arch} package`);
    }
  }
  throw new Error(`${path}: no installed Debian package owns it (dpkg-query -S)`);
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} format
const FIELDS = '${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\n';
const HOST_FIELDS = new Set(['status', 'conffiles', 'config-version']);

/** Drop the stanza fields that describe this host's installation, continuation lines included. */
function portableControl(status: string): string {
  const kept: string[] = [];
  let keep = true;
  for (const line of status.split('\n')) {
    if (line === '') continue;
    if (!/^\s/.test(line)) keep = !HOST_FIELDS.has(line.slice(0, line.indexOf(':')).toLowerCase());
    if (keep) kept.push(line);
  }
  return `${kept.join('\n')}\n`;
}

export function installedPackage(name: string): DebianPackage {
  const [pkg, version, arch, sourceName, sourceVersion] = dpkgQuery(['-W', `-f=${FIELDS}`, name])
    .trim()
    .split('\t');
  if (!pkg || !version || !arch) throw new Error(`dpkg-query: ${name} is not installed`);
  return {
    name: pkg,
    version,
    arch,
    source: { name: sourceName || pkg, version: sourceVersion || version },
    control: portableControl(dpkgQuery(['-s', name])),
  };
}

/** The paths a package installed, as dpkg recorded them. */
export function packageFiles(name: string): string[] {
  return dpkgQuery(['-L', name])
    .split('\n')
    .filter((l) => l.startsWith('/'));
}
