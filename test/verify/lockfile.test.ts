// k3sguard.lock: adding a real release folder and real files, from agreeing and disagreeing
// sources, checking files against it, its canonical bytes, and corrupt locks.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { LOCK_SCHEMA, type Lockfile } from '../../src/verify/lock/format.ts';
import { lockAddFiles, lockAddRelease, verifyAgainstLock } from '../../src/verify/lock/lockfile.ts';
import { k3sShaped } from '../fixtures/k3s-shaped.ts';
import { realBinary } from '../fixtures/realbins.ts';
import {
  buildRelease,
  coreutilsSha256,
  flipMiddleByte,
  type ReleaseInputs,
  releaseInputs,
  tempDir,
  writeSums,
} from './release-fixture.ts';

const inputs = await releaseInputs();
const skip = 'skip' in inputs ? inputs.skip : false;
const VERSION = 'v1.31.4+k3s1';

const readJson = (p: string): Lockfile => JSON.parse(readFileSync(p, 'utf8')) as Lockfile;

describe('lockAddRelease', { skip }, () => {
  test('records every asset with version, arch, size, sha256, source; the K3s binary with its bundle', async (t) => {
    const dir = tempDir(t);
    const rel = buildRelease(join(dir, 'rel'), inputs as ReleaseInputs);
    const lockPath = join(dir, 'k3sguard.lock');
    const added = await lockAddRelease(lockPath, rel, { source: 'github' });
    assert.equal(added.written, true);
    assert.deepEqual(
      added.report.checks.filter((c) => c.status !== 'ok'),
      [],
    );
    const lock = readJson(lockPath);
    assert.equal(lock.schema, LOCK_SCHEMA);
    assert.deepEqual(
      lock.artifacts.map((a) => [a.name, a.arch, a.version, a.sha256, a.size]),
      [
        'k3s',
        'k3s-airgap-images-amd64.tar.zst',
        'k3s-airgap-images-arm64.tar.gz',
        'k3s-arm64',
        'k3s-images.txt',
        'sha256sum-amd64.txt',
        'sha256sum-arm64.txt',
      ].map((n) => {
        const arch = n.includes('arm64') ? 'arm64' : n === 'k3s-images.txt' ? undefined : 'amd64';
        return [n, arch, VERSION, coreutilsSha256(join(rel, n)), readFileSync(join(rel, n)).length];
      }),
    );
    const k3s = lock.artifacts[0];
    const shaped = (inputs as ReleaseInputs).k3s;
    assert.deepEqual(k3s?.k3s, { version: VERSION, commit: shaped.gitCommit, bundleHash: shaped.bundleHash });
    assert.deepEqual(k3s?.sources, [{ name: 'github', sums: 'sha256sum-amd64.txt' }]);
    assert.deepEqual(lock.artifacts[4]?.sources, [{ name: 'github' }], 'no sums file covers the image list');
  });

  test('a second source that agrees is recorded beside the first; one that disagrees fails loudly, lock unchanged', async (t) => {
    const dir = tempDir(t);
    const rel = buildRelease(join(dir, 'rel'), inputs as ReleaseInputs);
    const lockPath = join(dir, 'k3sguard.lock');
    await lockAddRelease(lockPath, rel, { source: 'github' });
    await lockAddRelease(lockPath, rel, { source: 'mirror' });
    const agreed = readFileSync(lockPath, 'utf8');
    assert.deepEqual(
      readJson(lockPath).artifacts.map((a) => a.sources.map((s) => s.name)),
      Array(7).fill(['github', 'mirror']),
    );
    // A mirror serving other airgap images with sums made for them: consistent in itself, not
    // with github. (A changed k3s would already fail its bundle check: see lockAddFiles.)
    const evil = buildRelease(join(dir, 'evil'), inputs as ReleaseInputs);
    const tarball = 'k3s-airgap-images-amd64.tar.zst';
    flipMiddleByte(join(evil, tarball));
    writeSums(evil, 'sha256sum-amd64.txt', [tarball, 'k3s']);
    const good = coreutilsSha256(join(rel, tarball));
    const bad = coreutilsSha256(join(evil, tarball));
    await assert.rejects(lockAddRelease(lockPath, evil, { source: 'evil-mirror' }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'LOCK_CONFLICT');
      for (const part of ['evil-mirror', 'github, mirror', good, bad, `${tarball} (${VERSION}, amd64)`]) {
        assert.ok(e.message.includes(part), `message names ${part}: ${e.message}`);
      }
      return true;
    });
    assert.equal(readFileSync(lockPath, 'utf8'), agreed);
  });

  test('a file that does not match its own sums is never locked', async (t) => {
    const dir = tempDir(t);
    const rel = buildRelease(join(dir, 'rel'), inputs as ReleaseInputs);
    flipMiddleByte(join(rel, 'k3s-arm64'));
    const lockPath = join(dir, 'k3sguard.lock');
    const r = await lockAddRelease(lockPath, rel, { source: 'github' });
    assert.equal(r.written, false);
    assert.deepEqual(
      r.report.checks.filter((c) => c.status !== 'ok').map((c) => [c.kind, c.status]),
      [['checksum', 'mismatch']],
    );
    assert.equal(existsSync(lockPath), false);
  });

  test('the same content added in another order, from sources in another order: byte-identical locks', async (t) => {
    const dir = tempDir(t);
    const rel = buildRelease(join(dir, 'rel'), inputs as ReleaseInputs);
    const lefthook = realBinary('lefthook-2.2.2');
    const extra = 'path' in lefthook ? [lefthook.path] : [];
    const files = [join(rel, 'k3s-images.txt'), join(rel, 'k3s-arm64'), ...extra];
    const a = join(dir, 'a.lock');
    const b = join(dir, 'b.lock');
    await lockAddRelease(a, rel, { source: 'github' });
    await lockAddRelease(a, rel, { source: 'mirror' });
    await lockAddFiles(a, files, { source: 'review' });
    await lockAddFiles(b, [...files].reverse(), { source: 'review' });
    await lockAddRelease(b, rel, { source: 'mirror' });
    await lockAddRelease(b, rel, { source: 'github' });
    const text = readFileSync(a, 'utf8');
    assert.equal(readFileSync(b, 'utf8'), text);
    assert.ok(text.endsWith('}\n') && text.includes('\n  "artifacts": [\n    {\n      "name": "k3s",'));
  });
});

describe('lockAddFiles', { skip }, () => {
  test('records a real Go binary with its arch, a text file without; checks against a sums file first', async (t) => {
    const dir = tempDir(t);
    const lefthook = realBinary('lefthook-2.2.2');
    if ('skip' in lefthook) return t.skip(lefthook.skip);
    copyFileSync(lefthook.path, join(dir, 'lefthook'));
    writeFileSync(join(dir, 'notes.txt'), 'reviewed\n');
    writeSums(dir, 'SHA256SUMS', ['lefthook', 'notes.txt']);
    const lockPath = join(dir, 'k3sguard.lock');
    const files = [join(dir, 'notes.txt'), join(dir, 'lefthook')];
    const r = await lockAddFiles(lockPath, files, { checksums: join(dir, 'SHA256SUMS'), source: 'vendor' });
    assert.equal(r.written, true);
    assert.deepEqual(
      readJson(lockPath).artifacts.map((a) => [a.name, a.arch, a.version, a.sources]),
      [
        ['lefthook', 'amd64', undefined, [{ name: 'vendor', sums: 'SHA256SUMS' }]],
        ['notes.txt', undefined, undefined, [{ name: 'vendor', sums: 'SHA256SUMS' }]],
      ],
    );
    writeFileSync(join(dir, 'notes.txt'), 'changed after review\n');
    const again = await lockAddFiles(lockPath, files, { checksums: join(dir, 'SHA256SUMS'), source: 'vendor' });
    assert.equal(again.written, false);
  });

  test('a K3s binary whose embedded bundle was altered is refused', async (t) => {
    const flipped = await k3sShaped('frame-byte-flipped');
    if ('skip' in flipped) return t.skip(flipped.skip);
    const dir = tempDir(t);
    copyFileSync(flipped.path, join(dir, 'k3s'));
    const r = await lockAddFiles(join(dir, 'k3sguard.lock'), [join(dir, 'k3s')]);
    assert.equal(r.written, false);
    const bad = r.report.checks.filter((c) => c.status !== 'ok');
    assert.deepEqual(
      bad.map((c) => [c.subject, c.status, c.expected]),
      [[`${join(dir, 'k3s')}!bundle`, 'mismatch', flipped.bundleHash]],
    );
  });
});

describe('verifyAgainstLock', { skip }, () => {
  test('ok, mismatch, not-listed (with the hint), and an installed `k3s` that is the arm64 binary', async (t) => {
    const dir = tempDir(t);
    const rel = buildRelease(join(dir, 'rel'), inputs as ReleaseInputs);
    const lockPath = join(dir, 'k3sguard.lock');
    await lockAddRelease(lockPath, rel, { source: 'github' });
    const clean = await verifyAgainstLock(lockPath, { release: rel });
    assert.equal(clean.checks.length, 7);
    assert.deepEqual(
      clean.checks.filter((c) => c.status !== 'ok'),
      [],
    );

    const node = join(dir, 'node');
    copyFileSync(join(rel, 'k3s-arm64'), join(dir, 'k3s')); // install.sh installs k3s-arm64 as k3s
    copyFileSync(join(rel, 'k3s-images.txt'), node);
    flipMiddleByte(join(rel, 'k3s-airgap-images-arm64.tar.gz'));
    const report = await verifyAgainstLock(lockPath, [
      join(dir, 'k3s'),
      join(rel, 'k3s-airgap-images-arm64.tar.gz'),
      node,
    ]);
    assert.deepEqual(
      report.checks.map((c) => c.status),
      ['ok', 'mismatch', 'not-listed'],
    );
    const [installed, changed, unknown] = report.checks;
    assert.match(installed?.detail ?? '', /locked as k3s-arm64 \(v1\.31\.4\+k3s1, arm64\)/);
    assert.equal(changed?.actual, coreutilsSha256(join(rel, 'k3s-airgap-images-arm64.tar.gz')));
    assert.equal(unknown?.hint, 'not in k3sguard.lock: review it, then run `k3sguard lock add`');
    assert.match(unknown?.detail ?? '', /has this digest as k3s-images\.txt/);
  });

  test('corrupt or foreign locks are input errors naming the lock file', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'f'), 'x');
    const lockPath = join(dir, 'k3sguard.lock');
    const entry = { name: 'f', size: 1, sha256: coreutilsSha256(join(dir, 'f')), sources: [{ name: 'x' }] };
    const cases: [string, RegExp][] = [
      ['{"schema": "k3sguard/lock@1", "artifacts": [', /not valid JSON/],
      [JSON.stringify({ schema: 'k3sguard/lock@2', artifacts: [] }), /schema is "k3sguard\/lock@2"/],
      [
        JSON.stringify({ schema: LOCK_SCHEMA, artifacts: [{ ...entry, sha: 'x' }] }),
        /artifacts\[0\]: unknown key "sha"/,
      ],
      [JSON.stringify({ schema: LOCK_SCHEMA, artifacts: [{ ...entry, sha256: 'ABC' }] }), /sha256 is not 64/],
      [JSON.stringify({ schema: LOCK_SCHEMA, artifacts: [{ ...entry, name: '../f' }] }), /is a path/],
      [JSON.stringify({ schema: LOCK_SCHEMA, artifacts: [entry, entry] }), /artifacts\[1\]: a second entry for f/],
    ];
    for (const [text, why] of cases) {
      writeFileSync(lockPath, text);
      await assert.rejects(verifyAgainstLock(lockPath, [join(dir, 'f')]), {
        code: 'LOCK_INVALID',
        file: lockPath,
        message: why,
      });
      await assert.rejects(lockAddFiles(lockPath, [join(dir, 'f')]), { code: 'LOCK_INVALID' });
      assert.equal(readFileSync(lockPath, 'utf8'), text, 'a corrupt lock is never overwritten');
    }
    await assert.rejects(verifyAgainstLock(join(dir, 'none.lock'), [join(dir, 'f')]), {
      code: 'NOT_FOUND',
      message: /k3sguard lock add/,
    });
  });
});
