// The dpkg database of an image: `/var/lib/dpkg/status` in full Debian images, and one file
// per package under `/var/lib/dpkg/status.d/` in distroless ones (which ship no dpkg).
//
// Both are deb822 stanzas: `Field: value` lines, continuation lines starting with a space or tab,
// stanzas separated by blank lines. `status` also lists packages that are removed but keep their
// configuration files (`deinstall ok config-files`), or half-installed: those are not in the
// image's files, so only packages whose Status says `installed` count (whatever the wanted
// state: `hold ok installed` and `deinstall ok installed` are still installed). distroless files
// are the packages' control files and have no Status field at all: every one is installed.
import { parseDpkgVersion } from '../../versions/dpkg.ts';

export interface DpkgEntry {
  name: string;
  version: string;
  /** `amd64`, `arm64`, `all`, ...; empty when the stanza has none. */
  arch: string;
  /** The source package (`Source: name (version)`); the binary's own name and version when absent. */
  sourceName: string;
  sourceVersion: string;
}

export interface DbProblem {
  file: string;
  /** 1-based line of the stanza's first line. */
  line: number;
  message: string;
}

interface Stanza {
  line: number;
  fields: Map<string, string>;
}

/** Splits deb822 text into stanzas; field names are case-insensitive, so they are lower-cased. */
export function parseDeb822(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let current: Stanza | undefined;
  let lastKey = '';
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).replace(/\r$/, '');
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    if (line.startsWith('#')) continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      // A continuation (Description, Conffiles): none of the fields read here are multi-line,
      // but the value is kept whole so a malformed first line cannot hide in it.
      if (current && lastKey !== '')
        current.fields.set(lastKey, `${current.fields.get(lastKey) ?? ''}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    if (!current) {
      current = { line: n + 1, fields: new Map() };
      stanzas.push(current);
    }
    lastKey = line.slice(0, colon).trim().toLowerCase();
    current.fields.set(lastKey, line.slice(colon + 1).trim());
  }
  return stanzas;
}

/** `Status: want flag status`: installed when the last word is `installed`. */
function isInstalled(status: string | undefined): boolean {
  if (status === undefined) return true; // distroless control files carry no Status
  const words = status.split(/\s+/);
  return words.length === 3 && words[1] === 'ok' && words[2] === 'installed';
}

/** Parses one dpkg database file (`status` or a `status.d/` file); `file` names it in problems. */
export function parseDpkgDatabase(
  input: string | Buffer,
  file: string,
): { entries: DpkgEntry[]; problems: DbProblem[] } {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const entries: DpkgEntry[] = [];
  const problems: DbProblem[] = [];
  for (const stanza of parseDeb822(text)) {
    const f = stanza.fields;
    if (!isInstalled(f.get('status'))) continue;
    const name = f.get('package') ?? '';
    const version = f.get('version') ?? '';
    if (!/^[a-z0-9][a-z0-9+.-]*$/.test(name)) {
      problems.push({
        file,
        line: stanza.line,
        message: `stanza without a valid Package name (${JSON.stringify(name)})`,
      });
      continue;
    }
    if (parseDpkgVersion(version) === undefined) {
      problems.push({ file, line: stanza.line, message: `${name}: invalid Version ${JSON.stringify(version)}` });
      continue;
    }
    // `Source: name` or `Source: name (version)`: the version differs for binNMUs (+b1).
    const source = /^([a-z0-9][a-z0-9+.-]*)(?:\s+\((\S+)\))?$/.exec(f.get('source') ?? '');
    entries.push({
      name,
      version,
      arch: f.get('architecture') ?? '',
      sourceName: source?.[1] ?? name,
      sourceVersion: source?.[2] ?? version,
    });
  }
  return { entries, problems };
}

/** status.d holds control files and, beside them, `<package>.md5sums` lists: only the former are stanzas. */
export function isDpkgStatusDFile(fileName: string): boolean {
  return fileName !== '' && !fileName.startsWith('.') && !fileName.endsWith('.md5sums');
}
