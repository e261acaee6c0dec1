// Target detection on real inputs: the image fixtures in every form, a real ELF (the running
// node), files whose names lie about their content, K3s data dirs, and what is refused.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { detectTarget, isImageTarget } from '../../src/io/target.ts';
import { tempDir } from '../cli/run.ts';
import { imageFixtures } from '../images/fixtures.ts';

const img = imageFixtures();
const skip = 'skip' in img ? img.skip : false;

test('image archives are found by content, in every form and under any name', { skip }, (t) => {
  if ('skip' in img) return;
  const dir = tempDir(t);
  const cases: Array<[string, string]> = [
    [img.airgapTar, 'none'],
    [img.airgapGz, 'gzip'],
    [img.airgapZst, 'zstd'],
    [img.dockerArchive, 'none'],
    [img.ociArchive, 'none'],
  ];
  for (const [file, compression] of cases) {
    // Renamed to something that says nothing: the name is never looked at.
    const renamed = join(dir, `renamed-${compression}-${cases.findIndex(([f]) => f === file)}.bin`);
    copyFileSync(file, renamed);
    for (const path of [file, renamed]) {
      const got = detectTarget(path);
      assert.equal(got.kind, 'image-archive', path);
      assert.equal(got.kind === 'image-archive' && got.compression, compression, path);
      assert.ok(isImageTarget(got));
    }
  }
  for (const layout of [img.layout, img.airgapDir]) {
    const got = detectTarget(layout);
    assert.equal(got.kind, 'oci-layout', layout);
    assert.ok(isImageTarget(got));
  }
  // A link to a layout is what it points at; `path` stays as named.
  const link = join(dir, 'layout-link');
  symlinkSync(img.layout, link);
  const linked = detectTarget(link);
  assert.equal(linked.kind, 'oci-layout');
  assert.equal(linked.path, link);
});

test('ELF files, other files and folders; names that lie are not believed', (t) => {
  const dir = tempDir(t);
  assert.equal(detectTarget(process.execPath).kind, 'elf');
  const text = join(dir, 'airgap.tar.gz');
  writeFileSync(text, 'not an archive at all, whatever the name says\n'.repeat(40));
  assert.equal(detectTarget(text).kind, 'file');
  const gz = join(dir, 'notes.txt');
  writeFileSync(gz, gzipSync(Buffer.from('gzip content')));
  const sniffed = detectTarget(gz);
  assert.ok(sniffed.kind === 'image-archive' && sniffed.compression === 'gzip', sniffed.kind);
  const tarDir = join(dir, 'content');
  mkdirSync(tarDir);
  writeFileSync(join(tarDir, 'a'), 'a');
  const tar = join(dir, 'plain');
  execFileSync('tar', ['-cf', tar, '-C', tarDir, 'a']);
  assert.equal(detectTarget(tar).kind, 'image-archive');
  const empty = join(dir, 'empty');
  writeFileSync(empty, '');
  assert.equal(detectTarget(empty).kind, 'file');
  assert.equal(detectTarget(tarDir).kind, 'directory');
  // A folder with index.json but no blobs/ is not a layout; oci-layout alone is.
  writeFileSync(join(tarDir, 'index.json'), '{}');
  assert.equal(detectTarget(tarDir).kind, 'directory');
  mkdirSync(join(tarDir, 'blobs'));
  assert.equal(detectTarget(tarDir).kind, 'oci-layout');
  const marked = join(dir, 'marked');
  mkdirSync(marked);
  writeFileSync(join(marked, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  assert.equal(detectTarget(marked).kind, 'oci-layout');
});

test('a K3s data dir holds bin/.sha256sums as a file, not a link to one', (t) => {
  const dir = tempDir(t);
  const data = join(dir, 'data', 'abc123');
  mkdirSync(join(data, 'bin'), { recursive: true });
  assert.equal(detectTarget(data).kind, 'directory');
  writeFileSync(join(dir, 'sums'), '');
  symlinkSync(join(dir, 'sums'), join(data, 'bin', '.sha256sums'));
  assert.equal(detectTarget(data).kind, 'directory');
  const real = join(dir, 'data', 'def456');
  mkdirSync(join(real, 'bin'), { recursive: true });
  writeFileSync(join(real, 'bin', '.sha256sums'), '');
  assert.equal(detectTarget(real).kind, 'k3s-data-dir');
  assert.equal(isImageTarget(detectTarget(real)), false);
});

test('missing paths, bad links, FIFOs and devices are coded errors naming the path', (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'missing');
  assert.throws(() => detectTarget(missing), { code: 'NOT_FOUND', file: missing, message: /no such file/ });
  const dangling = join(dir, 'dangling');
  symlinkSync(missing, dangling);
  assert.throws(() => detectTarget(dangling), { code: 'NOT_FOUND', file: dangling, message: /dangling symlink/ });
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  symlinkSync(b, a);
  symlinkSync(a, b);
  assert.throws(() => detectTarget(a), { code: 'SYMLINK_LOOP', file: a });
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  // Refused from its type: reading a FIFO nobody writes would block forever.
  assert.throws(() => detectTarget(fifo), { code: 'UNREADABLE', file: fifo, message: /fifo/ });
  assert.throws(() => detectTarget('/dev/null'), { code: 'UNREADABLE', file: '/dev/null', message: /device/ });
});
