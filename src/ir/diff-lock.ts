// `ir diff` against the lock of reviewed digests: the lock holds digests by file name (and the
// images of locked airgap tarballs), not a node's layout or settings, so only what it names is
// compared (docs/incident-response.md).
import { posix } from 'node:path';
import { K3S_BINARY } from '../audit/node/binary.ts';
import type { Lockfile } from '../verify/lock/format.ts';
import { type Change, type DiffResult, groupOf, order, processChanges } from './diff.ts';
import type { NodeState } from './node-state.ts';

const K3S_ASSET = /^k3s(-[a-z0-9]+)?$/;

/**
 * Against the lock: the lock holds reviewed digests by file name (and the images of locked
 * airgap tarballs), not a node's layout, so only what it names is compared: the binary (any
 * locked K3s release binary, since install.sh installs each as /usr/local/bin/k3s), its version
 * and bundle, data/current, locked file names wherever they are on the node, the images of
 * locked tarballs, and, in a folder where the lock names files, every file it does not name.
 */
export function diffAgainstLock(lockFile: string, lock: Lockfile, b: NodeState): DiffResult {
  const out: Change[] = [];
  const notes = [...b.notes];
  const k3s = lock.artifacts.filter((x) => K3S_ASSET.test(x.name));
  const byName = new Map<string, string[]>();
  for (const x of lock.artifacts) byName.set(x.name, [...(byName.get(x.name) ?? []), x.sha256]);
  const versions = new Set(k3s.map((x) => x.k3s?.version ?? x.version).filter((v): v is string => !!v));
  const bundles = new Set(k3s.map((x) => x.k3s?.bundleHash).filter((v): v is string => !!v));
  const locked = (xs: Iterable<string>) => [...xs].join(', ');
  const bin = b.files.get(K3S_BINARY);
  if (k3s.length === 0) notes.push('the lock holds no K3s binary: the binary not compared');
  else if (bin?.sha256 && !k3s.some((x) => x.sha256 === bin.sha256)) {
    out.push({
      group: 'binary',
      change: 'changed',
      subject: K3S_BINARY,
      before: `locked: ${k3s.map((x) => `sha256:${x.sha256}`).join(', ')}`,
      after: `sha256:${bin.sha256}`,
      why: 'not a digest reviewed in the lock',
    });
  }
  if (versions.size > 0 && b.binary?.version && !versions.has(b.binary.version)) {
    out.push({
      group: 'binary',
      change: 'changed',
      subject: `${K3S_BINARY} K3s version`,
      before: `locked: ${locked(versions)}`,
      after: b.binary.version,
    });
  }
  if (bundles.size > 0 && b.binary?.bundleHash && !bundles.has(b.binary.bundleHash)) {
    out.push({
      group: 'binary',
      change: 'changed',
      subject: `${K3S_BINARY} embedded bundle hash`,
      before: `locked: ${locked(bundles)}`,
      after: b.binary.bundleHash,
    });
  }
  const current = /([0-9a-f]{64})\/?$/.exec(b.files.get(`${b.dataDir}/data/current`)?.target ?? '')?.[1];
  if (bundles.size > 0 && current && !bundles.has(current)) {
    out.push({
      group: 'data-dir',
      change: 'changed',
      subject: `${b.dataDir}/data/current`,
      before: `locked bundle: ${locked(bundles)}`,
      after: `data/${current}`,
      why: 'K3s runs a bundle that is not the one of a locked binary',
    });
  }
  // Locked names wherever they are, and unlocked files in folders the lock covers.
  const lockedDirs = new Set<string>();
  for (const [p, f] of b.files) {
    if (f.type === 'file' && byName.has(posix.basename(p)) && p !== K3S_BINARY) lockedDirs.add(posix.dirname(p));
  }
  for (const [p, f] of [...b.files].sort(([x], [y]) => (x < y ? -1 : 1))) {
    const group = groupOf(p, b);
    if (!group || group === 'binary' || group === 'data-dir' || f.type !== 'file' || !f.sha256) continue;
    const want = byName.get(posix.basename(p));
    if (want && !want.includes(f.sha256)) {
      out.push({
        group,
        change: 'changed',
        subject: p,
        before: `locked: ${want.map((d) => `sha256:${d}`).join(', ')}`,
        after: `sha256:${f.sha256}`,
      });
    } else if (!want && lockedDirs.has(posix.dirname(p)) && !p.endsWith('.skip') && !b.files.has(`${p}.skip`)) {
      out.push({
        group,
        change: 'not-in-lock',
        subject: p,
        after: `sha256:${f.sha256}`,
        why:
          group === 'manifests'
            ? 'not reviewed, and K3s applies every file here at start'
            : 'not reviewed: the lock names other files in this folder',
      });
    }
  }
  const images = new Map<string, string[]>();
  for (const x of lock.artifacts)
    for (const i of x.images ?? []) if (i.name) images.set(i.name, [...(images.get(i.name) ?? []), i.digest]);
  if (images.size > 0 && b.images) {
    for (const [name, digest] of [...b.images].sort(([x], [y]) => (x < y ? -1 : 1))) {
      const want = images.get(name);
      if (want && !want.includes(digest)) {
        out.push({
          group: 'images',
          change: 'changed',
          subject: name,
          before: `locked: ${want.join(', ')}`,
          after: digest,
          why: 'the name points at content other than the reviewed one (re-pointed)',
        });
      }
    }
  }
  processChanges(
    b,
    (exe) => (exe === K3S_BINARY ? k3s[0]?.sha256 : undefined),
    () => false,
    out,
  );
  // A binary the lock vouches for is not a replaced one: only flag processes against any locked digest.
  const kept = out.filter(
    (c) =>
      !(
        c.group === 'processes' &&
        c.subject.endsWith(` ${K3S_BINARY}`) &&
        k3s.some((x) => c.after === `sha256:${x.sha256}`)
      ),
  );
  notes.push(
    'a lock holds reviewed digests, not settings: registry and config settings are compared only between two evidence archives',
  );
  return {
    baseline: { kind: 'lock', file: lockFile },
    evidence: { file: b.file, host: b.host, collectedAt: b.collectedAt },
    changes: kept.sort(order),
    notes,
  };
}
