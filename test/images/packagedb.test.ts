import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseOsRelease } from '../../src/readers/images/osrelease.ts';
import { type ImageFileReader, osPackagePurl, readOsPackages } from '../../src/readers/images/packagedb.ts';
import { parseApkInstalled } from '../../src/readers/images/packagedb-apk.ts';
import { parseDeb822, parseDpkgDatabase } from '../../src/readers/images/packagedb-dpkg.ts';

const STATUS = '/var/lib/dpkg/status';
const noDpkg =
  !existsSync(STATUS) || !existsSync('/usr/bin/dpkg-query') ? 'no dpkg database on this machine' : undefined;

/** The files under a directory, as an image's final view would give them (test helper: no escape checks needed). */
function dirReader(root: string): ImageFileReader {
  return {
    readFile: async (path) => {
      try {
        return readFileSync(join(root, path));
      } catch {
        return undefined;
      }
    },
    listDir: async (path) => {
      try {
        return readdirSync(join(root, path));
      } catch {
        return undefined;
      }
    },
  };
}

/** dpkg's own view of the installed packages: name, version, arch, source name and version. */
function dpkgQueryInstalled(): string[] {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const format = '${db:Status-Status} ${Package} ${Version} ${Architecture} ${source:Package} ${source:Version}\n';
  const out = execFileSync('dpkg-query', ['-W', '-f', format], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return out
    .split('\n')
    .filter((l) => l.startsWith('installed '))
    .map((l) => l.slice('installed '.length))
    .sort();
}

test("this machine's dpkg status: every installed package, as dpkg-query reports it", { skip: noDpkg }, () => {
  const { entries, problems } = parseDpkgDatabase(readFileSync(STATUS), STATUS);
  assert.deepEqual(problems, []);
  const ours = entries.map((e) => `${e.name} ${e.version} ${e.arch} ${e.sourceName} ${e.sourceVersion}`).sort();
  const theirs = dpkgQueryInstalled();
  assert.ok(theirs.length > 50, `dpkg-query listed only ${theirs.length} packages`);
  assert.deepEqual(ours, theirs);
  // The table must include the interesting cases: a binNMU source version and an arch:all package.
  assert.ok(entries.some((e) => e.sourceVersion !== e.version));
  assert.ok(entries.some((e) => e.arch === 'all'));
});

test('readOsPackages on this machine: os-release through its symlink, purls with arch and distro', {
  skip: noDpkg,
}, async () => {
  const result = await readOsPackages(dirReader('/'));
  assert.equal(result.packages.length, dpkgQueryInstalled().length);
  assert.deepEqual(result.problems, []);
  const os = parseOsRelease(readFileSync('/etc/os-release'));
  assert.deepEqual(result.os, os);
  const dpkg = result.packages.find((p) => p.name === 'dpkg');
  assert.ok(dpkg);
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const fmt = '${Version} ${Architecture}';
  const [version, arch] = execFileSync('dpkg-query', ['-W', '-f', fmt, 'dpkg'], { encoding: 'utf8' }).split(' ');
  assert.equal(
    dpkg.purl,
    `pkg:deb/${os.id}/dpkg@${(version ?? '').replace(/\+/g, '%2B')}?arch=${arch}&distro=${os.id}-${os.versionId}`,
  );
  assert.equal(dpkg.db, STATUS);
});

test('distroless status.d: one control file per package, md5sums lists skipped, Status optional', {
  skip: noDpkg,
}, async () => {
  const root = mkdtempSync(join(tmpdir(), 'statusd-'));
  try {
    const dir = join(root, 'var/lib/dpkg/status.d');
    mkdirSync(dir, { recursive: true });
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc/os-release'), readFileSync('/usr/lib/os-release'));
    // Real stanzas of this machine, written as distroless writes them: control fields, no Status.
    const text = readFileSync(STATUS, 'utf8');
    const names = ['base-files', 'libc6', 'bash', 'tzdata', 'zlib1g'];
    // This machine's own architecture only: a multiarch machine (libc6:arm64 for qemu) has a
    // second libc6 stanza, and a distroless image holds one package of each name.
    const native = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
    const chunks = text
      .split(/\n\n+/)
      .filter((c) => names.includes(/^Package: (\S+)/m.exec(c)?.[1] ?? ''))
      .filter((c) => ['all', native].includes(/^Architecture: (\S+)/m.exec(c)?.[1] ?? ''));
    assert.equal(chunks.length, names.length);
    for (const chunk of chunks) {
      const name = /^Package: (\S+)/m.exec(chunk)?.[1] as string;
      writeFileSync(join(dir, name), `${chunk.replace(/^Status: .*\n/m, '')}\n`);
      const md5 = ['/var/lib/dpkg/info', `${name}.md5sums`];
      writeFileSync(join(dir, `${name}.md5sums`), existsSync(join(...md5)) ? readFileSync(join(...md5)) : 'x  y\n');
    }
    const result = await readOsPackages(dirReader(root));
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.packages.map((p) => p.name).sort(), [...names].sort());
    assert.ok(
      result.packages.every((p) => p.db.startsWith('/var/lib/dpkg/status.d/') && p.purl.includes('distro=debian-')),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('dpkg status: only installed packages; problems for broken stanzas, never a throw', () => {
  const text = [
    'Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0-1\n',
    'Package: held\nStatus: hold ok installed\nArchitecture: amd64\nVersion: 2:1.0~rc1-1+b2\nSource: heldsrc (2:1.0~rc1-1)\n',
    'Package: half\nStatus: install reinstreq half-installed\nVersion: 1\n',
    'Package: noversion\nStatus: install ok installed\n',
    'Package: badversion\nStatus: install ok installed\nVersion: 1.0-\n',
    'Status: install ok installed\nVersion: 1\n',
    'Package: desc\nStatus: install ok installed\nVersion: 3\nDescription: x\n Package: fake\n Version: 9\n',
  ].join('\n');
  const { entries, problems } = parseDpkgDatabase(text, 'status');
  assert.deepEqual(entries, [
    { name: 'held', version: '2:1.0~rc1-1+b2', arch: 'amd64', sourceName: 'heldsrc', sourceVersion: '2:1.0~rc1-1' },
    { name: 'desc', version: '3', arch: '', sourceName: 'desc', sourceVersion: '3' },
  ]);
  assert.deepEqual(
    problems.map((p) => p.line),
    [15, 18, 22],
  );
  assert.deepEqual(parseDpkgDatabase(Buffer.from([0xff, 0x00, 0x0a, 0x3a]), 'bin').entries, []);
  assert.equal(parseDeb822('A: 1\r\nB: 2\r\n\r\nC: 3').length, 2);
});

test('purls: deb and apk types, versions percent-encoded except the epoch colon, qualifiers sorted', () => {
  const debian = parseOsRelease('ID=debian\nVERSION_ID="12"\n');
  assert.equal(
    osPackagePurl('dpkg', 'libgnutls30', '3.7.9-2+deb12u3', 'amd64', debian),
    'pkg:deb/debian/libgnutls30@3.7.9-2%2Bdeb12u3?arch=amd64&distro=debian-12',
  );
  assert.equal(osPackagePurl('dpkg', 'attr', '1:2.5.1-4', '', undefined), 'pkg:deb/debian/attr@1:2.5.1-4');
  const alpine = parseOsRelease('NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\n');
  assert.equal(
    osPackagePurl('apk', 'musl', '1.2.5-r0', 'x86_64', alpine),
    'pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3',
  );
  const ubuntu = parseOsRelease('ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n');
  assert.equal(
    osPackagePurl('dpkg', 'bash', '5.2.21-2ubuntu4', 'amd64', ubuntu),
    'pkg:deb/ubuntu/bash@5.2.21-2ubuntu4?arch=amd64&distro=ubuntu-24.04',
  );
});

// GAP: no real Alpine installed database is available on this machine (no apk, no network
// image pull). This text follows the format apk-tools documents (one-letter keys, records
// separated by blank lines), with package names and versions as Alpine 3.20 ships them.
const APK_DB = `C:Q1xxxxxxxxxxxxxxxxxxxxxxxxxxxx=
P:musl
V:1.2.5-r0
A:x86_64
S:407278
I:667648
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1717073434
c:8e7ee3a7b5e5f1a0f9f7c54a15b8a7b9e0c3b3d1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1yyyyyyyyyyyyyyyyyyyyyyyyyyyy=

C:Q1zzzzzzzzzzzzzzzzzzzzzzzzzzzz=
P:libcrypto3
V:3.3.2-r0
A:x86_64
L:Apache-2.0
o:openssl
D:so:libc.musl-x86_64.so.1
p:so:libcrypto.so.3=3
F:usr/lib
R:libcrypto.so.3

P:busybox-binsh
V:1.36.1-r29
A:x86_64
o:busybox

P:broken
V:not-a-version

V:1.0-r0
`;

test('apk installed database (documented format): name, version, arch, origin; problems for broken records', () => {
  const { entries, problems } = parseApkInstalled(APK_DB, '/lib/apk/db/installed');
  assert.deepEqual(entries, [
    { name: 'musl', version: '1.2.5-r0', arch: 'x86_64', origin: 'musl', license: 'MIT' },
    { name: 'libcrypto3', version: '3.3.2-r0', arch: 'x86_64', origin: 'openssl', license: 'Apache-2.0' },
    { name: 'busybox-binsh', version: '1.36.1-r29', arch: 'x86_64', origin: 'busybox' },
  ]);
  assert.deepEqual(
    problems.map((p) => p.line),
    [35, 38],
  );
  assert.equal(parseApkInstalled('garbage line\n', 'x').problems.length, 1);
});

test('readOsPackages on an Alpine-shaped root: apk packages with origin as source', async () => {
  const root = mkdtempSync(join(tmpdir(), 'apkroot-'));
  try {
    mkdirSync(join(root, 'lib/apk/db'), { recursive: true });
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'lib/apk/db/installed'), APK_DB);
    writeFileSync(
      join(root, 'etc/os-release'),
      'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n',
    );
    const result = await readOsPackages(dirReader(root));
    const crypto = result.packages.find((p) => p.name === 'libcrypto3');
    assert.deepEqual(crypto?.source, { name: 'openssl', version: '3.3.2-r0' });
    assert.equal(crypto?.purl, 'pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=x86_64&distro=alpine-3.20.3');
    assert.equal(result.os?.prettyName, 'Alpine Linux v3.20');
    assert.equal(result.problems.length, 2);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an empty image: no os-release, no packages', async () => {
  const root = mkdtempSync(join(tmpdir(), 'scratch-'));
  try {
    assert.deepEqual(await readOsPackages(dirReader(root)), { packages: [], problems: [] });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
