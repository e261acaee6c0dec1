// An extracted bundle, as K3s leaves it in data/<hash>/ (extracted here by GNU tar from a
// real bundle), read from disk: the same members as the embedded bundle, and tampering done
// after extraction (which K3s never notices) as findings.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isInputError } from '../../src/model/errors.ts';
import { type BundleMember, readEmbeddedBundle } from '../../src/readers/bundle/stream.ts';
import { readDataDir } from '../../src/readers/datadir.ts';
import { K3S_LIKE, locateWhole, packBundle, sh, sha256File, stageBin, tempDir, toolsSkip } from './bundle-fixtures.ts';

const summary = (m: BundleMember) =>
  m.type === 'file'
    ? `${m.path} file ${m.sha256} ${m.elf}`
    : m.type === 'symlink'
      ? `${m.path} -> ${m.linkTarget}`
      : `${m.path} ${m.type}`;

describe('readDataDir', { skip: toolsSkip() }, () => {
  let dir = '';
  let zst = '';
  let hash = '';
  /** A fresh extraction of the bundle at data/<hash>. */
  function extract(name: string): string {
    const target = join(dir, name, 'data', hash);
    mkdirSync(target, { recursive: true });
    sh(`zstd -dc --long=25 ${zst} | tar -x -C ${target}`);
    return target;
  }
  before(() => {
    dir = tempDir('k3sg-datadir-');
    stageBin(join(dir, 'root'), K3S_LIKE);
    zst = packBundle(join(dir, 'root'), dir);
    hash = sha256File(zst);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a fresh extraction: the embedded bundle's members, no findings, ELF files handed over", async () => {
    const data = extract('fresh');
    const elfs: string[] = [];
    const scan = await readDataDir(data, {
      onElf(member, src) {
        const h = createHash('sha256');
        for (let at = 0; at < src.size; at += 65_521) h.update(src.read(at, 65_521));
        assert.equal(h.digest('hex'), member.sha256);
        elfs.push(member.path);
      },
    });
    assert.deepEqual(scan.findings, []);
    assert.equal(scan.declaredHash, hash);
    assert.equal(scan.source, 'datadir');
    assert.deepEqual(elfs.sort(), ['bin/containerd', 'bin/k3s']);
    const embedded = await readEmbeddedBundle(zst, locateWhole(zst));
    assert.deepEqual(scan.members.map(summary).sort(), embedded.members.map(summary).sort());

    // data/current, the symlink K3s points at the live bundle, is followed to it.
    const current = join(dir, 'fresh', 'data', 'current');
    symlinkSync(data, current);
    const viaCurrent = await readDataDir(current, { displayName: 'current' });
    assert.equal(viaCurrent.declaredHash, hash);
    assert.deepEqual(viaCurrent.location, ['current']);
  });

  test('tampering after extraction: a changed file, a symlink loop, a symlink out, a FIFO', async () => {
    const data = extract('tampered');
    const bin = join(data, 'bin');
    appendFileSync(join(bin, 'k3s'), '\n# backdoor');
    symlinkSync('loop2', join(bin, 'loop1'));
    symlinkSync('loop1', join(bin, 'loop2'));
    unlinkSync(join(bin, 'kubectl'));
    symlinkSync('/usr/bin/env', join(bin, 'kubectl'));
    symlinkSync('../../../../../../../../../etc', join(bin, 'aux', 'etc'));
    sh(`mkfifo ${join(bin, 'pipe')}`);
    const scan = await readDataDir(data, { location: ['/var/lib/rancher/k3s', `data/${hash}`], displayName: data });
    const got = scan.findings.map((f) => `${f.id} ${f.location.at(-1)}`).sort();
    assert.deepEqual(got, [
      'K3SG-BUNDLE-LINK-MISMATCH bin/kubectl',
      'K3SG-BUNDLE-LINK-UNLISTED bin/aux/etc',
      'K3SG-BUNDLE-LINK-UNLISTED bin/loop1',
      'K3SG-BUNDLE-LINK-UNLISTED bin/loop2',
      'K3SG-BUNDLE-MEMBER-MODIFIED bin/k3s',
      'K3SG-BUNDLE-MEMBER-SPECIAL bin/pipe',
      'K3SG-BUNDLE-SYMLINK-ESCAPE bin/aux/etc',
      'K3SG-BUNDLE-SYMLINK-ESCAPE bin/kubectl',
      'K3SG-BUNDLE-SYMLINK-LOOP bin/loop1',
      'K3SG-BUNDLE-SYMLINK-LOOP bin/loop2',
    ]);
    const modified = scan.findings.find((f) => f.id === 'K3SG-BUNDLE-MEMBER-MODIFIED');
    assert.deepEqual(modified?.location, ['/var/lib/rancher/k3s', `data/${hash}`, 'bin/k3s']);
    assert.match(modified?.message ?? '', /K3s checks this directory only when it extracts it/);
    // Symlinks were read, never followed: the escaping one is listed as a link.
    assert.ok(
      scan.members.some((m) => m.type === 'symlink' && m.path === 'bin/kubectl' && m.linkTarget === '/usr/bin/env'),
    );
  });

  test('a manifest replaced by a symlink is a missing manifest', async () => {
    const data = extract('manifest-link');
    unlinkSync(join(data, 'bin', '.sha256sums'));
    symlinkSync('/dev/null', join(data, 'bin', '.sha256sums'));
    const scan = await readDataDir(data);
    const missing = scan.findings.find((f) => f.id === 'K3SG-BUNDLE-MANIFEST-MISSING');
    assert.match(missing?.message ?? '', /bin\/\.sha256sums is a symlink \(to \/dev\/null\), not a file/);
  });

  test('a missing dir is NOT_FOUND; a dir argument that loops is SYMLINK_LOOP', async () => {
    await assert.rejects(readDataDir(join(dir, 'nope')), (e: unknown) => isInputError(e) && e.code === 'NOT_FOUND');
    const a = join(dir, 'loop-a');
    symlinkSync(join(dir, 'loop-b'), a);
    symlinkSync(a, join(dir, 'loop-b'));
    await assert.rejects(readDataDir(a), (e: unknown) => isInputError(e) && e.code === 'SYMLINK_LOOP');
  });
});
