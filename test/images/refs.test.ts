// Reference normalization: the spellings of one image in RepoTags, containerd annotations and
// k3s-images.txt compare equal; things that are not references are refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeImageRef, parseImagesList, refNameAsImage } from '../../src/readers/images/refs.ts';

test('normalizes like Docker: default registry, library/, latest', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const cases: Array<[string, string | undefined]> = [
    ['rancher/mirrored-pause:3.6', 'docker.io/rancher/mirrored-pause:3.6'],
    ['docker.io/rancher/mirrored-pause:3.6', 'docker.io/rancher/mirrored-pause:3.6'],
    ['busybox', 'docker.io/library/busybox:latest'],
    ['registry.example.com:5000/team/app:v1.2', 'registry.example.com:5000/team/app:v1.2'],
    ['localhost/app', 'localhost/app:latest'],
    [`rancher/klipper-helm@${digest}`, `docker.io/rancher/klipper-helm@${digest}`],
    [
      `rancher/klipper-helm:v0.9.12-build20251215@${digest}`,
      `docker.io/rancher/klipper-helm:v0.9.12-build20251215@${digest}`,
    ],
    ['Rancher/Upper:1', undefined],
    ['rancher/app@sha256:short', undefined],
    ['rancher/app:bad tag', undefined],
    ['', undefined],
  ];
  for (const [input, want] of cases) assert.equal(normalizeImageRef(input), want, input);
});

test('ref.name annotations: a bare tag names no image', () => {
  assert.equal(refNameAsImage('3.6'), undefined);
  assert.equal(refNameAsImage('latest'), undefined);
  assert.equal(refNameAsImage('docker.io/rancher/test:1.0'), 'docker.io/rancher/test:1.0');
});

test('k3s-images.txt: comments and blanks skipped, bad lines reported with their number', () => {
  const { images, invalid } = parseImagesList(
    '# default images\ndocker.io/rancher/mirrored-pause:3.6\n\n  docker.io/rancher/klipper-lb:v0.4.13  \nnot a ref\n',
  );
  assert.deepEqual(
    images.map((i) => [i.line, i.ref.repository, i.ref.tag]),
    [
      [2, 'docker.io/rancher/mirrored-pause', '3.6'],
      [4, 'docker.io/rancher/klipper-lb', 'v0.4.13'],
    ],
  );
  assert.deepEqual(invalid, [{ line: 5, text: 'not a ref' }]);
});
