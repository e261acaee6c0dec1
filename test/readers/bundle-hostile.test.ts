// Hostile bundles: tar members that would land outside the bundle directory, damaged tar
// and zstd data, and a zstd bomb. Each must stop with its own coded InputError naming the
// file (and the member), never a crash, never a write to disk, never gigabytes of memory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isInputError } from '../../src/model/errors.ts';
import { readEmbeddedBundle } from '../../src/readers/bundle/stream.ts';
import { CACHE_DIR } from '../fixtures/realbins.ts';
import {
  craftTar,
  type Entry,
  K3S_LIKE,
  locateWhole,
  packBundle,
  sh,
  stageBin,
  tempDir,
  toolsSkip,
  zstdFile,
} from './bundle-fixtures.ts';

const skip = toolsSkip();

describe('hostile bundles', { skip }, () => {
  let dir = '';
  before(() => {
    dir = tempDir('k3sg-hostile-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let n = 0;
  function craft(entries: Entry[]): string {
    const tar = join(dir, `crafted-${++n}.tar`);
    craftTar(tar, entries);
    return zstdFile(tar, `${tar}.zst`, ['-3']);
  }

  async function rejectsWith(zst: string, code: string, pattern: RegExp): Promise<void> {
    await assert.rejects(readEmbeddedBundle(zst, locateWhole(zst), { displayName: 'k3s-evil' }), (e: unknown) => {
      assert.ok(isInputError(e), String(e));
      assert.equal(e.code, code, e.message);
      assert.equal(e.file, 'k3s-evil');
      assert.match(e.message, pattern);
      return true;
    });
  }

  test('2,000 member names of 17,000 characters: TAR_LIMIT at the first, not minutes of lookups', async () => {
    const src = join(dir, 'long-src');
    mkdirSync(src);
    const names = Array.from({ length: 2000 }, (_, i) => `n${String(i).padStart(4, '0')}`);
    for (const name of names) writeFileSync(join(src, name), '');
    const tar = join(dir, 'long-names.tar');
    // No file system holds such names: GNU tar's --transform writes them (as GNU long names).
    execFileSync('tar', [
      '--format=gnu',
      '-cf',
      tar,
      '-C',
      src,
      '--transform',
      `s,^,bin/${'k'.repeat(17_000)}/,`,
      ...names,
    ]);
    await rejectsWith(
      zstdFile(tar, `${tar}.zst`, ['-3']),
      'TAR_LIMIT',
      /^bundle tar: a member name of 17010 bytes is over the 4096-byte limit/,
    );
  });

  const ok: Entry[] = [
    { name: './bin/', type: 'dir' },
    { name: './bin/k3s', type: 'file', data: 'k3s' },
  ];
  const cases: Array<[string, Entry[], RegExp]> = [
    [
      'a ../ member',
      [...ok, { name: './bin/../../etc/cron.d/x', type: 'file', data: 'x' }],
      /"\.\/bin\/\.\.\/\.\.\/etc\/cron\.d\/x" has a '\.\.' component/,
    ],
    [
      'an absolute member',
      [...ok, { name: '/etc/passwd', type: 'file', data: 'x' }],
      /"\/etc\/passwd" is an absolute path/,
    ],
    [
      'a symlink climbing out',
      [...ok, { name: './bin/runc', type: 'symlink', link: '../../../usr/bin/runc' }],
      /"\.\/bin\/runc" is a symlink to \.\.\/\.\.\/\.\.\/usr\/bin\/runc, which climbs above/,
    ],
    [
      'an absolute symlink',
      [...ok, { name: './bin/runc', type: 'symlink', link: '/usr/sbin/runc' }],
      /reaches the absolute path \/usr\/sbin\/runc/,
    ],
    [
      'a symlink chain that escapes only through another link',
      [
        ...ok,
        { name: './bin/sub/', type: 'dir' },
        { name: './bin/sub/e', type: 'symlink', link: 'd/..' }, // harmless on its own...
        { name: './bin/sub/d', type: 'symlink', link: '../..' }, // ...until d points at the root
      ],
      /"bin\/sub\/e" is a symlink to d\/\.\., which climbs above/,
    ],
    [
      'a member under a symlink',
      [...ok, { name: './bin/l', type: 'symlink', link: 'aux' }, { name: './bin/l/x', type: 'file', data: 'x' }],
      /lies under the symlink bin\/l -> aux/,
    ],
    [
      'a hard link out of the bundle',
      [...ok, { name: './bin/h', type: 'hardlink', link: '../etc/shadow' }],
      /hard link to "\.\.\/etc\/shadow", which has a '\.\.' component/,
    ],
    [
      'a hard link to a file not in the bundle',
      [...ok, { name: './bin/h', type: 'hardlink', link: 'bin/nothere' }],
      /not an earlier file in the bundle/,
    ],
  ];
  for (const [label, entries, pattern] of cases) {
    test(`${label}: UNSAFE_PATH naming the member`, async () => {
      await rejectsWith(craft(entries), 'UNSAFE_PATH', pattern);
    });
  }

  test('symlinks that loop are a finding, not an error', async () => {
    const zst = craft([
      ...ok,
      { name: './bin/a', type: 'symlink', link: 'b' },
      { name: './bin/b', type: 'symlink', link: 'a' },
    ]);
    const scan = await readEmbeddedBundle(zst, locateWhole(zst));
    const loops = scan.findings.filter((f) => f.id === 'K3SG-BUNDLE-SYMLINK-LOOP').map((f) => f.location.at(-1));
    assert.deepEqual(loops.sort(), ['bin/a', 'bin/b']);
  });

  test('a truncated tar inside a valid frame: TAR_CORRUPT', async () => {
    const root = join(dir, 'trunc');
    stageBin(root, K3S_LIKE);
    const full = join(dir, 'full.tar');
    sh(`tar cf ${full} ./bin ./etc`, root);
    const cut = join(dir, 'cut.tar');
    sh(`head -c ${Math.floor(statSync(full).size * 0.6)} ${full} > ${cut}`);
    await rejectsWith(zstdFile(cut, `${cut}.zst`, ['-16', '--long=25']), 'TAR_CORRUPT', /truncated/);
  });

  test('corrupt zstd data under a matching name: ZSTD_CORRUPT', async () => {
    const root = join(dir, 'corrupt');
    stageBin(root, K3S_LIKE);
    const zst = packBundle(root, join(dir, 'corrupt-out'));
    // Overwrite 64 bytes near the end (the last block and the checksum).
    sh(`printf '%064d' 0 | dd of=${zst} bs=1 seek=$(( $(stat -c %s ${zst}) - 70 )) conv=notrunc status=none`);
    await rejectsWith(zst, 'ZSTD_CORRUPT', /corrupt zstd data/);
  });

  test('a zstd bomb (3 GiB of zeros in ~100 KB) stops at the limit with ZSTD_LIMIT, in bounded memory', async (t) => {
    const cached = join(CACHE_DIR, 'bundle-tests', 'bomb-3g.tar.zst');
    if (!existsSync(cached)) {
      mkdirSync(join(CACHE_DIR, 'bundle-tests'), { recursive: true });
      sh(`head -c 3G /dev/zero | zstd -q -19 --long=25 > ${cached}.tmp && mv ${cached}.tmp ${cached}`);
    }
    t.diagnostic(`bomb: ${statSync(cached).size} bytes compressed`);
    // In a child process, so its peak RSS is its own.
    const here = resolve(import.meta.dirname);
    const script = `
      import { readEmbeddedBundle } from ${JSON.stringify(join(here, '../../src/readers/bundle/stream.ts'))};
      import { locateWhole } from ${JSON.stringify(join(here, 'bundle-fixtures.ts'))};
      const path = process.argv[1];
      let result;
      try { await readEmbeddedBundle(path, locateWhole(path)); result = { code: 'none' }; }
      catch (e) { result = { code: e.code, message: e.message }; }
      result.maxRssMiB = process.resourceUsage().maxRSS / 1024;
      console.log(JSON.stringify(result));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, cached], { encoding: 'utf8' });
    const r = JSON.parse(out) as { code: string; message: string; maxRssMiB: number };
    t.diagnostic(`peak RSS ${r.maxRssMiB.toFixed(0)} MiB`);
    assert.equal(r.code, 'ZSTD_LIMIT');
    assert.match(r.message, /more than 2147483648 bytes/);
    assert.ok(r.maxRssMiB < 400, `peak RSS ${r.maxRssMiB} MiB`);
  });
});
