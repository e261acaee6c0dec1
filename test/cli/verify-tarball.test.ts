// verify of a gzip or tar that is no image archive (an npm package, a source tarball): the
// check asked for (sums, bundle) judges it, the image integrity check stands aside with a
// warning; a damaged copy fails that check (exit 1) instead of ending as unreadable input.
// Named alone (only the image check could apply), it is still unreadable input: exit 2.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { k3sguard, tempDir } from './run.ts';

function tarball(dir: string): string {
  const src = join(dir, 'package');
  mkdirSync(src);
  writeFileSync(join(src, 'package.json'), '{"name":"x","version":"1.0.0"}\n');
  writeFileSync(join(src, 'index.js'), 'export const x = 1;\n'.repeat(200));
  const tgz = join(dir, 'x-1.0.0.tgz');
  execFileSync('tar', ['-czf', tgz, '-C', dir, 'package']);
  return tgz;
}

test('verify --checksums / --bundle of an npm-style .tgz: passes, and a changed byte fails with exit 1', (t) => {
  const dir = tempDir(t);
  const tgz = tarball(dir);
  const sums = join(dir, 'sha256sum.txt');
  writeFileSync(sums, `${createHash('sha256').update(readFileSync(tgz)).digest('hex')}  x-1.0.0.tgz\n`);
  const ok = k3sguard(['verify', '--checksums', sums, tgz]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stderr, /not checked as an image archive/);
  const key = join(dir, 'k.pem');
  assert.equal(k3sguard(['sign', '--generate-key', key]).code, 0);
  assert.equal(k3sguard(['sign', tgz, '--key', key]).code, 0);
  const signed = k3sguard(['verify', tgz, '--bundle', `${tgz}.sigstore.json`, '--key', join(dir, 'k.pub')]);
  assert.equal(signed.code, 0, signed.stdout + signed.stderr);

  const bytes = readFileSync(tgz);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] as number) ^ 0x01;
  writeFileSync(tgz, bytes);
  const bad = k3sguard(['verify', '--checksums', sums, tgz]);
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout, /MISMATCH/);
  const badSig = k3sguard(['verify', tgz, '--bundle', `${tgz}.sigstore.json`, '--key', join(dir, 'k.pub')]);
  assert.equal(badSig.code, 1, badSig.stdout + badSig.stderr);
});

test('verify of a .tgz that is no image, with nothing else to check it against: exit 2, one line', (t) => {
  const tgz = tarball(tempDir(t));
  const r = k3sguard(['verify', tgz]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /neither index\.json \(OCI\) nor manifest\.json/);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1);
});
