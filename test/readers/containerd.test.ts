// The containerd client and content-store reader against a real containerd (Debian's, private
// root, state and socket; test/images/containerd.ts): the Debian image fixture and a second
// image imported with `ctr -n k8s.io images import`, one re-tagged and labelled, a container
// started with `ctr run` (real runc) with pod labels and one only created. The oracle is ctr
// itself: what `ctr images ls`, `containers ls`, `containers info` and `tasks ls` print. The
// image read from the content store must give the same components as the archive it was
// imported from, read directly.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { inspectImageTarget } from '../../src/inventory/image.ts';
import type { Component } from '../../src/model/inventory.ts';
import { ContainerdClient } from '../../src/readers/containerd/client.ts';
import {
  contentStoreDir,
  contentStoreSelection,
  distinctImages,
  readContentStoreImage,
} from '../../src/readers/containerd/content-store.ts';
import type { ContainerdImage } from '../../src/readers/containerd/types.ts';
import { DEBIAN_EXTRA_NAME, DEBIAN_GO_BINARY, DEBIAN_NAME, debianImage } from '../fixtures/debian-image.ts';
import { type PrivateContainerd, startContainerd } from '../images/containerd.ts';

const NS = 'k8s.io';
const AGAIN_NAME = 'docker.io/k3sguard/again:1';
const RUN_ID = 'k3sg-run';
const CREATED_ID = 'k3sg-created';

// Started here, not in before(): whether the tests skip must be known when they are declared.
const img = await debianImage();
const started = 'skip' in img ? img : await startContainerd();
const skip = 'skip' in started ? started.skip : undefined;
const ctrd: PrivateContainerd | undefined = 'skip' in started ? undefined : started;
let client: ContainerdClient | undefined;

after(async () => {
  client?.close();
  await ctrd?.remove();
});

before(() => {
  const c = ctrd;
  if (!c || 'skip' in img) return;
  c.ctr(NS, 'images', 'import', img.extraImageTar);
  c.ctr(NS, 'images', 'tag', DEBIAN_NAME, AGAIN_NAME);
  c.ctr(NS, 'images', 'label', AGAIN_NAME, 'k3sguard.test/role=retagged', 'second=label');
  c.runPod(DEBIAN_NAME, RUN_ID, { name: 'p', namespace: 'ns' }, 'sleep', '600');
  c.ctr(NS, 'containers', 'create', '--label', 'only=created', DEBIAN_EXTRA_NAME, CREATED_ID, '/bin/true');
  client = new ContainerdClient(c.socket);
});

/** ctr's tabular output: the header line's column names, then one row per line. */
function table(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/));
}

function need(): PrivateContainerd {
  if (!ctrd) throw new Error('containerd not started');
  return ctrd;
}

function api(): ContainerdClient {
  if (!client) throw new Error('no client: the setup failed');
  return client;
}

test('version: what `ctr version` says of the server', { skip }, async () => {
  const text = need().ctr(NS, 'version');
  const server = text.slice(text.indexOf('Server:'));
  const field = (name: string) => new RegExp(`${name}:\\s+(\\S+)`).exec(server)?.[1];
  assert.deepEqual(await api().version(), { version: field('Version'), revision: field('Revision') });
});

test('images: name, target and labels as `ctr images ls` prints them', { skip }, async () => {
  const images = await api().images(NS);
  // REF TYPE DIGEST SIZE(2 words) PLATFORMS LABELS
  const rows = table(need().ctr(NS, 'images', 'ls')).map((r) => {
    const [ref, type, digest, , , platforms, labels] = r;
    return { ref, type, digest, platforms, labels };
  });
  assert.deepEqual(images.map((i) => i.name).sort(), rows.map((r) => r.ref).sort());
  assert.deepEqual(images.map((i) => i.name).sort(), [AGAIN_NAME, DEBIAN_EXTRA_NAME, DEBIAN_NAME].sort());
  const store = contentStoreDir(need().root);
  for (const row of rows) {
    const i = images.find((x) => x.name === row.ref) as ContainerdImage;
    assert.equal(i.target.mediaType, row.type);
    assert.equal(i.target.digest, row.digest);
    assert.equal(i.target.size, statSync(join(store, 'blobs/sha256', row.digest?.slice(7) ?? '')).size);
    const labels = Object.entries(i.labels)
      .map(([k, v]) => `${k}=${v}`)
      .sort();
    assert.deepEqual(labels, row.labels === '-' ? [] : (row.labels ?? '').split(',').sort());
    assert.ok(i.createdAt.getTime() <= i.updatedAt.getTime());
    assert.ok(i.createdAt.getTime() > Date.parse('2020-01-01'), 'a real creation time');
  }
  const again = images.find((i) => i.name === AGAIN_NAME);
  const debian = images.find((i) => i.name === DEBIAN_NAME);
  assert.deepEqual(again?.labels, { 'k3sguard.test/role': 'retagged', second: 'label' });
  assert.deepEqual(again?.target, debian?.target, 'a tag is another record for the same target');
  assert.deepEqual(await api().images('default'), [], 'namespaces are apart');
});

test('containers: id, image, runtime, labels as `ctr containers ls` and `containers info` say', { skip }, async () => {
  const containers = await api().containers(NS);
  const rows = table(need().ctr(NS, 'containers', 'ls'));
  assert.deepEqual(containers.map((c) => [c.id, c.image, c.runtime]).sort(), rows.sort());
  assert.deepEqual(containers.map((c) => c.id).sort(), [CREATED_ID, RUN_ID]);
  for (const c of containers) {
    const info = JSON.parse(need().ctr(NS, 'containers', 'info', c.id)) as {
      Labels: Record<string, string>;
      Snapshotter: string;
      SnapshotKey: string;
      CreatedAt: string;
      UpdatedAt: string;
      Runtime: { Name: string };
    };
    assert.deepEqual(c.labels, info.Labels);
    assert.equal(c.snapshotter, info.Snapshotter);
    assert.equal(c.snapshotKey, info.SnapshotKey);
    assert.equal(c.runtime, info.Runtime.Name);
    // Go prints nanoseconds; a Date keeps milliseconds.
    assert.equal(c.createdAt.getTime(), Math.floor(Date.parse(info.CreatedAt)));
    assert.equal(c.updatedAt.getTime(), Math.floor(Date.parse(info.UpdatedAt)));
  }
  const run = containers.find((c) => c.id === RUN_ID);
  assert.deepEqual(run?.pod, { name: 'p', namespace: 'ns' });
  assert.equal(run?.labels['io.kubernetes.pod.name'], 'p');
  assert.equal(containers.find((c) => c.id === CREATED_ID)?.pod, undefined);
  assert.deepEqual(await api().containers('default'), []);
});

test('tasks: the running container, with the pid and status `ctr tasks ls` prints', { skip }, async () => {
  const tasks = await api().tasks(NS);
  const rows = table(need().ctr(NS, 'tasks', 'ls'));
  assert.deepEqual(
    tasks.map((t) => [t.containerId, String(t.pid), t.status.toUpperCase()]),
    rows,
  );
  const [t] = tasks;
  assert.equal(t?.containerId, RUN_ID);
  assert.equal(t?.status, 'running');
  assert.equal(t?.exitedAt, undefined);
  // The pid is the container's `sleep 600`, seen from here through /proc.
  assert.equal(readFileSync(`/proc/${t?.pid}/cmdline`, 'utf8'), 'sleep\u0000600\u0000');
});

/** A component tree without where it was found (the archive's or the store's name). */
function located(c: Component): unknown {
  const { ref: _ref, location: _location, ...rest } = c as Component & { children?: Component[] };
  const children = (c as { children?: Component[] }).children;
  return children ? { ...rest, children: children.map(located) } : rest;
}

test('the images read from the content store: the same components as their archive', { skip }, async () => {
  const store = contentStoreDir(need().root);
  const records = await api().images(NS);
  if ('skip' in img) throw new Error(img.skip);
  const fromArchive = await inspectImageTarget(img.extraImageTar);
  assert.deepEqual(fromArchive.findings, []);
  const archiveImages = fromArchive.root.children;
  assert.equal(archiveImages.length, 2);
  const distinct = distinctImages(records);
  assert.deepEqual(
    distinct.map((i) => i.names).sort(),
    [[AGAIN_NAME, DEBIAN_NAME].sort(), [DEBIAN_EXTRA_NAME]].sort(),
    'one image per target, with all its names',
  );
  for (const want of archiveImages) {
    if (want.type !== 'image') throw new Error('not an image');
    const named = distinct.find((i) => i.target.digest === want.manifestDigest);
    if (!named) throw new Error(`${want.manifestDigest} is not in containerd`);
    const layout = await contentStoreSelection(store, named);
    const got = await inspectImageTarget(store, { layout });
    assert.deepEqual(got.findings, []);
    assert.equal(got.kind, 'oci-layout');
    assert.equal(got.root.children.length, 1);
    const image = got.root.children[0];
    if (image?.type !== 'image') throw new Error('not an image');
    // Every record naming the target names the image: the re-tag too.
    assert.deepEqual(image.names, named.names);
    // Named by its first name, which the re-tag changes: the rest must be the same.
    const {
      names: _a,
      name: _c,
      purl: _e,
      ...gotRest
    } = located(image) as { names: string[]; name: string; purl: string };
    const {
      names: _b,
      name: _d,
      purl: _f,
      ...wantRest
    } = located(want) as { names: string[]; name: string; purl: string };
    assert.deepEqual(gotRest, wantRest);
    if (want.names.includes(DEBIAN_NAME)) {
      const packages = image.children.filter((c) => c.type === 'os-package');
      assert.ok(packages.length > 80, `${packages.length} dpkg packages`);
      assert.ok(image.children.some((c) => c.type === 'file' && c.path === DEBIAN_GO_BINARY.path));
      assert.deepEqual(image.names, [AGAIN_NAME, DEBIAN_NAME].sort());
    }
  }
});

test('content store: a changed blob, a missing one, an index, all checked as in a layout', { skip }, async () => {
  const store = contentStoreDir(need().root);
  const debian = (await api().images(NS)).find((i) => i.name === DEBIAN_NAME) as ContainerdImage;
  const layout = await contentStoreSelection(store, { names: [DEBIAN_NAME], target: debian.target });
  // A copy of just this image's blobs, to change (containerd's own store stays as it is).
  const copy = mkdtempSync(join(tmpdir(), 'k3sg-store-'));
  try {
    mkdirSync(join(copy, 'blobs/sha256'), { recursive: true });
    const blob = (d: string) => join('blobs/sha256', d.slice('sha256:'.length));
    for (const d of layout.blobs) copyFileSync(join(store, blob(d)), join(copy, blob(d)));
    const clean = await readContentStoreImage(copy, { names: [DEBIAN_NAME], target: debian.target });
    assert.deepEqual(clean.findings, []);
    assert.equal(clean.images[0]?.layers.length, 3);
    assert.equal(clean.blobs.length, 1 + layout.blobs.length, 'index.json and exactly the selected blobs');

    // An index for two platforms, written into the copy: the amd64 manifest is followed.
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            ...descriptorOf(debian),
            digest: `sha256:${'e'.repeat(64)}`,
            platform: { os: 'linux', architecture: 'arm64' },
          },
          { ...descriptorOf(debian), platform: { os: 'linux', architecture: 'amd64' } },
        ],
      }),
    );
    const { createHash } = await import('node:crypto');
    const indexDigest = `sha256:${createHash('sha256').update(index).digest('hex')}`;
    writeFileSync(join(copy, blob(indexDigest)), index);
    const indexTarget = {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: indexDigest,
      size: index.length,
    };
    const viaIndex = await readContentStoreImage(copy, { names: [DEBIAN_NAME], target: indexTarget });
    assert.deepEqual(viaIndex.findings, []);
    assert.equal(viaIndex.images[0]?.indexDigest, indexDigest);
    assert.equal(viaIndex.images[0]?.manifestDigest, debian.target.digest);
    const arm = await readContentStoreImage(
      copy,
      { names: [DEBIAN_NAME], target: indexTarget },
      { platform: 'linux/arm64' },
    );
    assert.deepEqual(
      arm.findings.map((f) => f.id),
      ['K3SG-IMAGE-BLOB-MISSING'],
      'the arm64 manifest is not in the store',
    );

    // The config blob changed after containerd stored it: its digest no longer matches.
    const configDigest = clean.images[0]?.configDigest as string;
    writeFileSync(
      join(copy, blob(configDigest)),
      Buffer.concat([readFileSync(join(copy, blob(configDigest))), Buffer.from('\n')]),
    );
    // The top layer gone.
    const top = clean.images[0]?.layers.at(-1)?.digest as string;
    rmSync(join(copy, blob(top)));
    const tampered = await readContentStoreImage(copy, { names: [DEBIAN_NAME], target: debian.target });
    const ids = tampered.findings.map((f) => f.id).sort();
    assert.deepEqual(ids, ['K3SG-IMAGE-BLOB-DIGEST', 'K3SG-IMAGE-BLOB-MISSING', 'K3SG-IMAGE-BLOB-SIZE'].sort());
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

function descriptorOf(i: ContainerdImage) {
  return { mediaType: i.target.mediaType, digest: i.target.digest, size: i.target.size };
}
