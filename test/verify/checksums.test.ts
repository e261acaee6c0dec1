// Checksum files as coreutils writes them (GNU and `--tag` BSD lines, escaped names), and the
// hostile ones a tampered download could bring: each refused with its line number.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InputError } from '../../src/model/errors.ts';
import { parseSums, parseSumsEntries, verifyChecksums } from '../../src/verify/checksums.ts';
import { realBinary } from '../fixtures/realbins.ts';
import { coreutilsSha256, flipMiddleByte, tempDir, writeSums } from './release-fixture.ts';

const lefthook = realBinary('lefthook-2.2.2');
const runc = realBinary('debian-runc');
const skip = 'skip' in lefthook ? lefthook.skip : 'skip' in runc ? runc.skip : false;
const HEX = 'a'.repeat(64);

function rejects(text: string, line: number | undefined, why: RegExp): void {
  assert.throws(
    () => parseSums(text, 'SUMS'),
    (e: unknown) =>
      e instanceof InputError &&
      e.code === 'SUMS_INVALID' &&
      e.file === 'SUMS' &&
      (line === undefined || e.message.startsWith(`line ${line}: `)) &&
      why.test(e.message),
  );
}

describe('parseSums on coreutils output', { skip }, () => {
  test('GNU text and binary mode lines, and BSD --tag lines, give the digests sha256sum computed', (t) => {
    const dir = tempDir(t);
    const paths = [lefthook, runc].map((b, i) => {
      const to = join(dir, i === 0 ? 'lefthook' : 'runc with space');
      copyFileSync((b as { path: string }).path, to);
      return to;
    });
    const want = new Map([
      ['lefthook', coreutilsSha256(paths[0] as string)],
      ['runc with space', coreutilsSha256(paths[1] as string)],
    ]);
    const gnu = writeSums(dir, 'gnu.txt', ['lefthook', 'runc with space']);
    assert.deepEqual(parseSums(gnu, 'gnu.txt'), want);
    const binary = writeSums(dir, 'binary.txt', ['-b', 'lefthook', 'runc with space']);
    assert.match(binary, / \*lefthook\n/);
    assert.deepEqual(parseSums(binary, 'binary.txt'), want);
    const bsd = writeSums(dir, 'bsd.txt', ['lefthook', 'runc with space'], { tag: true });
    assert.match(bsd, /^SHA256 \(lefthook\) = [0-9a-f]{64}$/m);
    assert.deepEqual(parseSums(bsd, 'bsd.txt'), want);
  });

  test('a name with a backslash, escaped by coreutils, reads back as the file name', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'back\\slash'), 'x');
    for (const tag of [false, true]) {
      const text = writeSums(dir, 'sums.txt', ['back\\slash'], { tag });
      assert.ok(text.startsWith('\\'), 'coreutils marks the escaped line');
      assert.deepEqual([...parseSums(text, 'sums.txt').keys()], ['back\\slash']);
    }
  });

  test('the same name twice with the same digest is one entry; line numbers are kept', () => {
    const entries = parseSumsEntries(`${HEX}  k3s\n\n${HEX.toUpperCase()}  k3s\n`, 'SUMS');
    assert.deepEqual(
      entries.map((e) => [e.name, e.line]),
      [
        ['k3s', 1],
        ['k3s', 3],
      ],
    );
    assert.deepEqual(parseSums(`${HEX}  k3s\n${HEX}  k3s\n`, 'SUMS'), new Map([['k3s', HEX]]));
  });
});

describe('parseSums refuses hostile sums files', () => {
  const other = 'b'.repeat(64);
  test('duplicate names with different digests, naming both lines and digests', () => {
    rejects(`${HEX}  k3s\n${HEX}  k3s-arm64\n${other}  k3s\n`, 3, new RegExp(`line 1: ${HEX}, line 3: ${other}`));
  });
  test('paths: ../x, a/b, /abs, and . or ..', () => {
    rejects(`${HEX}  ../x\n`, 1, /is a path, not a file name.*sha256sum FILE/);
    rejects(`${HEX}  ok\n${HEX}  a/b\n`, 2, /"a\/b" is a path/);
    rejects(`SHA256 (/etc/passwd) = ${HEX}\n`, 1, /is a path/);
    rejects(`${HEX}  ..\n`, 1, /\.\. is not a file name/);
    rejects(`${HEX}  .\n`, 1, /\. is not a file name/);
  });
  test('digests that are not hex, or not SHA-256 long (naming the algorithm it looks like)', () => {
    rejects(`${'g'.repeat(64)}  k3s\n`, 1, /not hexadecimal/);
    rejects(`${'a'.repeat(63)}  k3s\n`, 1, /63 hex digits, a SHA-256 has 64$/);
  });
  test('sums of other algorithms, as md5sum and sha512sum write them (GNU and --tag)', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'k3s'), 'x');
    const run = (cmd: string, ...args: string[]) => execFileSync(cmd, [...args, 'k3s'], { cwd: dir, encoding: 'utf8' });
    rejects(run('md5sum', '--tag'), 1, /^line 1: MD5 sum: only SHA256 sums are read/);
    rejects(run('sha512sum', '--tag'), 1, /SHA512 sum/);
    rejects(run('md5sum'), 1, /32 hex digits.*looks like MD5/);
    rejects(run('sha512sum'), 1, /128 hex digits.*looks like SHA-512/);
  });
  test('CR line endings, empty names, malformed lines, line breaks in escaped names', () => {
    rejects(`${HEX}  k3s\r\n`, 1, /carriage return.*dos2unix/);
    rejects(`${HEX}  \n`, 1, /empty file name/);
    rejects(`${HEX} k3s\n`, 1, /neither GNU/);
    rejects('# comment\n', 1, /neither GNU/);
    rejects(`\\${HEX}  a\\nb\n`, 1, /line break/);
    rejects(`\\${HEX}  a\\qb\n`, 1, /unknown escape/);
  });
  test('a file with no sums at all', () => {
    rejects('', undefined, /no checksum lines/);
    rejects('\n\n', undefined, /no checksum lines/);
  });
});

describe('verifyChecksums', { skip }, () => {
  test('OK, MISMATCH after a one-byte change, NOT LISTED, matched by base name', async (t) => {
    const dir = tempDir(t);
    const a = join(dir, 'lefthook');
    const b = join(dir, 'runc');
    const c = join(dir, 'unlisted');
    copyFileSync((lefthook as { path: string }).path, a);
    copyFileSync((runc as { path: string }).path, b);
    writeFileSync(c, 'not in the sums file\n');
    writeSums(dir, 'SHA256SUMS', ['lefthook', 'runc']);
    const before = coreutilsSha256(b);
    flipMiddleByte(b);
    const report = await verifyChecksums([a, b, c], join(dir, 'SHA256SUMS'));
    assert.deepEqual(
      report.checks.map((k) => [k.subject, k.kind, k.status]),
      [
        [a, 'checksum', 'ok'],
        [b, 'checksum', 'mismatch'],
        [c, 'checksum', 'not-listed'],
      ],
    );
    const [ok, bad, missing] = report.checks;
    assert.equal(ok?.actual, coreutilsSha256(a));
    assert.equal(bad?.expected, before);
    assert.equal(bad?.actual, coreutilsSha256(b));
    assert.match(bad?.hint ?? '', /download it again/);
    assert.equal(missing?.actual, coreutilsSha256(c));
    assert.match(missing?.hint ?? '', /SHA256SUMS does not vouch for this file/);
  });

  test('a BSD (--tag) sums file works the same', async (t) => {
    const dir = tempDir(t);
    copyFileSync((lefthook as { path: string }).path, join(dir, 'lefthook'));
    writeSums(dir, 'sums.bsd', ['lefthook'], { tag: true });
    const report = await verifyChecksums([join(dir, 'lefthook')], join(dir, 'sums.bsd'));
    assert.equal(report.checks[0]?.status, 'ok');
  });

  test('a file that does not exist, and a sums file that does not, are input errors', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'sums'), `${HEX}  x\n`);
    await assert.rejects(verifyChecksums([join(dir, 'x')], join(dir, 'sums')), {
      code: 'NOT_FOUND',
      file: join(dir, 'x'),
    });
    await assert.rejects(verifyChecksums([join(dir, 'sums')], join(dir, 'nope')), { code: 'NOT_FOUND' });
    await assert.rejects(verifyChecksums([dir], join(dir, 'sums')), { code: 'USAGE', file: dir });
  });
});
