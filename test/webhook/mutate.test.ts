// The mutating endpoint (`POST /mutate`) over real HTTPS against the real registry (harness.ts):
// tags pinned to the digests verified, in every pod-template kind and container list, the patch
// applied as the API server applies it and the result validated; what could not be verified,
// what is pinned already and what an UPDATE leaves unchanged are not touched.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ALL_KINDS,
  admit,
  applyPatch,
  fixture,
  patchOps,
  pod,
  policy,
  post,
  type Response,
  review,
  signedImage,
  skip,
  useWebhook,
  W,
  workload,
} from './harness.ts';

useWebhook();

test('the mutating endpoint pins verified tags to their digests in every kind and container list', {
  skip,
}, async () => {
  if ('skip' in fixture) return;
  W.decision.policy = policy(); // digests required: the mutation is what meets the rule
  const tag = `${W.registry.host}/rancher/test:1.0`;
  for (const kind of ALL_KINDS) {
    const spec = pod([{ name: 'app', image: tag }], {
      initContainers: [{ name: 'setup', image: tag }],
      ephemeralContainers: [{ name: 'debugger', image: tag }],
    });
    const object = workload(kind, spec);
    // Before the mutation the validating webhook refuses the tags.
    assert.equal((await admit(kind, object)).allowed, false);
    const m = await admit(kind, object, undefined, '/mutate');
    assert.equal(m.allowed, true);
    const base =
      kind === 'Pod' ? '/spec' : kind === 'CronJob' ? '/spec/jobTemplate/spec/template/spec' : '/spec/template/spec';
    assert.deepEqual(
      patchOps(m)
        .map((o) => o.path)
        .sort(),
      [`${base}/containers/0/image`, `${base}/ephemeralContainers/0/image`, `${base}/initContainers/0/image`],
      kind,
    );
    for (const o of patchOps(m)) assert.equal(o.value, `${tag}@${fixture.testDigest}`);
    // The mutated object is what the validating webhook then sees: admitted.
    const after = await admit(kind, applyPatch(object, m));
    assert.equal(after.allowed, true, `${kind}: ${after.status?.message}`);
  }
});

test('the mutating endpoint leaves alone what it could not verify, and what is pinned already', { skip }, async () => {
  if ('skip' in fixture) return;
  W.decision.policy = policy();
  const m = await admit(
    'Pod',
    {
      spec: pod([
        { name: 'unsigned', image: `${W.registry.host}/rancher/unsigned:1` },
        { name: 'pinned', image: signedImage() },
        { name: 'elsewhere', image: 'docker.io/library/debian:12' },
        { name: 'signed', image: `${W.registry.host}/rancher/test:1.0` },
      ]),
    },
    undefined,
    '/mutate',
  );
  assert.equal(m.allowed, true);
  assert.equal(m.warnings, undefined);
  assert.deepEqual(patchOps(m), [
    {
      op: 'replace',
      path: '/spec/containers/3/image',
      value: `${W.registry.host}/rancher/test:1.0@${fixture.testDigest}`,
    },
  ]);
  const none = await admit('Pod', { spec: pod([{ name: 'pinned', image: signedImage() }]) }, undefined, '/mutate');
  assert.equal(none.patch, undefined);
  assert.equal(none.patchType, undefined);
  // Excluded namespaces are not mutated either.
  const system = await admit(
    'Pod',
    { spec: pod([{ name: 'a', image: `${W.registry.host}/rancher/test:1.0` }]) },
    'kube-system',
    '/mutate',
  );
  assert.equal(system.patch, undefined);
});

test('on UPDATE the mutating endpoint pins only the images the update sets or changes', { skip }, async () => {
  if ('skip' in fixture) return;
  W.decision.policy = policy();
  const tag = `${W.registry.host}/rancher/test:1.0`;
  const old = { spec: pod([{ name: 'app', image: tag }]) };
  const updated = {
    spec: pod([
      { name: 'app', image: tag },
      { name: 'side', image: tag },
    ]),
  };
  const body = review('Pod', updated);
  const a = await post(
    '/mutate',
    JSON.stringify({ ...body, request: { ...body.request, operation: 'UPDATE', oldObject: old } }),
  );
  assert.equal(a.status, 200);
  const r = a.body.response as Response;
  // The unchanged "app" would restart a running container if its spec changed: left alone.
  assert.deepEqual(patchOps(r), [
    { op: 'replace', path: '/spec/containers/1/image', value: `${tag}@${fixture.testDigest}` },
  ]);
});
