// `ir collect` against a real (private) containerd holding the Debian fixture's images: the
// archive lists what containerd knows, by name and digest, with `ctr images ls` as the oracle,
// and still verifies.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { k3sguard, tempDir } from '../cli/run.ts';
import { debianImage } from '../fixtures/debian-image.ts';
import { withContainerd } from '../images/containerd.ts';

test('ir collect lists the images containerd holds, and the archive verifies', async (t) => {
  const img = await debianImage();
  if ('skip' in img) {
    t.skip(img.skip);
    return;
  }
  const dir = tempDir(t, 'k3sg-ir-ctr-');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(dir, 'org.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'org.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  const root = join(dir, 'node');
  mkdirSync(join(root, 'etc/rancher/k3s'), { recursive: true });
  const ran = await withContainerd((c) => {
    c.ctr('images', 'import', img.extraImageTar);
    // `NAME TYPE DIGEST ...`: the oracle for what the archive must list.
    const listed = c
      .ctr('images', 'ls')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s+/))
      .map(([name, , digest]) => ({ name, digest }));
    assert.ok(listed.length > 0);
    const out = join(dir, 'evidence.tar.zst');
    const r = k3sguard([
      'ir',
      'collect',
      '--root',
      root,
      '--containerd-socket',
      c.address,
      '-o',
      out,
      '--key',
      join(dir, 'org.pem'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /containerd/);
    const files = join(dir, 'x');
    mkdirSync(files);
    execFileSync('sh', ['-c', 'zstd -dc "$0" | tar -x -C "$1" containerd.json', out, files]);
    const state = JSON.parse(readFileSync(join(files, 'containerd.json'), 'utf8'));
    assert.match(state.version, /\d+\.\d+/);
    for (const l of listed) {
      assert.ok(
        state.images.some((i: { name: string; digest: string }) => i.name === l.name && i.digest === l.digest),
        `${l.name}@${l.digest} not in containerd.json`,
      );
    }
    const v = k3sguard(['ir', 'verify', out, '--key', join(dir, 'org.pub')]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });
  if (ran && typeof ran === 'object' && 'skip' in ran) t.skip(ran.skip);
});
