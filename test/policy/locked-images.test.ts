// requireLocked on an image archive (`verify --policy`): every image's digest must be one of the
// images `lock add` recorded. The archive is the skopeo-made OCI archive of the two image
// fixtures (with their `.sig` tags, which are not policy subjects); the lock is made by the real
// `lock add` of it, then narrowed to one image by hand, as an operator removing a review would.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseImagePolicy } from '../../src/policy/image-policy.ts';
import type { Lockfile } from '../../src/verify/lock/format.ts';
import { k3sguard, tempDir } from '../cli/run.ts';
import { skopeoSigned } from '../verify/cosign-fixtures.ts';

const fixture = await skopeoSigned();

test('verify --policy with requireLocked: locked images pass, an image the lock does not hold fails', {
  skip: 'skip' in fixture ? fixture.skip : false,
}, (t) => {
  if ('skip' in fixture) return;
  const dir = tempDir(t);
  const lock = join(dir, 'k3sguard.lock');
  const added = k3sguard(['lock', 'add', '--lock', lock, fixture.archive]);
  assert.equal(added.code, 0, added.stdout + added.stderr);
  writeFileSync(
    join(dir, 'policy.yaml'),
    'apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n  requireLocked: k3sguard.lock\n',
  );
  const ok = k3sguard(['verify', fixture.archive, '--policy', join(dir, 'policy.yaml')]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const full = JSON.parse(readFileSync(lock, 'utf8')) as Lockfile;
  const narrowed = {
    ...full,
    artifacts: full.artifacts.map((a) => ({ ...a, images: a.images?.filter((i) => i.digest === fixture.testDigest) })),
  };
  writeFileSync(lock, JSON.stringify(narrowed));
  const bad = k3sguard(['verify', fixture.archive, '--policy', join(dir, 'policy.yaml')]);
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(
    bad.stdout,
    new RegExp(
      `K3SG-POLICY-LOCK: docker\\.io/rancher/extra:2\\.0 \\(${fixture.extraDigest}\\): its digest is none of the 1 image\\(s\\) reviewed in .*k3sguard\\.lock`,
    ),
  );
  assert.doesNotMatch(bad.stdout, /K3SG-POLICY-LOCK: docker\.io\/rancher\/test/);
});

test('requireLocked must name a file', () => {
  assert.throws(
    () =>
      parseImagePolicy('p.yaml', 'apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n  requireLocked: true\n'),
    /p\.yaml:4:18: requireLocked \(the k3sguard\.lock file\) must be a non-empty string/,
  );
  const p = parseImagePolicy(
    'p.yaml',
    'apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n  requireLocked: ../k3sguard.lock\n',
  );
  assert.equal(p.requireLocked, '../k3sguard.lock');
});
