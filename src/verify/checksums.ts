// Checksum files: GNU coreutils (`<hex>  <name>`, `<hex> *<name>`) and BSD / `sha256sum --tag`
// (`SHA256 (<name>) = <hex>`). Read strictly, unlike `sha256sum -c`: a sums file is the
// thing an attacker edits, so anything that could make two readers disagree about which
// digest a file has is refused with the line number rather than skipped.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { fsError } from '../io/fs-error.ts';
import { type FileDigest, Hasher } from '../io/hashing.ts';
import { type OptionFileNaming, readOptionFile } from '../io/option-file.ts';
import { InputError } from '../model/errors.ts';
import { HINTS } from './hints.ts';
import type { VerifyCheck, VerifyReport } from './model.ts';

export interface SumsEntry {
  name: string;
  /** Lowercase hex. */
  sha256: string;
  /** 1-based line in the sums file. */
  line: number;
}

const BSD = /^([A-Za-z0-9-]+) \((.*)\) = (\S*)$/;
const GNU = /^(\S+) ([ *])(.*)$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;
// Digest lengths of the other algorithms' sums files, to say which file was given instead.
const OTHER_ALGOS: Record<number, string> = { 32: 'MD5', 40: 'SHA-1', 56: 'SHA-224', 96: 'SHA-384', 128: 'SHA-512' };

/** Every line of a sums file, in order; throws InputError SUMS_INVALID naming `file` and the line. */
export function parseSumsEntries(text: string, file: string): SumsEntry[] {
  const bad = (line: number, why: string) => new InputError('SUMS_INVALID', file, `line ${line}: ${why}`);
  const entries: SumsEntry[] = [];
  const seen = new Map<string, SumsEntry>();
  // `sha256sum -c` reads a byte order mark as part of the first line and rejects that line:
  // accepting it here would make the two readers disagree about which lines count.
  if (text.startsWith('\ufeff'))
    throw bad(
      1,
      'starts with a UTF-8 byte order mark, which `sha256sum -c` does not accept: save the file without it (e.g. `sed -i "1s/^\\xEF\\xBB\\xBF//" FILE`)',
    );
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const n = i + 1;
    if (raw === '') return;
    if (raw.includes('\r'))
      throw bad(n, 'carriage return (CRLF line endings): convert the file with `dos2unix` and verify again');
    // coreutils writes `\` first when it escaped a backslash or newline in the name.
    const escaped = raw.startsWith('\\');
    const body = escaped ? raw.slice(1) : raw;
    const parsed = parseLine(body, (why) => bad(n, why));
    const name = escaped ? unescapeName(parsed.name, (why) => bad(n, why)) : parsed.name;
    checkName(name, (why) => bad(n, why));
    const entry = { name, sha256: parsed.hex.toLowerCase(), line: n };
    const earlier = seen.get(name);
    if (earlier && earlier.sha256 !== entry.sha256) {
      throw bad(
        n,
        `${name} is listed again with another sha256 (line ${earlier.line}: ${earlier.sha256}, line ${n}: ${entry.sha256}): a sums file must give one digest per file; get it again from the release`,
      );
    }
    if (!earlier) seen.set(name, entry);
    entries.push(entry);
  });
  if (entries.length === 0) throw new InputError('SUMS_INVALID', file, 'no checksum lines: is this a sums file?');
  return entries;
}

/** Name to sha256 (lowercase hex). The same name twice with the same digest is one entry. */
export function parseSums(text: string, file: string): Map<string, string> {
  return new Map(parseSumsEntries(text, file).map((e) => [e.name, e.sha256]));
}

function parseLine(body: string, bad: (why: string) => InputError): { name: string; hex: string } {
  const bsd = BSD.exec(body);
  if (bsd) {
    const [, algo = '', name = '', hex = ''] = bsd;
    if (algo !== 'SHA256')
      throw bad(`${algo} sum: only SHA256 sums are read (make them with \`sha256sum\` or \`sha256sum --tag\`)`);
    return { name, hex: checkHex(hex, bad) };
  }
  const gnu = GNU.exec(body);
  if (!gnu) throw bad('neither GNU `<sha256>  <name>` nor BSD `SHA256 (<name>) = <sha256>`');
  const [, hex = '', , name = ''] = gnu;
  return { name, hex: checkHex(hex, bad) };
}

function checkHex(hex: string, bad: (why: string) => InputError): string {
  if (HEX64.test(hex)) return hex;
  if (!/^[0-9a-fA-F]+$/.test(hex)) throw bad(`digest ${JSON.stringify(hex.slice(0, 80))} is not hexadecimal`);
  const other = OTHER_ALGOS[hex.length];
  throw bad(
    `digest has ${hex.length} hex digits, a SHA-256 has 64${other ? ` (this looks like ${other}: use the sha256 sums file)` : ''}`,
  );
}

function unescapeName(name: string, bad: (why: string) => InputError): string {
  return name.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === 'r') return '\r';
    throw bad(`unknown escape \\${c} in the file name`);
  });
}

// A name must be one file in one folder: a path could point a check at another file than the
// one the release meant, and two spellings of one file could carry two digests.
function checkName(name: string, bad: (why: string) => InputError): void {
  const problem = fileNameProblem(name);
  if (problem === undefined) return;
  throw bad(
    name.includes('/')
      ? `${problem}: files are matched by base name; make sums in the files' folder (\`cd DIR && sha256sum FILE...\`)`
      : problem,
  );
}

/** Why `name` is not a plain file name (no folder, no `..`), or undefined. The lock uses it too. */
export function fileNameProblem(name: string): string | undefined {
  if (name === '') return 'empty file name';
  if (/[\n\r\0]/.test(name)) return 'file name holds a line break or NUL';
  if (name === '.' || name === '..') return `${name} is not a file name`;
  if (name.includes('/')) return `${JSON.stringify(name)} is a path, not a file name`;
  return undefined;
}

/**
 * Read and parse a sums file (UTF-8, at most the `sums` option-file limit). `label` starts
 * read errors: the option by default (`--checksums`); a release's own sums file passes another.
 */
export function readSums(path: string, naming: OptionFileNaming = {}): SumsEntry[] {
  const file = naming.file ?? path;
  const bytes = readOptionFile(path, 'sums', naming);
  let text: string;
  try {
    // ignoreBOM keeps a byte order mark in the text, for parseSumsEntries to refuse.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new InputError('SUMS_INVALID', file, 'not UTF-8 text: not a sums file');
  }
  return parseSumsEntries(text, file);
}

/** The check of one file's digest against a sums file's entry (or its absence). */
export function checksumCheck(
  subject: string,
  digest: FileDigest,
  expected: string | undefined,
  sums: string,
): VerifyCheck {
  if (expected === undefined) {
    return {
      kind: 'checksum',
      subject,
      status: 'not-listed',
      detail: `${basename(subject)} is not listed in ${sums}`,
      actual: digest.sha256,
      hint: HINTS.checksumNotListed(sums),
    };
  }
  if (expected !== digest.sha256) {
    return {
      kind: 'checksum',
      subject,
      status: 'mismatch',
      detail: `sha256 differs from ${sums}`,
      expected,
      actual: digest.sha256,
      hint: HINTS.checksumMismatch(sums),
    };
  }
  return { kind: 'checksum', subject, status: 'ok', detail: `sha256 matches ${sums}`, actual: digest.sha256 };
}

/**
 * Each file against the sums file, matched by base name: OK, MISMATCH, or NOT LISTED (a
 * failure). Throws InputError for an unreadable or hostile sums file, or a missing file.
 */
export async function verifyChecksums(
  files: readonly string[],
  sumsPath: string,
  opts: { hasher?: Hasher } = {},
): Promise<VerifyReport> {
  const sums = new Map(readSums(sumsPath).map((e) => [e.name, e.sha256]));
  for (const f of files) requireFile(f);
  const digests = await (opts.hasher ?? new Hasher()).digestAll(files.map((path) => ({ path })));
  const label = basename(sumsPath);
  return {
    checks: files.map((f, i) => checksumCheck(f, digests[i] as FileDigest, sums.get(basename(f)), label)),
  };
}

/** A file the user named must exist and be a file: otherwise a usage error, not a failed check. */
export function requireFile(file: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch (e) {
    throw fsError(e, file);
  }
  if (!isFile) throw new InputError('USAGE', file, 'not a regular file: name the files to verify');
}
