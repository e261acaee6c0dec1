// K3s's two bundle manifests, and the checks of a bundle's members against them.
// `bin/.sha256sums`: `<64 hex>  <path relative to bin>` per regular file (hidden names left
// out); `bin/.links`: `<name relative to bin> <target>` per symlink. K3s itself checks them
// once, at extraction, and only in one direction (listed entries); here a member that is not
// listed counts too. Parsing is strict: a line K3s would read differently from what the
// build script wrote (or not read at all) is a MANIFEST-MALFORMED finding, never an error,
// and the well-formed lines are still checked.

import { normalizeMemberPath } from '../../io/member-paths.ts';
import type { BundleFindings } from './findings.ts';
import type { BundleMember } from './types.ts';

export const SUMS_PATH = 'bin/.sha256sums';
export const LINKS_PATH = 'bin/.links';

export interface Parsed<T> {
  entries: Map<string, T>;
  problems: string[];
}

/** The raw bytes of a manifest, or why there are none. */
export type ManifestData = { kind: 'present'; data: Buffer } | { kind: 'absent'; why: string };

function cleanRelative(path: string): boolean {
  const n = normalizeMemberPath(path);
  return n.ok && n.path === path && path !== '';
}

/**
 * The lines to parse, in order; the file must end with a newline and hold no empty or CR
 * lines (problems for those go straight into `problems`, in line order with the rest).
 */
function* lines(text: string, problems: string[]): Generator<[number, string]> {
  const parts = text.split('\n');
  const unterminated = parts[parts.length - 1] !== '';
  if (!unterminated) parts.pop();
  for (const [i, line] of parts.entries()) {
    if (line.includes('\r')) problems.push(`line ${i + 1}: carriage return`);
    else if (line === '') problems.push(`line ${i + 1}: empty line`);
    else yield [i + 1, line];
  }
  if (unterminated && text !== '') problems.push('the last line has no newline');
}

export function parseSha256sums(text: string): Parsed<string> {
  const problems: string[] = [];
  const entries = new Map<string, string>();
  for (const [n, line] of lines(text, problems)) {
    // sha256sum writes `hex  path` (text mode) or `hex *path` (binary mode); a leading
    // backslash marks an escaped name, which K3s's whitespace split would not undo.
    const m = /^([0-9a-f]{64}) [ *](\S+)$/.exec(line);
    if (!m) {
      problems.push(`line ${n}: not "<64 lowercase hex>  <path>"`);
      continue;
    }
    const [, hash, path] = m as unknown as [string, string, string];
    if (!cleanRelative(path)) problems.push(`line ${n}: path ${JSON.stringify(path)} is not a clean relative path`);
    else if (entries.has(path)) problems.push(`line ${n}: ${path} listed twice`);
    else entries.set(path, hash);
  }
  if (entries.size === 0 && problems.length === 0) problems.push('no entries (K3s refuses to extract such a bundle)');
  return { entries, problems };
}

export function parseLinks(text: string): Parsed<string> {
  const problems: string[] = [];
  const entries = new Map<string, string>();
  for (const [n, line] of lines(text, problems)) {
    const m = /^(\S+) (\S+)$/.exec(line);
    if (!m) {
      problems.push(`line ${n}: not "<name> <target>"`);
      continue;
    }
    const [, name, target] = m as unknown as [string, string, string];
    if (!cleanRelative(name)) problems.push(`line ${n}: name ${JSON.stringify(name)} is not a clean relative path`);
    else if (entries.has(name)) problems.push(`line ${n}: ${name} listed twice`);
    else entries.set(name, target);
  }
  if (entries.size === 0 && problems.length === 0) problems.push('no entries (K3s refuses to extract such a bundle)');
  return { entries, problems };
}

function parseManifest(
  path: string,
  data: ManifestData,
  parse: (text: string) => Parsed<string>,
  findings: BundleFindings,
): Map<string, string> | undefined {
  if (data.kind === 'absent') {
    findings.add('K3SG-BUNDLE-MANIFEST-MISSING', `${path} ${data.why}, so the bundle's files cannot be checked.`, path);
    return undefined;
  }
  const parsed = parse(data.data.toString('utf8'));
  if (parsed.problems.length > 0) {
    const shown = parsed.problems.slice(0, 5).join('; ');
    const more = parsed.problems.length > 5 ? ` (and ${parsed.problems.length - 5} more)` : '';
    findings.add('K3SG-BUNDLE-MANIFEST-MALFORMED', `${path} is malformed: ${shown}${more}.`, path);
  }
  return parsed.entries;
}

const bin = (rel: string) => `bin/${rel}`;
const underBin = (path: string) => path.startsWith('bin/') && path !== SUMS_PATH && path !== LINKS_PATH;

/** Check `members` (last entry per path) against both manifests; findings go to `findings`. */
export function checkManifests(
  members: ReadonlyMap<string, BundleMember>,
  sums: ManifestData,
  links: ManifestData,
  findings: BundleFindings,
): void {
  for (const m of members.values()) {
    if (m.type === 'special') findings.add('K3SG-BUNDLE-MEMBER-SPECIAL', `${m.path} is a ${m.what} node.`, m.path);
  }
  const sumEntries = parseManifest(SUMS_PATH, sums, parseSha256sums, findings);
  if (sumEntries) {
    for (const [rel, expected] of sumEntries) {
      const m = members.get(bin(rel));
      if (!m) {
        findings.add('K3SG-BUNDLE-MEMBER-MISSING', `${bin(rel)} is listed in ${SUMS_PATH} but is not there.`, bin(rel));
      } else if (m.type !== 'file' && m.type !== 'hardlink') {
        const what = m.type === 'symlink' ? `a symlink to ${m.linkTarget}` : `a ${m.type}`;
        findings.add(
          'K3SG-BUNDLE-MEMBER-MODIFIED',
          `${m.path} is ${what}, but ${SUMS_PATH} lists a regular file.`,
          m.path,
        );
      } else if (m.sha256 !== expected) {
        findings.add(
          'K3SG-BUNDLE-MEMBER-MODIFIED',
          `${m.path} has sha256 ${m.sha256}, but ${SUMS_PATH} lists ${expected}: the file was changed after the bundle was built.`,
          m.path,
        );
      }
    }
    for (const m of members.values()) {
      if ((m.type === 'file' || m.type === 'hardlink') && underBin(m.path) && !sumEntries.has(m.path.slice(4))) {
        findings.add('K3SG-BUNDLE-MEMBER-UNLISTED', `${m.path} is not listed in ${SUMS_PATH}: it was added.`, m.path);
      }
    }
  }
  const linkEntries = parseManifest(LINKS_PATH, links, parseLinks, findings);
  if (linkEntries) {
    for (const [rel, expected] of linkEntries) {
      const m = members.get(bin(rel));
      if (!m) {
        findings.add('K3SG-BUNDLE-LINK-MISSING', `${bin(rel)} is listed in ${LINKS_PATH} but is not there.`, bin(rel));
      } else if (m.type !== 'symlink') {
        findings.add(
          'K3SG-BUNDLE-LINK-MISMATCH',
          `${m.path} is a ${m.type}, but ${LINKS_PATH} lists a symlink to ${expected}.`,
          m.path,
        );
      } else if (m.linkTarget !== expected) {
        findings.add(
          'K3SG-BUNDLE-LINK-MISMATCH',
          `${m.path} points to ${m.linkTarget}, but ${LINKS_PATH} lists ${expected}.`,
          m.path,
        );
      }
    }
    for (const m of members.values()) {
      if (m.type === 'symlink' && underBin(m.path) && !linkEntries.has(m.path.slice(4))) {
        findings.add(
          'K3SG-BUNDLE-LINK-UNLISTED',
          `${m.path} (-> ${m.linkTarget}) is not listed in ${LINKS_PATH}.`,
          m.path,
        );
      }
    }
  }
}
