// Every file an option names is read by one reader (src/io/option-file.ts): only regular
// files, each kind within its size limit. A FIFO (which would block the read forever), a
// character device (read until memory runs out) and an oversized file each give exit 2 and
// one line naming the option and the file. The runs have a bounded timeout: a hang ends as a
// killed child with no exit code, which fails the exit-code assertion.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { LIMITS, type SizedOptionFileKind } from '../../src/model/limits.ts';
import { assertInputError, k3sguard, oneRecordDb, tempDir } from './run.ts';

const BOUND = { timeout: 60_000 };

interface Case {
  option: string;
  /** The size limit to pass; absent: no limit (the database). */
  kind?: SizedOptionFileKind;
  args: (file: string) => string[];
}

function setup(t: { after: (fn: () => void) => void }) {
  const dir = tempDir(t);
  const art = join(dir, 'artifact.txt');
  writeFileSync(art, 'an artifact\n');
  const image = join(dir, 'image.tar.gz'); // gzip: sniffed as an image archive target
  writeFileSync(image, gzipSync(Buffer.from('not really a tar')));
  const script = join(dir, 'install.sh');
  writeFileSync(script, 'echo hello\n');
  const root = join(dir, 'node');
  mkdirSync(root);
  const key = join(dir, 'org.pem');
  assert.equal(k3sguard(['sign', '--generate-key', key]).code, 0);
  const bundle = join(dir, 'artifact.sigstore.json');
  assert.equal(k3sguard(['sign', art, '--key', key, '-o', bundle]).code, 0);
  const db = oneRecordDb(dir);
  const pub = join(dir, 'org.pub');
  const cases: Case[] = [
    { option: '--checksums', kind: 'sums', args: (f) => ['verify', art, '--checksums', f] },
    { option: '--lock', kind: 'lock', args: (f) => ['verify', art, '--lock', f] },
    { option: '--bundle', kind: 'bundle', args: (f) => ['verify', art, '--bundle', f, '--key', pub] },
    { option: '--key', kind: 'key', args: (f) => ['verify', art, '--bundle', bundle, '--key', f] },
    { option: '--policy', kind: 'policy', args: (f) => ['verify', '--no-progress', image, '--policy', f] },
    { option: '--images-list', kind: 'images-list', args: (f) => ['verify', image, '--images-list', f] },
    { option: '--images-list', kind: 'images-list', args: (f) => ['inspect', art, '--images-list', f] },
    { option: '--key', kind: 'key', args: (f) => ['sign', art, '--key', f, '-o', join(dir, 'x.json')] },
    { option: '--vex', kind: 'vex', args: (f) => ['scan', '--no-progress', art, '--db', db, '--vex', f] },
    { option: '--policy', kind: 'policy', args: (f) => ['audit', 'iac', script, '--policy', f] },
    { option: '--policy', kind: 'policy', args: (f) => ['audit', 'node', '--root', root, '--policy', f] },
    { option: '--lock', kind: 'lock', args: (f) => ['audit', 'node', '--root', root, '--lock', f] },
    { option: '--lock', kind: 'lock', args: (f) => ['lock', 'add', art, '--lock', f] },
    { option: '--db', args: (f) => ['db', 'status', '--db', f] },
    { option: '--db', args: (f) => ['advisories', '--k3s-version', 'v1.28.0+k3s1', '--db', f] },
    { option: '--db', args: (f) => ['scan', '--no-progress', art, '--db', f] },
  ];
  return { dir, cases, art, bundle, pub };
}

const describe = (c: Case, file: string) => `${c.args(file).slice(0, 2).join(' ')} ${c.option}`;

test('a FIFO named by an option: exit 2 and one line, never a hang', (t) => {
  const s = setup(t);
  const fifo = join(s.dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  for (const c of s.cases) {
    const r = k3sguard(c.args(fifo), BOUND);
    assert.notEqual(r.code, null, `${describe(c, fifo)} hung`);
    assertInputError(r, fifo, new RegExp(`${c.option}: a FIFO, not a regular file`));
  }
});

test('a character device named by an option (/dev/zero): exit 2 and one line, nothing read', (t) => {
  const s = setup(t);
  for (const c of s.cases) {
    const r = k3sguard(c.args('/dev/zero'), BOUND);
    assert.notEqual(r.code, null, `${describe(c, '/dev/zero')} hung`);
    assertInputError(r, '/dev/zero', new RegExp(`${c.option}: a character device, not a regular file`));
  }
});

test('a directory named by an option: exit 2 and one line', (t) => {
  const s = setup(t);
  for (const c of s.cases) assertInputError(k3sguard(c.args(s.dir), BOUND), s.dir, /a directory, not a regular file/);
});

test("an option file one byte over its kind's limit: exit 2 and one line (sparse, so cheap)", (t) => {
  const s = setup(t);
  for (const c of s.cases) {
    if (!c.kind) continue;
    const big = join(s.dir, `big-${c.kind}`);
    writeFileSync(big, '');
    truncateSync(big, LIMITS.optionFile[c.kind] + 1);
    assertInputError(k3sguard(c.args(big), BOUND), big, new RegExp(`${c.option}: larger than \\d+[KMG]iB`));
  }
});

test('audit iac refuses a FIFO or a device as a path to audit, without hanging', (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, 'hang.sh');
  execFileSync('mkfifo', [fifo]);
  for (const target of [fifo, '/dev/zero']) {
    const r = k3sguard(['audit', 'iac', target], BOUND);
    assert.equal(r.code, 2, `audit iac ${target}: ${r.stderr}`);
    assert.match(r.stdout, /(a FIFO|a character device), not a regular file/);
  }
});

test('verify --trusted-root: a FIFO is refused like any option file', (t) => {
  const s = setup(t);
  const fifo = join(s.dir, 'root-fifo');
  execFileSync('mkfifo', [fifo]);
  const r = k3sguard(
    [
      'verify',
      s.art,
      '--bundle',
      s.bundle,
      '--certificate-identity',
      'me@example.com',
      '--certificate-oidc-issuer',
      'https://accounts.example.com',
      '--trusted-root',
      fifo,
    ],
    BOUND,
  );
  assertInputError(r, fifo, /--trusted-root: a FIFO, not a regular file/);
});
