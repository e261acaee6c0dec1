// The final file view on a real three-layer image built by umoci (real whiteouts), a GNU tar
// layer with an opaque directory, and GNU tar layers with hostile members.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFileView, layerFile } from '../../src/readers/images/fileview.ts';
import { readOsPackages } from '../../src/readers/images/packagedb.ts';
import { realBinary } from '../fixtures/realbins.ts';
import { fileViewFixture, GO_BINARY, runTool, tarList } from './fileview-fixtures.ts';

const f = fileViewFixture();
const skip = 'skip' in f ? f.skip : undefined;

test('the fixture layers hold what the tests rely on (GNU tar listing)', { skip }, () => {
  if ('skip' in f) return;
  assert.equal(f.layers.length, 3);
  const [l0, l1, l2] = f.layers.map(tarList) as [string[], string[], string[]];
  assert.ok(l0.includes('var/lib/dpkg/status') && l0.includes('opt/data/a'));
  assert.ok(l1.includes('etc/.wh.debian_version'), 'umoci wrote a real whiteout');
  assert.ok(l1.includes('usr/bin/runc') && l1.includes('bin/echo'));
  assert.ok(l2.includes('opt/data/.wh.a') && l2.includes('opt/data/c'));
  assert.ok(tarList(f.opaqueLayer).includes('opt/data/.wh..wh..opq'));
});

test('umoci image: whiteouts, overrides, symlinks and the layer of every path', { skip }, async () => {
  if ('skip' in f) return;
  const collect = (p: string) => p.startsWith('/opt/') || p.startsWith('/bin/') || p.endsWith('os-release');
  const view = await buildFileView(
    f.layers.map((l) => layerFile(l)),
    { collect },
  );
  assert.deepEqual(view.findings.list, []);
  const paths = new Map(view.paths());
  assert.equal(paths.has('/etc/debian_version'), false, 'whited out in layer 1');
  assert.equal(await view.readFile('/etc/debian_version'), undefined);
  // /bin/echo: replaced in layer 1 by /bin/ls's bytes.
  assert.equal(paths.get('/bin/echo')?.layer, 1);
  assert.deepEqual(await view.readFile('/bin/echo'), readFileSync('/bin/ls'));
  assert.deepEqual(await view.readFile('/bin/true'), readFileSync('/bin/true'));
  assert.equal(paths.get('/bin/true')?.layer, 0);
  // The Go binary arrived in layer 1 with its real size (bytes not collected: not asked for).
  const go = realBinary(GO_BINARY);
  if ('path' in go) assert.equal(paths.get('/usr/bin/runc')?.size, readFileSync(go.path).length);
  assert.equal(paths.get('/usr/bin/runc')?.layer, 1);
  assert.equal(paths.get('/usr/bin/runc')?.type, 'file');
  await assert.rejects(view.readFile('/usr/bin/runc'), /not collected/);
  // Layer 2 whited out a and b, added c.
  assert.deepEqual(await view.listDir('/opt/data'), ['c']);
  assert.deepEqual(await view.readFile('/opt/data/c'), Buffer.from('upper c\n'));
  assert.equal(await view.readFile('/opt/data/a'), undefined);
  // Relative and absolute symlinks resolve inside the image root.
  const osRelease = readFileSync('/usr/lib/os-release');
  assert.equal(view.lstat('/etc/os-release')?.type, 'symlink');
  assert.equal(view.lstat('/etc/os-release')?.linkname, '../usr/lib/os-release');
  assert.deepEqual(await view.readFile('/etc/os-release'), osRelease);
  assert.deepEqual(await view.readFile('/etc/alt-release'), osRelease);
  assert.deepEqual(await view.listDir('/'), ['bin', 'etc', 'opt', 'usr', 'var']);
  assert.equal(await view.listDir('/nonexistent'), undefined);
});

test('readOsPackages over the view gives the packages dpkg-query lists from the same status', { skip }, async () => {
  if ('skip' in f) return;
  const view = await buildFileView(f.layers.map((l) => layerFile(l)));
  const got = await readOsPackages(view);
  const format = ['$', '{Package} $', '{Version}\n'].join(''); // dpkg-query's own ${...} syntax
  const expected = execFileSync('dpkg-query', [`--admindir=${f.dpkgAdmin}`, '-W', '-f', format])
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .sort();
  assert.ok(expected.length > 50, `${expected.length} packages in the status copy`);
  const names = got.packages.map((p) => `${p.name} ${p.version}`).sort();
  assert.deepEqual(names, expected);
  const osId = /^ID=(.*)$/m.exec(readFileSync('/usr/lib/os-release', 'utf8'))?.[1]?.replace(/"/g, '');
  assert.equal(got.os?.id, osId);
});

test('an opaque directory (GNU tar layer) hides what lower layers put in it', { skip }, async () => {
  if ('skip' in f) return;
  const [l0] = f.layers as [string];
  const view = await buildFileView([layerFile(l0), layerFile(f.opaqueLayer)], { collect: () => true });
  assert.deepEqual(await view.listDir('/opt/data'), ['c']);
  assert.deepEqual(await view.readFile('/opt/data/c'), Buffer.from('opaque c\n'));
  assert.equal(view.stat('/opt/data')?.layer, 1);
  // Outside the opaque directory, layer 0 stays.
  assert.equal(view.stat('/var/lib/dpkg/status')?.layer, 0);
});

test('hostile members: .., absolute names and hard links out are findings and skipped', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'k3sg-fileview-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const src = join(tmp, 'src');
  mkdirSync(src);
  for (const name of ['ok', 'evil1', 'evil2', 'g', 'h', 'y']) writeFileSync(join(src, name), `${name}\n`);
  execFileSync('ln', [join(src, 'h'), join(src, 't')]);
  execFileSync('ln', [join(src, 'g'), join(src, 'u')]);
  symlinkSync('../../../../etc/hostname', join(src, 'esc'));
  symlinkSync('../../..', join(src, 'linkdir'));
  symlinkSync('loop2', join(src, 'loop1'));
  symlinkSync('loop1', join(src, 'loop2'));
  const layer = join(tmp, 'hostile.tar');
  // -P keeps the leading `/` and `../`; the `h` flag rewrites hard link targets only.
  runTool('tar', [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '-P',
    '-cf',
    layer,
    '-C',
    src,
    '--transform',
    's,^evil1$,../escape,r;s,^evil2$,/etc/abs,r;s,^y$,linkdir/y,r;s,^h$,etc/passwd,RSh;s,^g$,../../etc/shadow,RSh',
    'esc',
    'evil1',
    'evil2',
    'g',
    'h',
    'linkdir',
    'loop1',
    'loop2',
    'ok',
    't',
    'u',
    'y',
  ]);
  const view = await buildFileView([layerFile(layer, 'hostile.tar')], { collect: () => true });
  const messages = view.findings.list.map((x) => `${x.id} ${x.message}`);
  const expect = [
    /"\.\.\/escape" has a '\.\.' component/,
    /"\/etc\/abs" is an absolute path/,
    /"t" is a hard link to "etc\/passwd", not an earlier member/,
    /"u" is a hard link to "\.\.\/\.\.\/etc\/shadow", not an earlier member/,
  ];
  assert.equal(messages.length, expect.length, messages.join('\n'));
  for (const [i, re] of expect.entries()) assert.match(messages[i] ?? '', re);
  assert.ok(messages.every((m) => m.startsWith('K3SG-IMAGE-LAYER-PATH ')));
  const paths = view.paths().map(([p]) => p);
  assert.deepEqual(paths, ['/esc', '/g', '/h', '/linkdir', '/loop1', '/loop2', '/ok', '/y']);
  // linkdir/y went through a symlink that climbs above the root: it lands at /y, inside.
  assert.deepEqual(await view.readFile('/y'), Buffer.from('y\n'));
  assert.deepEqual(await view.readFile('/linkdir/y'), Buffer.from('y\n'));
  // A symlink that climbs out resolves inside the image (absent here), never to the host file.
  assert.equal(await view.readFile('/esc'), undefined);
  assert.equal(await view.readFile('/loop1'), undefined);
  assert.equal(view.stat('/loop1'), undefined);
});

test('a hard link to an earlier member shares its bytes; limits are enforced', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'k3sg-fileview-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const src = join(tmp, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'a'), 'shared\n');
  execFileSync('ln', [join(src, 'a'), join(src, 'b')]);
  const layer = join(tmp, 'links.tar.gz');
  runTool('tar', ['--sort=name', '--owner=0', '--group=0', '-czf', layer, '-C', src, 'a', 'b']);
  const view = await buildFileView([layerFile(layer)], { collect: () => true });
  assert.deepEqual(view.findings.list, []);
  assert.equal(view.lstat('/b')?.type, 'hardlink');
  assert.equal(view.lstat('/b')?.linkname, 'a');
  assert.deepEqual(await view.readFile('/b'), Buffer.from('shared\n'));

  await assert.rejects(buildFileView([layerFile(layer)], { limits: { maxEntries: 1 } }), {
    code: 'IMAGE_LIMIT',
  });
  await assert.rejects(buildFileView([layerFile(layer)], { limits: { maxLayerBytes: 1000 } }), {
    code: 'IMAGE_LIMIT',
  });
  const small = await buildFileView([layerFile(layer)], { collect: () => true, limits: { maxCollectFile: 3 } });
  await assert.rejects(small.readFile('/a'), { code: 'IMAGE_LIMIT' });
});

test('plain, gzip and zstd layers read alike; a truncated layer is a clear error', { skip }, async (t) => {
  if ('skip' in f) return;
  const tmp = mkdtempSync(join(tmpdir(), 'k3sg-fileview-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const plain = join(tmp, 'l0.tar');
  writeFileSync(plain, execFileSync('gzip', ['-dc', f.layers[0] as string], { maxBuffer: 1 << 28 }));
  runTool('zstd', ['-q', plain, '-o', `${plain}.zst`]);
  const want = (await buildFileView([layerFile(f.layers[0] as string)])).paths();
  for (const file of [plain, `${plain}.zst`]) {
    const view = await buildFileView([layerFile(file)]);
    assert.deepEqual(view.paths(), want, file);
    assert.deepEqual(await view.readFile('/var/lib/dpkg/status'), readFileSync(join(f.dpkgAdmin, 'status')));
  }
  const gz = readFileSync(f.layers[0] as string);
  writeFileSync(join(tmp, 'cut.gz'), gz.subarray(0, gz.length >> 1));
  await assert.rejects(buildFileView([layerFile(join(tmp, 'cut.gz'))]), { code: 'IMAGE_CORRUPT' });
  writeFileSync(join(tmp, 'cut.tar'), readFileSync(plain).subarray(0, 10_000));
  await assert.rejects(buildFileView([layerFile(join(tmp, 'cut.tar'))]), { code: 'TAR_CORRUPT' });
});

test('hook: wanted files reach the caller whole as the layers pass, and the view keeps the final version', {
  skip,
}, async () => {
  if ('skip' in f) return;
  const go = realBinary(GO_BINARY);
  if ('skip' in go) return;
  const seen: Array<[string, string]> = [];
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const view = await buildFileView(
    f.layers.map((l) => layerFile(l)),
    {
      hook: {
        want: (path) => path === '/usr/bin/runc' || path === '/bin/echo' || path === '/etc/hostname',
        magic: Buffer.from('\x7fELF', 'latin1'),
        take(path, bytes) {
          seen.push([path, sha(bytes)]);
          return sha(bytes);
        },
      },
    },
  );
  const file = (p: string) => sha(readFileSync(p));
  // Every version of a wanted ELF file, in layer order; /etc/hostname is not an ELF file.
  assert.deepEqual(seen, [
    ['/bin/echo', file('/bin/echo')],
    ['/bin/echo', file('/bin/ls')],
    ['/usr/bin/runc', file(go.path)],
  ]);
  // The view keeps what the hook made of the version it holds.
  assert.equal(view.lstat('/bin/echo')?.facts, file('/bin/ls'));
  assert.equal(view.lstat('/usr/bin/runc')?.facts, file(go.path));
  assert.equal(view.lstat('/etc/hostname')?.facts, undefined);
});

test('whiteouts hide lower layers only, even when they come after their own layer’s members', { skip }, async (t) => {
  if ('skip' in f) return;
  const tmp = mkdtempSync(join(tmpdir(), 'k3sg-fileview-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  mkdirSync(join(tmp, 'opt', 'data', 'sub'), { recursive: true });
  writeFileSync(join(tmp, 'opt', 'data', 'sub', 'new'), 'new\n');
  writeFileSync(join(tmp, 'opt', 'data', '.wh..wh..opq'), '');
  writeFileSync(join(tmp, 'opt', '.wh.data'), '');
  const opq = join(tmp, 'late-opq.tar');
  // Member order as given (no --sort): the new file first, the opaque marker last.
  runTool('tar', ['-cf', opq, '-C', tmp, 'opt/data/sub/new', 'opt/data/.wh..wh..opq']);
  const [l0] = f.layers as [string];
  const view = await buildFileView([layerFile(l0), layerFile(opq)], { collect: () => true });
  assert.deepEqual(await view.listDir('/opt/data'), ['sub']);
  assert.deepEqual(await view.readFile('/opt/data/sub/new'), Buffer.from('new\n'));
  const wh = join(tmp, 'late-wh.tar');
  runTool('tar', ['-cf', wh, '-C', tmp, 'opt/data/sub/new', 'opt/.wh.data']);
  const view2 = await buildFileView([layerFile(l0), layerFile(wh)], { collect: () => true });
  assert.deepEqual(await view2.listDir('/opt/data'), ['sub']);
  assert.equal(view2.stat('/opt/data')?.layer, 1);
});
