// The rules about the installed k3s binary and its extracted bundle, each once firing and once
// not, on the K3s-shaped binary (a real Go wrapper embedding a real zstd/tar bundle) and its
// bundle extracted with zstd and tar as K3s does.
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, chownSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditNode, type NodeAuditOptions } from '../../../src/audit/node/index.ts';
import type { K3sShaped } from '../../fixtures/k3s-shaped.ts';
import { realBinary } from '../../fixtures/realbins.ts';
import { extractBundle, installK3s, k3sBinary, lockOf, put, tempDir } from './node-fixtures.ts';

type T = Parameters<typeof tempDir>[0] & Parameters<typeof k3sBinary>[0];
const BIN = 'usr/local/bin/k3s';
const CURRENT = 'var/lib/rancher/k3s/data/current';

/** A node with just the binary and its data dir, locked as installed; `change`, then the audit. */
async function audit(
  t: T,
  change: (root: string, bundleHash: string, k3s: K3sShaped) => void,
  opts: NodeAuditOptions = {},
) {
  const k3s = await k3sBinary(t);
  if (!k3s) return undefined;
  const root = tempDir(t);
  installK3s(root, k3s);
  const lock = lockOf(root, [BIN]);
  change(root, k3s.bundleHash, k3s);
  const r = await auditNode(root, { lock, ...opts });
  assert.deepEqual(r.problems, []);
  return { r, ids: r.findings.map((f) => f.id).sort(), k3s };
}

test('the installed K3s-shaped binary and its fresh data dir: no findings', async (t) => {
  const a = await audit(t, () => {});
  if (!a) return;
  assert.deepEqual(a.r.findings, []);
  assert.ok(a.r.filesAudited.includes(BIN));
  assert.ok(a.r.filesAudited.includes(`var/lib/rancher/k3s/data/${a.k3s.bundleHash}`));
});

test('BINARY-WRITABLE fires for a group-writable binary or a world-writable directory, not at 0755', async (t) => {
  const a = await audit(t, (root) => {
    chmodSync(join(root, BIN), 0o775);
    chmodSync(join(root, 'usr/local/bin'), 0o777);
  });
  if (!a) return;
  assert.deepEqual(a.ids, ['K3SG-NODE-BINARY-WRITABLE']);
  assert.match(
    a.r.findings[0]?.message ?? '',
    /it is writable by its group \(mode 0775\); its directory \/usr\/local\/bin is writable by every user/,
  );
  const ok = await audit(t, (root) => chmodSync(join(root, BIN), 0o755));
  assert.deepEqual(ok?.ids, []);
});

test('BINARY-WRITABLE fires for a binary owned by another user; rootUid names the owner of an unpacked tree', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('changing a file owner needs root');
  const chown = (root: string) => {
    chownSync(join(root, BIN), 1000, 1000);
    chownSync(join(root, 'usr/local/bin'), 1000, 1000);
  };
  const a = await audit(t, chown);
  if (!a) return;
  assert.deepEqual(a.ids, ['K3SG-NODE-BINARY-WRITABLE']);
  assert.match(a.r.findings[0]?.message ?? '', /it is owned by uid 1000, not root/);
  assert.deepEqual((await audit(t, chown, { rootUid: 1000 }))?.ids, []);
});

test('BINARY-UNLOCKED fires when the digest is not locked as k3s, not when it is (or with no lock)', async (t) => {
  const a = await audit(t, (root) => appendFileSync(join(root, BIN), 'x'));
  if (!a) return;
  assert.deepEqual(a.ids, ['K3SG-NODE-BINARY-UNLOCKED']);
  assert.match(
    a.r.findings[0]?.message ?? '',
    /\(K3s v1\.31\.4\+k3s1\): its sha256 [0-9a-f]{64} is not the one locked for k3s/,
  );
  const root = tempDir(t);
  installK3s(root, a.k3s);
  assert.deepEqual((await auditNode(root, {})).findings, []);
});

test('BINARY-BUNDLE fires on a bundle that does not match its name and on a non-K3s binary, not on a good one', async (t) => {
  const good = await k3sBinary(t);
  const flipped = good && (await k3sBinary(t, 'frame-byte-flipped'));
  if (!good || !flipped) return;
  const root = tempDir(t);
  installK3s(root, good, flipped);
  const r = await auditNode(root, {});
  assert.deepEqual(
    r.findings.map((f) => f.id),
    ['K3SG-NODE-BINARY-BUNDLE'],
  );
  assert.match(
    r.findings[0]?.message ?? '',
    new RegExp(`names its bundle ${good.bundleHash}, but the embedded bytes hash to`),
  );
  // data/current is still the directory K3s would extract that name to: no DATA-CURRENT.
  const runc = realBinary('debian-runc');
  if ('skip' in runc) return t.skip(runc.skip);
  const other = tempDir(t);
  put(other, BIN, readFileSync(runc.path), 0o755);
  const notK3s = await auditNode(other, {});
  assert.deepEqual(
    notK3s.findings.map((f) => f.id),
    ['K3SG-NODE-BINARY-BUNDLE'],
  );
  assert.match(notK3s.findings[0]?.message ?? '', /embeds no <sha256>\.tar\.zst bundle: it is not a K3s binary/);
});

test("DATA-CURRENT fires when data/current is another data dir, not when it is the binary's bundle", async (t) => {
  const other = 'b'.repeat(64);
  const a = await audit(t, (root, hash, k3s) => {
    const rel = extractBundle(root, k3s, other);
    rmSync(join(root, CURRENT));
    symlinkSync(`/${rel}`, join(root, CURRENT));
    assert.notEqual(hash, other);
  });
  if (!a) return;
  assert.deepEqual(a.ids, ['K3SG-NODE-DATA-CURRENT']);
  assert.equal(a.r.findings[0]?.region?.file, CURRENT);
  assert.match(a.r.findings[0]?.message ?? '', new RegExp(`data/current is /var/lib/rancher/k3s/data/${other}, but`));
  // A relative link to the binary's own bundle is as good as K3s's absolute one.
  const b = await audit(t, (root, hash) => {
    rmSync(join(root, CURRENT));
    symlinkSync(hash, join(root, CURRENT));
  });
  assert.deepEqual(b?.ids, []);
});

test('DATA-MODIFIED fires for each change made after extraction, not for a fresh extraction', async (t) => {
  const a = await audit(t, (root, hash) => {
    const bin = join(root, `var/lib/rancher/k3s/data/${hash}/bin`);
    appendFileSync(join(bin, 'runc'), 'backdoor');
    rmSync(join(bin, 'ctr'));
    symlinkSync('/tmp/evil', join(bin, 'ctr'));
  });
  if (!a) return;
  const got = a.r.findings.map((f) => `${f.id} ${f.region?.file.replace(/.*\/data\/[0-9a-f]{64}\//, '')}`).sort();
  assert.ok(got.includes('K3SG-NODE-DATA-MODIFIED bin/runc'), got.join('\n'));
  assert.ok(
    got.some((s) => s === 'K3SG-NODE-DATA-MODIFIED bin/ctr'),
    got.join('\n'),
  );
  assert.ok(
    got.every((s) => s.startsWith('K3SG-NODE-DATA-MODIFIED')),
    got.join('\n'),
  );
  assert.match(
    a.r.findings.find((f) => f.region?.file.endsWith('bin/runc'))?.message ?? '',
    /K3SG-BUNDLE-MEMBER-MODIFIED/,
  );
});
