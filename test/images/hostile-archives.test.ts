// Small hostile image archives that used to cost minutes or gigabytes, and links out of an
// archive that used to pass silently. Each archive is made by GNU tar (names a file system
// cannot hold come from --transform); each must give its error or finding at once. Without
// the limits, the long-name cases take minutes (every Map lookup collides), not seconds.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/model/errors.ts';
import { LIMITS } from '../../src/model/limits.ts';
import { buildFileView, layerFile } from '../../src/readers/images/fileview.ts';
import { DEFAULT_FILE_VIEW_LIMITS } from '../../src/readers/images/fileview-layer.ts';
import { readImages } from '../../src/readers/images/read.ts';
import { k3sguard } from '../cli/run.ts';
import { imageFixtures, runTool } from './fixtures.ts';

const f = imageFixtures();
const skip = 'skip' in f ? f.skip : undefined;

/** Past 16,383 characters V8 hashes strings by length alone. */
const LONG = 17_000;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'k3sg-hostile-images-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `count` empty files n0000, n0001, ... in `dir`; their names. */
function emptyFiles(dir: string, count: number): string[] {
  mkdirSync(dir, { recursive: true });
  const names = Array.from({ length: count }, (_, i) => `n${String(i).padStart(4, '0')}`);
  for (const n of names) writeFileSync(join(dir, n), '');
  return names;
}

test('a layer of 2,000 names of 17,000 characters: findings at once, short messages', async (t) => {
  const tmp = tempDir(t);
  const src = join(tmp, 'src');
  const names = emptyFiles(src, 2000);
  writeFileSync(join(src, 'ok'), 'ok\n');
  symlinkSync('placeholder', join(src, 'farlink'));
  const layer = join(tmp, 'long-names.tar.gz');
  const prefix = 'd'.repeat(LONG);
  runTool('tar', [
    '--format=gnu',
    '-czf',
    layer,
    '-C',
    src,
    // Every n* member gets a 17,000-character directory; the symlink a 17,000-character target.
    '--transform',
    `s,^n,${prefix}/n,rSH;s,^placeholder$,${prefix},RsH`,
    'ok',
    'farlink',
    ...names,
  ]);
  const view = await buildFileView([layerFile(layer, 'long-names.tar.gz')], { collect: () => true });
  const found = view.findings.list;
  assert.equal(found.length, 2001);
  assert.ok(found.every((x) => x.id === 'K3SG-IMAGE-LAYER-PATH'));
  assert.match(found[0]?.message ?? '', /"farlink" is a symlink to a target longer than 4096 bytes; skipped/);
  assert.match(
    found[1]?.message ?? '',
    /^layer member "d{60}"\.\.\."d{34}\/n0000" \(17006 bytes\) is longer than 4096 bytes; skipped$/,
  );
  assert.ok(found.every((x) => x.message.length < 300));
  assert.deepEqual(
    view.paths().map(([p]) => p),
    ['/ok'],
  );
});

test('an archive of 2,000 names of 17,000 characters (pax): TAR_LIMIT, naming the file', async (t) => {
  const tmp = tempDir(t);
  const names = emptyFiles(join(tmp, 'src'), 2000);
  const archive = join(tmp, 'long-names.tar');
  runTool('tar', [
    '--format=pax',
    '-cf',
    archive,
    '-C',
    join(tmp, 'src'),
    '--transform',
    `s,^,${'x'.repeat(LONG)}/,r`,
    ...names,
  ]);
  await assert.rejects(readImages(archive), (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.code, 'TAR_LIMIT', e.message);
    assert.equal(e.file, archive);
    assert.match(e.message, /image archive tar: a member name of 17006 bytes is over the 4096-byte limit/);
    return true;
  });
});

test('links out of an image archive are findings, referred to or not (inspect and verify)', { skip }, async (t) => {
  if ('skip' in f) return;
  const tmp = tempDir(t);
  const archive = join(tmp, 'evil.tar');
  runTool('tar', ['--owner=0', '--group=0', '-cf', archive, '-C', f.airgapDir, '.']);
  // evil -> /tmp/x, then evil/pwned (appended from another directory, where evil is a directory).
  const links = join(tmp, 'links');
  mkdirSync(links);
  symlinkSync('/tmp/x', join(links, 'evil'));
  symlinkSync('/etc/passwd', join(links, 'passwd-link'));
  symlinkSync('../../../etc/shadow', join(links, 'climber'));
  symlinkSync('blobs', join(links, 'inside')); // inside the archive: fine
  runTool('tar', ['-rf', archive, '-C', links, 'evil', 'passwd-link', 'climber', 'inside']);
  const under = join(tmp, 'under');
  mkdirSync(join(under, 'evil'), { recursive: true });
  writeFileSync(join(under, 'evil', 'pwned'), 'pwned\n');
  runTool('tar', ['-rf', archive, '-C', under, 'evil/pwned']);
  // A hard link to /etc/passwd: GNU tar writes hard links between files it archives; the `h`
  // flag rewrites only the link target, -P keeps its leading `/`.
  const hard = join(tmp, 'hard');
  mkdirSync(hard);
  writeFileSync(join(hard, 'a'), 'a\n');
  execFileSync('ln', [join(hard, 'a'), join(hard, 'b')]);
  runTool('tar', ['-P', '-rf', archive, '-C', hard, '--transform', 's,^a$,/etc/passwd,RSh', 'a', 'b']);

  const r = await readImages(archive);
  const links_ = r.findings.filter((x) => x.id.startsWith('K3SG-IMAGE-ARCHIVE-')).map((x) => `${x.id} ${x.message}`);
  assert.deepEqual(links_.sort(), [
    'K3SG-IMAGE-ARCHIVE-LINK Archive member b is a hard link to "/etc/passwd", which is an absolute path.',
    'K3SG-IMAGE-ARCHIVE-LINK Archive member climber is a symbolic link to "../../../etc/shadow", which climbs above the archive root.',
    'K3SG-IMAGE-ARCHIVE-LINK Archive member evil is a symbolic link to "/tmp/x", which reaches the absolute path /tmp/x.',
    'K3SG-IMAGE-ARCHIVE-LINK Archive member passwd-link is a symbolic link to "/etc/passwd", which reaches the absolute path /etc/passwd.',
    'K3SG-IMAGE-ARCHIVE-THROUGH-LINK Archive member evil/pwned lies under the symbolic link evil -> "/tmp/x": unpacking the archive writes it wherever the link points.',
  ]);
  // The images themselves are untouched: nothing else is reported.
  assert.equal(r.findings.length, links_.length, r.findings.map((x) => x.id).join());

  const inspect = k3sguard(['inspect', archive, '--json']);
  assert.equal(inspect.code, 1, inspect.stderr);
  const ids = (JSON.parse(inspect.stdout) as { findings: Array<{ id: string }> }).findings.map((x) => x.id);
  assert.ok(ids.includes('K3SG-IMAGE-ARCHIVE-THROUGH-LINK'), ids.join());
  const verify = k3sguard(['verify', archive]);
  assert.equal(verify.code, 1, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /K3SG-IMAGE-ARCHIVE-LINK/);
});

test('an archive of more members than the limit is IMAGE_LIMIT (a flood of empty members)', async (t) => {
  const tmp = tempDir(t);
  const names = emptyFiles(join(tmp, 'src'), 101);
  const archive = join(tmp, 'flood.tar.gz');
  runTool('tar', ['-czf', archive, '-C', join(tmp, 'src'), ...names]);
  await assert.rejects(readImages(archive, { limits: { maxArchiveMembers: 100 } }), (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.code, 'IMAGE_LIMIT', e.message);
    assert.match(e.message, /image archive: more than 100 members/);
    return true;
  });
  assert.equal(LIMITS.imageArchiveMembers, 100_000);
});

test('an ELF file over the hook limit is not held: the hook says why instead', async (t) => {
  const tmp = tempDir(t);
  const src = join(tmp, 'src');
  mkdirSync(join(src, 'usr', 'bin'), { recursive: true });
  execFileSync('cp', ['/bin/true', join(src, 'usr', 'bin', 'runc')]);
  writeFileSync(join(src, 'usr', 'bin', 'script'), `#!/bin/sh\n${'#'.repeat(10_000)}\n`);
  const layer = join(tmp, 'elf.tar.gz');
  runTool('tar', ['-czf', layer, '-C', src, 'usr']);
  const taken: string[] = [];
  const view = await buildFileView([layerFile(layer)], {
    limits: { maxHookFile: 8192 },
    hook: {
      want: () => true,
      magic: Buffer.from('\x7fELF', 'latin1'),
      take: (path) => taken.push(path),
      tooLarge: (path, size, limit) => `${path}: ${size} > ${limit}`,
    },
  });
  assert.deepEqual(taken, []);
  assert.match(String(view.lstat('/usr/bin/runc')?.facts), /^\/usr\/bin\/runc: \d+ > 8192$/);
  assert.equal(view.lstat('/usr/bin/script')?.facts, undefined); // not an ELF file
  // Held whole, a file costs its size in memory: the default is lower than for bundles.
  assert.equal(DEFAULT_FILE_VIEW_LIMITS.maxHookFile, LIMITS.imageElfBytes);
  assert.ok(LIMITS.imageElfBytes < LIMITS.elfMemberBytes);
});
