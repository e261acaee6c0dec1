// `ir diff` between a clean node and the same node compromised (nodes.ts), each collected with
// `ir collect` from a real containerd: the diff must name exactly the changes made, in the
// order that matters, in every format; against the lock, what the lock vouches for; and hostile
// archives are one line, exit 2.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { zstdCompressSync } from 'node:zlib';
import { tarChunks } from '../../src/io/tar-writer.ts';
import { k3sBinary, LOCKED_FILES, lockOf } from '../audit/node/node-fixtures.ts';
import { k3sguard } from '../cli/run.ts';
import { DEBIAN_EXTRA_NAME, DEBIAN_NAME, debianImage } from '../fixtures/debian-image.ts';
import type { K3sShaped } from '../fixtures/k3s-shaped.ts';
import { startContainerd } from '../images/containerd.ts';
import { agentSaw, cleanNode, collect, compromise, DATA, EVIL_MANIFEST, EVIL_YAML, orgKeys, PAUSE } from './nodes.ts';

const OWNER = { uid: 0, gid: 0, uname: 'root', gname: 'root' };
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

interface Scenario {
  dir: string;
  clean: string;
  bad: string;
  good: K3sShaped;
  evil: K3sShaped;
  cleanBinary: string;
  badBinary: string;
  pauseBefore: string;
  pauseAfter: string;
  lock: string;
}

let s: Scenario | { skip: string };

describe('ir diff', () => {
  before(async () => {
    const skips: string[] = [];
    const good = await k3sBinary({ skip: (m) => skips.push(m) });
    const evil = await k3sBinary({ skip: (m) => skips.push(m) }, 'member-changed');
    const img = await debianImage();
    if ('skip' in img) skips.push(img.skip);
    if (!good || !evil || 'skip' in img) {
      s = { skip: skips.join('; ') };
      return;
    }
    const dir = execFileSync('mktemp', ['-d', '/tmp/k3sg-irdiff-XXXXXX'], { encoding: 'utf8' }).trim();
    process.on('exit', () => execFileSync('rm', ['-rf', dir]));
    const c = await startContainerd();
    if ('skip' in c) {
      s = { skip: c.skip };
      return;
    }
    try {
      const { key } = orgKeys(dir);
      const root = join(dir, 'node');
      const proc = join(dir, 'proc');
      cleanNode(root, proc, good);
      c.ctr('k8s.io', 'images', 'import', img.extraImageTar);
      c.ctr('k8s.io', 'images', 'tag', DEBIAN_NAME, PAUSE);
      const digestOf = (name: string) =>
        (c.ctr('k8s.io', 'images', 'ls', `name==${name}`).trim().split('\n')[1] ?? '').split(/\s+/)[2] as string;
      const pauseBefore = digestOf(PAUSE);
      const cleanBinary = sha(join(root, 'usr/local/bin/k3s'));
      const clean = join(dir, 'clean.tar.zst');
      collect(root, proc, c.socket, key, clean);
      // The lock of what was reviewed: the release binary (with its K3s identity) and the files.
      const lock = lockOf(root, [...LOCKED_FILES, `${DATA}/agent/images/k3s-images.txt`]);
      const airgap = lock.artifacts.find((x) => x.name.startsWith('k3s-airgap-images'));
      if (airgap) airgap.images = [{ name: PAUSE, digest: pauseBefore }];
      lock.artifacts.push({
        name: 'k3s',
        version: good.version,
        arch: 'amd64',
        size: good.size,
        sha256: cleanBinary,
        k3s: { version: good.version, commit: good.gitCommit, bundleHash: good.bundleHash },
        sources: [{ name: 'review' }],
      });
      lock.artifacts.sort((x, y) => (x.name < y.name ? -1 : 1));
      writeFileSync(join(dir, 'k3sguard.lock'), `${JSON.stringify(lock, null, 2)}\n`);

      compromise(root, proc, good, evil);
      agentSaw(root, '2026-12-03T09:41:00.000Z');
      c.ctr('k8s.io', 'images', 'tag', '--force', DEBIAN_EXTRA_NAME, PAUSE);
      const pauseAfter = digestOf(PAUSE);
      const bad = join(dir, 'compromised.tar.zst');
      collect(root, proc, c.socket, key, bad, '--lock', join(dir, 'k3sguard.lock'));
      s = {
        dir,
        clean,
        bad,
        good,
        evil,
        cleanBinary,
        badBinary: sha(join(root, 'usr/local/bin/k3s')),
        pauseBefore,
        pauseAfter,
        lock: join(dir, 'k3sguard.lock'),
      };
    } finally {
      await c.remove();
    }
  });

  test('clean -> compromised: exactly the changes made, in order; exit 1', (t) => {
    if ('skip' in s) return t.skip(s.skip);
    const r = k3sguard(['ir', 'diff', s.clean, s.bad, '--format', 'json']);
    assert.equal(r.code, 1, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.equal(d.schema, 'k3sguard/ir-diff@1');
    const data = `/${DATA}/data`;
    const evil = s.evil;
    assert.ok(evil.tamper.kind === 'member-changed');
    const member = evil.tamper.member;
    const dirFiles = (h: string) =>
      Number(
        /^(\d+) files$/.exec(
          String(d.changes.find((c: { subject: string }) => c.subject === `${data}/${h}`)?.after),
        )?.[1],
      );
    assert.ok(dirFiles(evil.bundleHash) > 5);
    const expected = [
      ['binary', 'changed', '/usr/local/bin/k3s', `sha256:${s.cleanBinary}`, `sha256:${s.badBinary}`],
      ['binary', 'changed', '/usr/local/bin/k3s embedded bundle hash', s.good.bundleHash, evil.bundleHash],
      ['bundle', 'changed', member, `sha256:${evil.tamper.listedSha256}`, `sha256:${evil.tamper.actualSha256}`],
      ['data-dir', 'added', `${data}/${evil.bundleHash}`, undefined, `${dirFiles(evil.bundleHash)} files`],
      [
        'data-dir',
        'changed',
        `${data}/current`,
        `symlink to ${data}/${s.good.bundleHash}`,
        `symlink to ${data}/${evil.bundleHash}`,
      ],
      [
        'data-dir',
        'changed',
        `${data}/current/${member}`,
        `sha256:${evil.tamper.listedSha256} (data/${s.good.bundleHash.slice(0, 12)})`,
        `sha256:${evil.tamper.actualSha256} (data/${evil.bundleHash.slice(0, 12)})`,
      ],
      ['data-dir', 'added', `${data}/previous`, undefined, `symlink to ${data}/${s.good.bundleHash}`],
      ['images', 'changed', PAUSE, s.pauseBefore, s.pauseAfter],
      [
        'manifests',
        'added',
        `/${EVIL_MANIFEST}`,
        undefined,
        `sha256:${createHash('sha256').update(EVIL_YAML).digest('hex')}`,
      ],
      [
        'config',
        'added',
        '/etc/rancher/k3s/registries.yaml configs."registry.example.com:5000".tls.insecure_skip_verify',
        undefined,
        'true',
      ],
      [
        'processes',
        'changed',
        'k3s-server (pid 100) /usr/local/bin/k3s',
        `sha256:${s.cleanBinary}`,
        `sha256:${s.badBinary}`,
      ],
      [
        'processes',
        'changed',
        `runc (pid 300) ${data}/${evil.bundleHash}/${member}`,
        undefined,
        `sha256:${evil.tamper.actualSha256}`,
      ],
    ];
    assert.deepEqual(
      d.changes.map((c: Record<string, string>) => [c.group, c.change, c.subject, c.before, c.after]),
      expected,
    );
    assert.notEqual(s.pauseBefore, s.pauseAfter);
    const why = (subject: string) => d.changes.find((c: { subject: string }) => c.subject === subject)?.why;
    assert.match(why(`/${EVIL_MANIFEST}`), /applies every file here/);
    assert.match(why(expected[9]?.[2] as string), /TLS to this registry is not verified/);
    assert.match(why(PAUSE), /re-pointed/);
  });

  test('the table and Markdown say the same, grouped in order; nothing changed is exit 0', (t) => {
    if ('skip' in s) return t.skip(s.skip);
    const table = k3sguard(['ir', 'diff', s.clean, s.bad]);
    assert.equal(table.code, 1);
    const titles = [
      'k3s binary and its K3s version: 2 changes',
      'bundle members (embedded in the binary): 1 change',
      'data dir (extracted bundles): 4 changes',
      'images and their digests: 1 change',
      'auto-deployed manifests and charts: 1 change',
      'registry and config settings, units, tokens: 1 change',
      'processes running replaced executables: 2 changes',
    ];
    let at = -1;
    for (const title of titles) {
      const i = table.stdout.indexOf(title);
      assert.ok(i > at, `${title} missing or out of order:\n${table.stdout}`);
      at = i;
    }
    assert.match(table.stdout, /12 changes in 7 groups/);
    const md = k3sguard(['ir', 'diff', s.clean, s.bad, '--format', 'markdown']);
    assert.equal(md.code, 1);
    assert.match(md.stdout, /^# What changed on the node/);
    assert.match(md.stdout, /\| added \| \/var\/lib\/rancher\/k3s\/server\/manifests\/zz-helper.yaml \|/);
    const same = k3sguard(['ir', 'diff', s.bad, s.bad]);
    assert.equal(same.code, 0, same.stdout);
    assert.match(same.stdout, /nothing changed/);
  });

  test('the lock as the baseline: the binary, its bundle, data/current, the image, the unreviewed manifest', (t) => {
    if ('skip' in s) return t.skip(s.skip);
    const clean = k3sguard(['ir', 'diff', s.lock, s.clean, '--format', 'json']);
    assert.equal(clean.code, 0, clean.stdout);
    const r = k3sguard(['ir', 'diff', s.lock, s.bad, '--format', 'json']);
    assert.equal(r.code, 1, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.equal(d.baseline.kind, 'lock');
    assert.deepEqual(
      d.changes.map((c: Record<string, string>) => [c.group, c.change, c.subject]),
      [
        ['binary', 'changed', '/usr/local/bin/k3s'],
        ['binary', 'changed', '/usr/local/bin/k3s embedded bundle hash'],
        ['data-dir', 'changed', `/${DATA}/data/current`],
        ['images', 'changed', PAUSE],
        ['manifests', 'not-in-lock', `/${EVIL_MANIFEST}`],
        ['processes', 'changed', 'k3s-server (pid 100) /usr/local/bin/k3s'],
        [
          'processes',
          'changed',
          `runc (pid 300) /${DATA}/data/${s.evil.bundleHash}/${(s.evil.tamper as { member: string }).member}`,
        ],
      ],
    );
  });

  test('the playbook of the compromised node is filled in from its evidence', (t) => {
    if ('skip' in s) return t.skip(s.skip);
    const r = k3sguard(['ir', 'playbook', '--evidence', s.bad]);
    assert.equal(r.code, 0, r.stderr);
    const md = r.stdout;
    assert.match(md, new RegExp(`K3s ${s.good.version.replace(/[.+]/g, '\\$&')}, server\\)`));
    assert.match(md, /The agent first saw something wrong at 2026-12-03T09:41:00\.000Z\./);
    assert.match(md, /Agent finding K3SG-PROCESS-EXE-MODIFIED since 2026-12-03T09:41:00\.000Z/);
    assert.match(md, /Process running a replaced executable: runc \(pid 300\) .*\(modified\)/);
    // The lock in force (archived by collect --lock) vouches for the operator's manifests: only the added one is to remove.
    assert.match(
      md,
      /Manifest not reviewed in the lock in force, applied at every start: \/var\/lib\/rancher\/k3s\/server\/manifests\/zz-helper\.yaml/,
    );
    assert.doesNotMatch(md, /^rm .*podinfo\.yaml$/m);
    assert.match(
      md,
      /Insecure registry setting: configs\."registry\.example\.com:5000"\.tls\.insecure_skip_verify: true/,
    );
    assert.match(md, /^rm \/var\/lib\/rancher\/k3s\/server\/manifests\/zz-helper\.yaml$/m);
    // Both extracted bundles are removed before the verified binary extracts its own.
    assert.match(md, new RegExp(`^rm -rf .*data/${s.good.bundleHash}.*|^rm -rf .*data/${s.evil.bundleHash}.*`, 'm'));
    assert.match(md, new RegExp(`data/${s.good.bundleHash}`));
    assert.match(md, new RegExp(`data/${s.evil.bundleHash}`));
    assert.match(md, /k3s crictl rmi docker\.io\/rancher\/mirrored-pause:3\.6@sha256:/);
    // The agent's state and events are in the evidence.
    const agent = execFileSync('sh', ['-c', 'zstd -dc "$0" | tar -xO agent.json', s.bad], { encoding: 'utf8' });
    const a = JSON.parse(agent);
    assert.equal(a.firstBad, '2026-12-03T09:41:00.000Z');
    assert.equal(a.findings[0].id, 'K3SG-PROCESS-EXE-MODIFIED');
    assert.equal(a.events.length, 1);
    assert.equal(a.events[0].status, 'new');
  });

  test('hostile input: one line, exit 2', (t) => {
    if ('skip' in s) return t.skip(s.skip);
    const dir = join(s.dir, 'hostile');
    mkdirSync(dir);
    const whole = readFileSync(s.bad);
    const traversal = zstdCompressSync(
      Buffer.concat([
        ...tarChunks(
          [{ type: 'file', path: '../../etc/cron.d/evil', mode: 0o644, owner: OWNER, data: Buffer.from('x') }],
          0,
        ),
      ]),
    );
    const window = execFileSync('sh', ['-c', 'head -c 1048576 /dev/zero | zstd -q --long=28 -c']);
    const zeros = execFileSync('sh', ['-c', 'head -c 1181116006 /dev/zero | zstd -q -1 -c'], { maxBuffer: 1 << 26 });
    const cases: Array<[string, Buffer, RegExp]> = [
      ['truncated', whole.subarray(0, Math.floor(whole.length / 2)), /truncated|ended|corrupt/],
      ['traversal', traversal, /unsafe member name/],
      ['window-bomb', window, /window larger than 2\^27/],
      ['zeros-bomb', zeros, /decompresses past 1GiB \(a zstd bomb\)/],
      ['not-zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4, 5, 6, 7, 8, 9]), /corrupt zstd|truncated|zstd/],
    ];
    for (const [what, bytes, problem] of cases) {
      const file = join(dir, `${what}.tar.zst`);
      writeFileSync(file, bytes);
      for (const args of [
        [s.clean, file],
        [file, s.bad],
      ]) {
        const r = k3sguard(['ir', 'diff', ...args]);
        assert.equal(r.code, 2, `${what}: ${r.stdout}${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: ${r.stderr}`);
        assert.match(r.stderr, problem, what);
      }
    }
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'this is not evidence\n');
    const baseline = k3sguard(['ir', 'diff', text, s.bad]);
    assert.equal(baseline.code, 2);
    assert.match(baseline.stderr, /neither an evidence archive .* nor a k3sguard\.lock/);
    const evidence = k3sguard(['ir', 'diff', s.clean, text]);
    assert.equal(evidence.code, 2);
    assert.equal(evidence.stderr.trim().split('\n').length, 1, evidence.stderr);
  });
});
