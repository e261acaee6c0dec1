// Evidence whose contents are hostile though the archive itself is well formed (it came from a
// compromised node): `ir diff` and `ir playbook` read it within bounds, never crash or hang; a
// member nested past the JSON depth limit or not matching the manifest is one line, exit 2.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { k3sguard, tempDir } from '../cli/run.ts';
import { evidenceArchive } from './nodes.ts';

const DIGESTS = Buffer.from(
  '[{"path":"/etc/rancher/k3s/config.yaml","type":"file","sha256":"' + 'a'.repeat(64) + '"}]',
);

test('a YAML alias bomb in config.yaml: the settings are compared by digest only, with a note', (t) => {
  const dir = tempDir(t, 'k3sg-irh-');
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 12; i++)
    bomb.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(',')}]`,
    );
  const file = join(dir, 'bomb.tar.zst');
  evidenceArchive(file, 'node1', {
    'digests.json': DIGESTS,
    'files/etc/rancher/k3s/config.yaml': Buffer.from(`${bomb.join('\n')}\n`),
  });
  const r = k3sguard(['ir', 'diff', file, file]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /config\.yaml: not read \(.*\): compared by digest only/);
  const p = k3sguard(['ir', 'playbook', '--evidence', file, '--k3s-version', 'v1.31.4+k3s1']);
  assert.equal(p.code, 0, p.stderr);
});

test('a member nested past the JSON depth limit, or not matching the manifest: one line, exit 2', (t) => {
  const dir = tempDir(t, 'k3sg-irh-');
  const deep = join(dir, 'deep.tar.zst');
  evidenceArchive(deep, 'node1', { 'digests.json': Buffer.from('['.repeat(200_000)) });
  const tampered = join(dir, 'tampered.tar.zst');
  evidenceArchive(tampered, 'node1', { 'digests.json': Buffer.from('[]') }, { 'digests.json': DIGESTS });
  const good = join(dir, 'good.tar.zst');
  evidenceArchive(good, 'node1', { 'digests.json': DIGESTS });
  const cases: Array<[string, RegExp]> = [[deep, /digests\.json is not JSON \(.*nest/]];
  for (const [file, problem] of cases) {
    for (const args of [
      ['ir', 'diff', good, file],
      ['ir', 'playbook', '--evidence', file],
    ]) {
      const r = k3sguard(args);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, problem);
    }
  }
});
