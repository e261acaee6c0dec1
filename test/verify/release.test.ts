// verifyRelease on a release folder built from real binaries and real tools' output
// (release-fixture.ts): the whole folder OK, then one thing wrong at a time.
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { VerifyCheck, VerifyReport } from '../../src/verify/model.ts';
import { examineRelease, verifyRelease } from '../../src/verify/release.ts';
import { probeBinary } from '../readers/goprobe.ts';
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
const VERSION = 'v1.31.4+k3s1'; // what both fixtures' -X ldflags set

function release(t: { after: (fn: () => void) => void }): string {
  return buildRelease(join(tempDir(t), 'release'), inputs as ReleaseInputs);
}

const failures = (r: VerifyReport): VerifyCheck[] => r.checks.filter((c) => c.status !== 'ok');
const row = (c: VerifyCheck, dir: string) => [c.subject.slice(dir.length + 1), c.kind, c.status];

describe('verifyRelease', { skip }, () => {
  test('a complete, untouched release folder: every check passes', async (t) => {
    const dir = release(t);
    const exam = await examineRelease(dir);
    assert.deepEqual(
      exam.report.checks.map((c) => row(c, dir)),
      [
        ['k3s', 'checksum', 'ok'],
        ['k3s', 'arch', 'ok'],
        ['k3s-airgap-images-amd64.tar.zst', 'checksum', 'ok'],
        ['k3s-airgap-images-arm64.tar.gz', 'checksum', 'ok'],
        ['k3s-arm64', 'checksum', 'ok'],
        ['k3s-arm64', 'arch', 'ok'],
        ['k3s-images.txt', 'release', 'ok'],
      ],
    );
    assert.equal(exam.version, VERSION);
    const k3s = exam.assets.find((a) => a.name === 'k3s');
    assert.equal(k3s?.digest.sha256, coreutilsSha256(join(dir, 'k3s')));
    assert.equal(k3s?.sums, 'sha256sum-amd64.txt');
  });

  test('a one-byte change in the k3s binary: MISMATCH, with both digests, and nothing else fails', async (t) => {
    const dir = release(t);
    const published = coreutilsSha256(join(dir, 'k3s'));
    flipMiddleByte(join(dir, 'k3s'));
    const report = await verifyRelease(dir);
    assert.deepEqual(
      failures(report).map((c) => row(c, dir)),
      [['k3s', 'checksum', 'mismatch']],
    );
    const [c] = failures(report);
    assert.equal(c?.expected, published);
    assert.equal(c?.actual, coreutilsSha256(join(dir, 'k3s')));
    assert.notEqual(c?.expected, c?.actual);
    assert.match(c?.detail ?? '', /differs from sha256sum-amd64\.txt/);
  });

  test('an asset no sums file lists; an arch with no sums file at all', async (t) => {
    const dir = release(t);
    copyFileSync(join(dir, 'k3s-images.txt'), join(dir, 'k3s-airgap-images-amd64.tar'));
    const arm = probeBinary('arm');
    if ('path' in arm) copyFileSync(arm.path, join(dir, 'k3s-armhf'));
    const bad = failures(await verifyRelease(dir));
    const rows = bad.map((c) => row(c, dir));
    assert.deepEqual(rows[0], ['k3s-airgap-images-amd64.tar', 'checksum', 'not-listed']);
    assert.match(bad[0]?.hint ?? '', /sha256sum-amd64\.txt does not vouch/);
    if ('skip' in arm) return t.diagnostic(`no armhf case: ${arm.skip}`);
    assert.deepEqual(rows.slice(1), [['k3s-armhf', 'checksum', 'not-listed']]);
    assert.match(bad[1]?.detail ?? '', /no sha256sum-arm\.txt in the folder/);
  });

  test('a listed binary missing fails; a listed airgap tarball missing does not (optional)', async (t) => {
    const dir = release(t);
    rmSync(join(dir, 'k3s-arm64'));
    rmSync(join(dir, 'k3s-airgap-images-amd64.tar.zst'));
    const bad = failures(await verifyRelease(dir));
    assert.deepEqual(
      bad.map((c) => row(c, dir)),
      [['k3s-arm64', 'release', 'missing']],
    );
    assert.match(bad[0]?.hint ?? '', /download k3s-arm64 from the same release/);
  });

  test('files that are no release asset are unexpected, and so is a sums line naming one', async (t) => {
    const dir = release(t);
    writeFileSync(join(dir, 'install.sh'), '#!/bin/sh\n');
    appendFileSync(join(dir, 'sha256sum-amd64.txt'), `${coreutilsSha256(join(dir, 'install.sh'))}  install.sh\n`);
    const bad = failures(await verifyRelease(dir));
    assert.deepEqual(
      bad.map((c) => row(c, dir)),
      [
        ['install.sh', 'release', 'unexpected'],
        ['sha256sum-amd64.txt', 'release', 'unexpected'],
      ],
    );
    assert.match(bad[1]?.detail ?? '', /line 3 lists install\.sh, which is no amd64 release asset/);
  });

  test('binaries swapped under sums made after the swap: both arch checks fail', async (t) => {
    const dir = release(t);
    renameSync(join(dir, 'k3s'), join(dir, 'tmp'));
    renameSync(join(dir, 'k3s-arm64'), join(dir, 'k3s'));
    renameSync(join(dir, 'tmp'), join(dir, 'k3s-arm64'));
    writeSums(dir, 'sha256sum-amd64.txt', ['k3s-airgap-images-amd64.tar.zst', 'k3s']);
    writeSums(dir, 'sha256sum-arm64.txt', ['k3s-airgap-images-arm64.tar.gz', 'k3s-arm64']);
    const bad = failures(await verifyRelease(dir));
    assert.deepEqual(
      bad.map((c) => [...row(c, dir), c.expected, c.actual]),
      [
        ['k3s', 'arch', 'mismatch', 'amd64', 'arm64'],
        ['k3s-arm64', 'arch', 'mismatch', 'arm64', 'amd64'],
      ],
    );
  });

  test('expectVersion: right passes with a version check per binary, wrong fails, malformed is a usage error', async (t) => {
    const dir = release(t);
    const right = await verifyRelease(dir, { expectVersion: VERSION });
    assert.deepEqual(failures(right), []);
    assert.deepEqual(
      right.checks.filter((c) => c.kind === 'version').map((c) => [...row(c, dir), c.actual]),
      [
        ['k3s', 'version', 'ok', VERSION],
        ['k3s-arm64', 'version', 'ok', VERSION],
      ],
    );
    const wrong = await verifyRelease(dir, { expectVersion: 'v1.31.4+k3s2' });
    assert.deepEqual(
      failures(wrong).map((c) => [...row(c, dir), c.expected, c.actual]),
      [
        ['k3s', 'version', 'mismatch', 'v1.31.4+k3s2', VERSION],
        ['k3s-arm64', 'version', 'mismatch', 'v1.31.4+k3s2', VERSION],
      ],
    );
    await assert.rejects(verifyRelease(dir, { expectVersion: 'v1.31.4' }), { code: 'USAGE', message: /\+k3s/ });
  });

  test('an image list in a sums file is checked by digest; one in none, by its form', async (t) => {
    const dir = release(t);
    writeSums(dir, 'sha256sum-amd64.txt', ['k3s-airgap-images-amd64.tar.zst', 'k3s', 'k3s-images.txt']);
    const listed = await verifyRelease(dir);
    assert.deepEqual(failures(listed), []);
    const images = listed.checks.filter((c) => c.subject.endsWith('k3s-images.txt'));
    assert.deepEqual(
      images.map((c) => row(c, dir)),
      [['k3s-images.txt', 'checksum', 'ok']],
    );
    appendFileSync(join(dir, 'k3s-images.txt'), 'rancher/no-registry-no-tag\n');
    assert.deepEqual(
      failures(await verifyRelease(dir)).map((c) => row(c, dir)),
      [['k3s-images.txt', 'checksum', 'mismatch']],
    );
    writeSums(dir, 'sha256sum-amd64.txt', ['k3s-airgap-images-amd64.tar.zst', 'k3s']);
    const bad = failures(await verifyRelease(dir));
    assert.deepEqual(
      bad.map((c) => row(c, dir)),
      [['k3s-images.txt', 'release', 'mismatch']],
    );
    assert.match(bad[0]?.detail ?? '', /^line 4: not a fully qualified image reference/);
  });

  test('no sums file, hostile sums file, no folder: input errors naming the file', async (t) => {
    const dir = release(t);
    writeFileSync(join(dir, 'sha256sum-arm64.txt'), `${'a'.repeat(64)}  ../k3s-arm64\n`);
    await assert.rejects(verifyRelease(dir), { code: 'SUMS_INVALID', file: join(dir, 'sha256sum-arm64.txt') });
    rmSync(join(dir, 'sha256sum-arm64.txt'));
    rmSync(join(dir, 'sha256sum-amd64.txt'));
    await assert.rejects(verifyRelease(dir), { code: 'NOT_FOUND', file: dir, message: /no sha256sum-<arch>\.txt/ });
    await assert.rejects(verifyRelease(join(dir, 'nope')), { code: 'NOT_FOUND' });
    await assert.rejects(verifyRelease(join(dir, 'k3s')), { code: 'USAGE' });
  });
});
