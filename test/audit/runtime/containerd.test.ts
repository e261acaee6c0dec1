// The agent's containerd check against a real containerd (Debian's, private root, state and
// socket; test/images/containerd.ts): the Debian image fixture and its companion image
// imported with `ctr -n k8s.io images import`, a container started with `ctr run` (real runc)
// with pod labels. The policy and the lock are real files read by the real readers (the lock
// made by `lock add` of the very tarball that was imported). Each scenario changes containerd
// the way a node changes (a tag re-pointed, an image from another registry) and puts it back.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ContainerdCheckResult, checkContainerd } from '../../../src/audit/runtime/containerd.ts';
import { IMAGE_CACHE_FORMAT } from '../../../src/audit/runtime/image-cache.ts';
import type { Finding } from '../../../src/model/inventory.ts';
import { type ImagePolicy, parseImagePolicy } from '../../../src/policy/image-policy.ts';
import { contentStoreDir } from '../../../src/readers/containerd/content-store.ts';
import { readLock } from '../../../src/verify/lock/format.ts';
import { lockAddFiles } from '../../../src/verify/lock/lockfile.ts';
import { importOsv } from '../../../src/vulndb/import.ts';
import { k3sguard } from '../../cli/run.ts';
import {
  DEBIAN_EXTRA_NAME,
  DEBIAN_GO_BINARY,
  DEBIAN_NAME,
  type DebianImage,
  debianImage,
} from '../../fixtures/debian-image.ts';
import { type PrivateContainerd, startContainerd } from '../../images/containerd.ts';
import { GOVULNDB, noSharedData } from '../../vulndb/fixtures.ts';

const NS = 'k8s.io';
// Unique per run: `ctr run` names the container's cgroup after it, which the host shares.
const RUN_ID = `k3sg-runtime-${process.pid}`;
const OUTSIDE_ID = `k3sg-outside-${process.pid}`;
const SCOPE = `containerd:${NS}`;

// Started here, not in before(): whether the tests skip must be known when they are declared.
const img = await debianImage();
const started = 'skip' in img ? img : await startContainerd();
const skip = 'skip' in started ? started.skip : undefined;
const ctrd: PrivateContainerd | undefined = 'skip' in started ? undefined : started;
const work = mkdtempSync(join(tmpdir(), 'k3sg-runtime-'));

after(async () => {
  await ctrd?.remove();
  rmSync(work, { recursive: true, force: true });
});

let lockPath = '';

before(async () => {
  const c = ctrd;
  if (!c || 'skip' in img) return;
  c.ctr(NS, 'images', 'import', img.extraImageTar);
  // The record CRI keeps beside the named ones: the image id (its config digest) as a name.
  const manifest = JSON.parse(
    readFileSync(join(contentStoreDir(c.root), 'blobs', 'sha256', digestOf(DEBIAN_NAME).slice(7)), 'utf8'),
  );
  c.ctr(NS, 'images', 'tag', DEBIAN_NAME, manifest.config.digest);
  c.runPod(DEBIAN_NAME, RUN_ID, { name: 'web-0', namespace: 'shop' }, 'sleep', '600');
  // The reviewed tarball, locked as `lock add` locks it: with the digest of each of its images.
  lockPath = join(work, 'k3sguard.lock');
  const added = await lockAddFiles(lockPath, [img.extraImageTar]);
  assert.ok(added.written, JSON.stringify(added.report.checks.filter((ch) => ch.status !== 'ok')));
});

function fixture(): DebianImage {
  if ('skip' in img) throw new Error(img.skip);
  return img;
}

function need(): PrivateContainerd {
  if (!ctrd) throw new Error('containerd not started');
  return ctrd;
}

function policy(images: string): ImagePolicy {
  const file = join(work, 'policy.yaml');
  const text = `apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n${images}`;
  writeFileSync(file, text);
  return parseImagePolicy(file, text);
}

const DOCKER_ONLY = '  allowedRegistries: [docker.io]\n';

function check(extra: Partial<Parameters<typeof checkContainerd>[0]> = {}): Promise<ContainerdCheckResult> {
  const c = need();
  return checkContainerd({ socket: c.socket, contentRoot: contentStoreDir(c.root), ...extra });
}

function ids(r: ContainerdCheckResult): string[] {
  return r.findings.map((f) => `${f.id} ${f.location.join('/')}`);
}

/** `ctr images ls`: name -> target digest, the oracle for what the check lists. */
function ctrImages(): Map<string, string> {
  const rows = need()
    .ctr(NS, 'images', 'ls')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/));
  return new Map(rows.map((r) => [r[0] as string, r[2] as string]));
}

function digestOf(name: string): string {
  const d = ctrImages().get(name);
  assert.ok(d, `${name} is not in containerd`);
  return d;
}

test('baseline: every image and container listed, nothing found with a policy allowing the fixture registry', {
  skip,
}, async () => {
  const lock = readLock(lockPath, { create: false });
  const r = await check({ policy: policy(DOCKER_ONLY), lock });
  assert.equal(r.containerd.ok, true);
  assert.ok(r.containerd.ok && r.containerd.version !== '');
  assert.deepEqual(ids(r), []);
  const listed = ctrImages();
  assert.deepEqual(
    r.images.flatMap((i) => i.names.map((n) => `${n} ${i.digest}`)).sort(),
    [...listed].map(([n, d]) => `${n} ${d}`).sort(),
  );
  for (const i of r.images) assert.equal(i.verdict, 'trusted', i.names.join());
  const debian = r.images.find((i) => i.names.includes(DEBIAN_NAME));
  assert.ok(debian && debian.packages > 50 && debian.goBinaries >= 1, JSON.stringify(debian));
  assert.ok(
    debian.names.some((n) => /^sha256:[0-9a-f]{64}$/.test(n)),
    'the CRI-style id record is listed, not judged',
  );
  const run = r.containers.find((c) => c.id === RUN_ID);
  assert.ok(run);
  assert.equal(run.status, 'running');
  assert.deepEqual(run.pod, { name: 'web-0', namespace: 'shop' });
  assert.equal(run.imageDigest, digestOf(DEBIAN_NAME));
  const taskPid = Number(
    need()
      .ctr(NS, 'tasks', 'ls')
      .split('\n')
      .find((l) => l.startsWith(RUN_ID))
      ?.trim()
      .split(/\s+/)[1],
  );
  assert.equal(run.pid, taskPid);
});

test('without a policy every image is unknown; a lock alone finds nothing while the tags are where it says', {
  skip,
}, async () => {
  const r = await check({ lock: readLock(lockPath, { create: false }) });
  assert.deepEqual(ids(r), []);
  for (const i of r.images) assert.equal(i.verdict, 'unknown');
});

test('an image and a running container from a registry outside the policy', { skip }, async () => {
  const c = need();
  const outside = 'quay.io/k3sguard/outside:1';
  c.ctr(NS, 'images', 'tag', DEBIAN_EXTRA_NAME, outside);
  c.ctr(NS, 'images', 'rm', DEBIAN_EXTRA_NAME);
  const fromDebian = 'quay.io/k3sguard/debian:bookworm';
  c.ctr(NS, 'images', 'tag', DEBIAN_NAME, fromDebian);
  c.runPod(fromDebian, OUTSIDE_ID, { name: 'intruder', namespace: 'shop' }, 'sleep', '600');
  try {
    const r = await check({ policy: policy(DOCKER_ONLY) });
    const extraDigest = digestOf(outside);
    const debianDigest = digestOf(DEBIAN_NAME);
    assert.deepEqual(ids(r).sort(), [
      `K3SG-RUNTIME-CONTAINER-REGISTRY ${SCOPE}/container/${OUTSIDE_ID}`,
      `K3SG-RUNTIME-IMAGE-REGISTRY ${SCOPE}/image/${fromDebian}@${debianDigest}`,
      `K3SG-RUNTIME-IMAGE-REGISTRY ${SCOPE}/image/${outside}@${extraDigest}`,
    ]);
    const container = r.findings.find((f) => f.id === 'K3SG-RUNTIME-CONTAINER-REGISTRY');
    assert.match(container?.message ?? '', /pod shop\/intruder.*quay\.io/);
    assert.equal(container?.severity, 'critical');
    for (const i of r.images) assert.equal(i.verdict, 'untrusted', i.names.join());
  } finally {
    c.ctr(NS, 'tasks', 'kill', '-s', 'SIGKILL', OUTSIDE_ID);
    await deleteTask(OUTSIDE_ID);
    c.ctr(NS, 'containers', 'rm', OUTSIDE_ID);
    c.ctr(NS, 'images', 'rm', fromDebian);
    c.ctr(NS, 'images', 'tag', outside, DEBIAN_EXTRA_NAME);
    c.ctr(NS, 'images', 'rm', outside);
  }
});

async function deleteTask(id: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      need().ctr(NS, 'tasks', 'delete', id);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100)); // not reaped yet
    }
  }
  throw new Error(`task ${id} was not deleted`);
}

test('a tag from the locked airgap tarball re-pointed at another digest', { skip }, async () => {
  const c = need();
  const reviewed = digestOf(DEBIAN_NAME);
  const other = digestOf(DEBIAN_EXTRA_NAME);
  assert.notEqual(reviewed, other);
  const keep = 'docker.io/k3sguard/keep:1';
  c.ctr(NS, 'images', 'tag', DEBIAN_NAME, keep);
  c.ctr(NS, 'images', 'tag', '--force', DEBIAN_EXTRA_NAME, DEBIAN_NAME);
  try {
    const r = await check({ policy: policy(DOCKER_ONLY), lock: readLock(lockPath, { create: false }) });
    assert.deepEqual(ids(r), [`K3SG-RUNTIME-TAG-MOVED ${SCOPE}/image/${DEBIAN_NAME}@${other}`]);
    assert.match(r.findings[0]?.message ?? '', new RegExp(`points at ${other}.*records ${reviewed}`));
    const moved = r.images.find((i) => i.digest === other);
    assert.equal(moved?.verdict, 'untrusted');
    assert.equal(r.images.find((i) => i.digest === reviewed)?.verdict, 'trusted');
  } finally {
    c.ctr(NS, 'images', 'tag', '--force', keep, DEBIAN_NAME);
    c.ctr(NS, 'images', 'rm', keep);
  }
  assert.equal(digestOf(DEBIAN_NAME), reviewed);
});

test('a container started by tag where the policy requires digests', { skip }, async () => {
  const r = await check({ policy: policy(`${DOCKER_ONLY}  requireDigest: true\n`) });
  assert.deepEqual(ids(r), [`K3SG-RUNTIME-CONTAINER-DIGEST ${SCOPE}/container/${RUN_ID}`]);
  assert.match(
    r.findings[0]?.message ?? '',
    new RegExp(`pin it as docker.io/k3sguard/debian@${digestOf(DEBIAN_NAME)}`),
  );
});

test('signatures required: every image unknown with a finding saying why, never trusted', { skip }, async () => {
  writeFileSync(join(work, 'cosign.pub'), 'not read: containerd has no signature to check it against\n');
  const r = await check({ policy: policy(`${DOCKER_ONLY}  requireSignature:\n    key: cosign.pub\n`) });
  assert.deepEqual(
    r.findings.map((f) => f.id),
    r.images.map(() => 'K3SG-RUNTIME-SIGNATURE-UNVERIFIED'),
  );
  for (const i of r.images) assert.equal(i.verdict, 'unknown');
});

test('the digest cache: an unchanged image is not read again, a damaged entry is not trusted', { skip }, async () => {
  const cacheDir = join(work, 'cache');
  const t0 = performance.now();
  const first = await check({ cacheDir, policy: policy(DOCKER_ONLY) });
  const t1 = performance.now();
  const second = await check({ cacheDir, policy: policy(DOCKER_ONLY) });
  const t2 = performance.now();
  console.log(
    `# ${first.images.length} images: first check ${(t1 - t0).toFixed(0)} ms (read), second ${(t2 - t1).toFixed(0)} ms (cached)`,
  );
  assert.deepEqual(
    first.images.map((i) => i.fromCache),
    first.images.map(() => false),
  );
  assert.deepEqual(
    second.images.map((i) => i.fromCache),
    second.images.map(() => true),
  );
  const strip = (r: ContainerdCheckResult) => r.images.map(({ fromCache: _, ...i }) => i);
  assert.deepEqual(strip(second), strip(first));
  assert.deepEqual(second.findings, first.findings);

  // Proof that nothing is read: with the debian image's layers gone from the store, the cached
  // check sees nothing amiss, while a check without the cache finds them missing.
  const store = contentStoreDir(need().root);
  const debian = first.images.find((i) => i.names.includes(DEBIAN_NAME));
  assert.ok(debian);
  const aside = join(work, 'aside');
  const blobs = readdirSync(join(store, 'blobs', 'sha256')).filter((b) => isLayerOf(store, debian.digest, b));
  assert.ok(blobs.length >= 3);
  rmSync(aside, { recursive: true, force: true });
  mkdirSync(aside);
  for (const b of blobs) renameSync(join(store, 'blobs', 'sha256', b), join(aside, b));
  try {
    const cached = await check({ cacheDir, policy: policy(DOCKER_ONLY) });
    assert.deepEqual(ids(cached), []);
    assert.equal(cached.images.find((i) => i.digest === debian.digest)?.fromCache, true);
    const uncached = await check({ policy: policy(DOCKER_ONLY) });
    assert.ok(
      ids(uncached).some((f) => f.startsWith('K3SG-IMAGE-BLOB-MISSING')),
      ids(uncached).join('\n'),
    );
    assert.equal(uncached.images.find((i) => i.digest === debian.digest)?.verdict, 'unknown');
  } finally {
    for (const b of blobs) renameSync(join(aside, b), join(store, 'blobs', 'sha256', b));
  }

  // A damaged entry (cut short), one of another format, and one claiming another digest: each
  // is read again and rewritten.
  const entries = readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
  assert.equal(entries.length, first.images.length);
  const [a, b, c] = entries.map((e) => join(cacheDir, e));
  assert.ok(a && b);
  const text = readFileSync(a, 'utf8');
  writeFileSync(a, text.slice(0, text.length / 2));
  const other = JSON.parse(readFileSync(b, 'utf8'));
  writeFileSync(b, JSON.stringify({ ...other, format: `${IMAGE_CACHE_FORMAT}-old` }));
  if (c) {
    const forged = JSON.parse(readFileSync(c, 'utf8'));
    forged.reading.packages += 1; // the reading no longer matches its checksum
    writeFileSync(c, JSON.stringify(forged));
  }
  const third = await check({ cacheDir, policy: policy(DOCKER_ONLY) });
  assert.equal(third.images.filter((i) => !i.fromCache).length, c ? 3 : 2);
  assert.deepEqual(strip(third), strip(first));
  const fourth = await check({ cacheDir, policy: policy(DOCKER_ONLY) });
  assert.ok(fourth.images.every((i) => i.fromCache));

  // An image removed from containerd: its entry goes at the next check; a temp file left by a
  // write that was cut short goes too; a file that is no entry stays.
  const extra = first.images.find((i) => i.names.includes(DEBIAN_EXTRA_NAME));
  assert.ok(extra);
  writeFileSync(join(cacheDir, `${extra.digest.slice(7)}.linux-amd64.json.99999999.0123456789ab.tmp`), '{"format":');
  writeFileSync(join(cacheDir, 'notes.txt'), 'not an entry\n');
  need().ctr(NS, 'images', 'rm', DEBIAN_EXTRA_NAME);
  try {
    const fifth = await check({ cacheDir, policy: policy(DOCKER_ONLY) });
    assert.equal(fifth.images.length, first.images.length - 1);
    assert.deepEqual(readdirSync(cacheDir).sort(), [`${debian.digest.slice(7)}.linux-amd64.json`, 'notes.txt']);
  } finally {
    need().ctr(NS, 'images', 'import', fixture().extraImageTar);
  }
  assert.ok(ctrImages().has(DEBIAN_EXTRA_NAME));
});

/** Whether blob `hex` is a layer of the manifest `digest` (read from the store). */
function isLayerOf(store: string, digest: string, hex: string): boolean {
  const manifest = JSON.parse(readFileSync(join(store, 'blobs', 'sha256', digest.slice(7)), 'utf8'));
  const layers: Array<{ digest: string }> = manifest.layers ?? [];
  return layers.some((l) => l.digest === `sha256:${hex}`);
}

/**
 * Two records written for this test, as test/cli/run.ts's oneRecordDb: the shared Go records
 * match nothing in the fixture (its Go binary was built after them), so these make sure the
 * match really happens, one for a module the Go binary was built with and one for the source
 * package of a Debian package in the image. Their ids say they are not real advisories.
 */
function testRecords(dir: string): string[] {
  const go = join(dir, 'GO-2099-0101.json');
  writeFileSync(
    go,
    JSON.stringify({
      schema_version: '1.6.0',
      id: 'GO-2099-0101',
      modified: '2026-01-01T00:00:00Z',
      summary: 'a test record for a module the fixture binary was built with',
      affected: [
        {
          package: { ecosystem: 'Go', name: 'al.essio.dev/pkg/shellescape' },
          ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.6.2' }] }],
        },
      ],
    }),
  );
  const deb = join(dir, 'DEBIAN-TEST-0001.json');
  writeFileSync(
    deb,
    JSON.stringify({
      schema_version: '1.6.0',
      id: 'DEBIAN-TEST-0001',
      modified: '2026-01-01T00:00:00Z',
      summary: 'a test record for a source package of the fixture image',
      affected: [
        {
          package: { ecosystem: 'Debian:12', name: 'tar' },
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.34+dfsg-1.2+deb12u9' }] }],
        },
      ],
    }),
  );
  return [go, deb];
}

test('vulnerabilities of the image as containerd holds it are those `scan` finds in the tarball it was imported from', {
  skip: skip ?? noSharedData,
}, async () => {
  const dir = join(work, 'records');
  mkdirSync(dir, { recursive: true });
  const db = join(work, 'vulndb.sqlite');
  await importOsv(db, [GOVULNDB, ...testRecords(dir)]);
  const r = await check({ vulnDb: db, policy: policy(DOCKER_ONLY) });
  const debian = r.images.find((i) => i.names.includes(DEBIAN_NAME));
  assert.ok(debian);
  const subject = `${SCOPE}/image/docker.io/k3sguard/debian@${debian.digest}`;
  for (const f of debian.vulnerabilities) assert.ok(f.vulnerability && f.location.join('/').startsWith(`${subject}/`));
  const found = debian.vulnerabilities.map((f) => `${f.id} ${f.location.slice(3).join('/')}`).sort();
  assert.deepEqual(found, [`DEBIAN-TEST-0001 tar:amd64`, `GO-2099-0101 ${DEBIAN_GO_BINARY.path}`]);
  // The oracle: `k3sguard scan` of the archive that was imported, with the same database.
  const scanned = k3sguard(['scan', '--json', '--db', db, fixture().extraImageTar]);
  assert.equal(scanned.code, 1, scanned.stderr);
  const viaScan = (JSON.parse(scanned.stdout) as { findings: Finding[] }).findings
    .filter((f) => f.vulnerability && f.location[1] === DEBIAN_NAME)
    .map((f) => `${f.id} ${f.location.slice(2).join('/')}`)
    .sort();
  assert.deepEqual(found, viaScan);
  console.log(`# ${DEBIAN_NAME}: ${found.join('; ')}`);
  // Vulnerabilities are not policy verdicts: the image stays trusted, the findings empty.
  assert.equal(debian.verdict, 'trusted');
  assert.deepEqual(ids(r), []);
});

test('containerd frozen or stopped: ok false with a code, nothing thrown', { skip }, async () => {
  const c = need();
  await c.freeze();
  try {
    const r = await check({ deadlineMs: 500 });
    assert.equal(r.containerd.ok, false);
    assert.ok(!r.containerd.ok && r.containerd.code === 'CONTAINERD_TIMEOUT', JSON.stringify(r.containerd));
    assert.deepEqual([r.images, r.containers, r.findings], [[], [], []]);
  } finally {
    await c.thaw();
  }
  await c.stop();
  const r = await check({ deadlineMs: 2000 });
  assert.ok(!r.containerd.ok, JSON.stringify(r.containerd));
  assert.match(r.containerd.code, /^CONTAINERD_(UNAVAILABLE|NO_SOCKET)$/);
  assert.match(r.containerd.message, /containerd|socket/);
});
