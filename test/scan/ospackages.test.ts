// OS packages of images against Debian, Ubuntu and Alpine OSV records: real records (os-records.ts,
// verbatim) and, where a case needs a record for this machine's Debian 12 packages, a real record
// changed in one named field (`mutated`), so each case is one change from real data. The Debian
// packages are this machine's, read with dpkg-query: real names, binary and source versions.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import type { Finding, ImageArchiveComponent, ImageComponent, OsPackageComponent } from '../../src/model/inventory.ts';
import { lookupFromRecords } from '../../src/scan/lookup.ts';
import { matchRecords } from '../../src/scan/match.ts';
import { APK_ORDER, DPKG_ORDER } from '../../src/scan/orders.ts';
import { releaseOf } from '../../src/scan/ospackages.ts';
import { recordIds } from '../../src/scan/records.ts';
import type { OsvRecord } from '../../src/vulndb/osv.ts';
import { osRecords } from './os-records.ts';
import { mutated } from './osv-fixture.ts';

const REAL = osRecords();
const real = (id: string): OsvRecord => REAL.get(id) as OsvRecord;

interface Installed {
  name: string;
  version: string;
  sourceName: string;
  sourceVersion: string;
}

/** This machine's dpkg database, or why it cannot be read. */
function installedDebs(): Map<string, Installed> | { skip: string } {
  let out: string;
  try {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format fields
    out = execFileSync('dpkg-query', ['-W', '-f', '${Package} ${Version} ${source:Package} ${source:Version}\\n'], {
      encoding: 'utf8',
    });
  } catch (e) {
    return { skip: `dpkg-query not usable here: ${(e as Error).message}` };
  }
  const map = new Map<string, Installed>();
  for (const line of out.split('\n')) {
    const [name, version, sourceName, sourceVersion] = line.split(' ');
    if (name && version && sourceName && sourceVersion) map.set(name, { name, version, sourceName, sourceVersion });
  }
  return map;
}

const DEBS = installedDebs();

function pkg(manager: 'dpkg' | 'apk', p: Installed, distro?: { id: string; versionId?: string }): OsPackageComponent {
  const c: OsPackageComponent = {
    type: 'os-package',
    ref: `pkg:${p.name}`,
    name: p.name,
    version: p.version,
    manager,
    arch: manager === 'dpkg' ? 'amd64' : 'x86_64',
    source: { name: p.sourceName, version: p.sourceVersion },
    db: manager === 'dpkg' ? '/var/lib/dpkg/status' : '/lib/apk/db/installed',
    location: ['images.tar', 'docker.io/library/test:1', `os-package:${p.name}`],
  };
  if (distro) c.distro = distro;
  return c;
}

/** An image archive holding one image of `os` with these packages. */
function image(os: { id: string; versionId?: string }, packages: OsPackageComponent[]): ImageArchiveComponent {
  const img: ImageComponent = {
    type: 'image',
    ref: 'image:1',
    name: 'docker.io/library/test:1',
    names: ['docker.io/library/test:1'],
    os,
    layers: [],
    location: ['images.tar', 'docker.io/library/test:1'],
    children: packages,
  };
  return {
    type: 'image-archive',
    ref: 'archive',
    name: 'images.tar',
    path: 'images.tar',
    format: 'docker-archive',
    compression: 'none',
    location: ['images.tar'],
    children: [img],
  };
}

/** The machine's packages built from `source`, or a skip. */
function fromSource(source: string): Installed[] | { skip: string } {
  if ('skip' in DEBS) return DEBS;
  const list = [...DEBS.values()].filter((p) => p.sourceName === source);
  return list.length > 0 ? list : { skip: `no package built from ${source} is installed here` };
}

const DEBIAN_12 = { id: 'debian', versionId: '12' };

function scan(root: ImageArchiveComponent, records: OsvRecord[]): Finding[] {
  return matchRecords(root, lookupFromRecords(records));
}

/** DLA-3008-1 (openssl) retargeted: another ecosystem and fixed version, every other field real. */
function opensslRecord(ecosystem: string, fixed: string | undefined, urgency?: string): OsvRecord {
  return mutated(real('DLA-3008-1'), (r) => {
    const a = (r.affected ?? [])[0];
    if (!a?.package || !a.ranges?.[0]) throw new Error('DLA-3008-1 changed shape');
    a.package.ecosystem = ecosystem;
    a.ranges[0].events = fixed === undefined ? [{ introduced: '0' }] : [{ introduced: '0' }, { fixed }];
    a.versions = [];
    if (urgency) a.ecosystem_specific = { urgency };
  });
}

test('the ecosystems of a release: Debian:<major>, Debian:4.0, Ubuntu with and without :LTS, Alpine:v<major>.<minor>', () => {
  assert.deepEqual(releaseOf('dpkg', DEBIAN_12)?.ecosystems, ['Debian:12', 'Debian']);
  assert.deepEqual(releaseOf('dpkg', { id: 'debian', versionId: '4.0' })?.ecosystems, ['Debian:4.0', 'Debian']);
  assert.deepEqual(releaseOf('dpkg', { id: 'debian' })?.ecosystems, ['Debian'], 'sid: no VERSION_ID');
  assert.deepEqual(releaseOf('dpkg', { id: 'ubuntu', versionId: '22.04' })?.ecosystems, [
    'Ubuntu:22.04',
    'Ubuntu:22.04:LTS',
    'Ubuntu',
  ]);
  assert.deepEqual(releaseOf('apk', { id: 'alpine', versionId: '3.20.3' })?.ecosystems, ['Alpine:v3.20', 'Alpine']);
  assert.equal(releaseOf('apk', DEBIAN_12), undefined, 'an apk database in a Debian image is not guessed at');
  assert.equal(releaseOf('dpkg', { id: 'alpine', versionId: '3.20.3' }), undefined);
  assert.equal(releaseOf('dpkg', { id: 'raspbian', versionId: '12' }), undefined);
});

test('dpkg and apk orders on versions of this machine and of the Alpine record', () => {
  const d = (a: string, b: string) => DPKG_ORDER.compare(DPKG_ORDER.parse(a) as never, DPKG_ORDER.parse(b) as never);
  assert.equal(d('3.0.19-1~deb12u2', '3.0.19-1'), -1, '~ sorts before the end');
  assert.equal(d('1:1.2.13.dfsg-1', '1.3.dfsg-1'), 1, 'the epoch wins');
  assert.equal(d('5.2.15-2+b8', '5.2.15-2'), 1, 'a binNMU is above its source version');
  const a = (x: string, y: string) => APK_ORDER.compare(x, y);
  assert.equal(a('1.2.5-r9', '1.2.5-r10'), -1, '-rN compares as a number, not as text');
  assert.equal(a('1.2.4_git20230717-r4', '1.2.4_git20230717-r5'), -1);
  assert.equal(APK_ORDER.parse('1.2.5-rx'), undefined, 'not an apk version: not placed');
});

test('openssl of this machine: a fix above its source version is a finding for every binary package of it', (t) => {
  const debs = fromSource('openssl');
  if ('skip' in debs) return t.skip(debs.skip);
  const installed = (debs[0] as Installed).sourceVersion;
  assert.match(installed, /~deb12u/, `this machine's openssl is a bookworm update (${installed})`);
  // One revision further on the same ~deb12uN line: the next security update.
  const next = installed.replace(/~deb12u(\d+)$/, (_m, n: string) => `~deb12u${Number(n) + 1}`);
  const findings = scan(
    image(
      DEBIAN_12,
      debs.map((p) => pkg('dpkg', p)),
    ),
    [opensslRecord('Debian:12', next)],
  );
  assert.equal(findings.length, debs.length, `one finding per package of source openssl (${debs.map((p) => p.name)})`);
  for (const f of findings) {
    assert.equal(f.id, 'DLA-3008-1');
    assert.equal(f.vulnerability?.via, 'os-package');
    assert.equal(f.vulnerability?.module, 'openssl');
    assert.equal(f.vulnerability?.version, installed);
    assert.equal(f.vulnerability?.fixed, next);
    assert.equal(f.vulnerability?.reachability, 'unknown');
    assert.equal(f.severity, 'unknown', 'the record has no severity: none is invented');
    assert.equal(f.title, 'openssl - security update');
    assert.match(
      f.message,
      new RegExp(
        `in Debian 12 is affected by DLA-3008-1; Debian 12 fixes it in openssl ${next.replace(/[.+~]/g, '\\$&')}`,
      ),
    );
    assert.match(f.message, /apt-get upgrade/);
  }
  // The fix equal to what is installed, or below it: nothing.
  assert.deepEqual(
    scan(
      image(
        DEBIAN_12,
        debs.map((p) => pkg('dpkg', p)),
      ),
      [opensslRecord('Debian:12', installed)],
    ),
    [],
  );
  // `3.0.19-1` is ABOVE `3.0.19-1~deb12u2` (a tilde sorts before the end): a finding.
  const upstreamRelease = installed.replace(/~.*$/, '');
  assert.equal(
    scan(
      image(
        DEBIAN_12,
        debs.map((p) => pkg('dpkg', p)),
      ),
      [opensslRecord('Debian:12', upstreamRelease)],
    ).length,
    debs.length,
  );
});

test('a record for Debian:11 (or the real Debian:9 one) does not match a Debian 12 image; bare Debian does', (t) => {
  const debs = fromSource('openssl');
  if ('skip' in debs) return t.skip(debs.skip);
  const root = image(
    DEBIAN_12,
    debs.map((p) => pkg('dpkg', p)),
  );
  const above = '9:0'; // an epoch above anything installed: affected wherever the entry applies
  assert.deepEqual(scan(root, [opensslRecord('Debian:11', above)]), []);
  assert.deepEqual(scan(root, [real('DLA-3008-1')]), [], 'the verbatim Debian:9 record');
  assert.equal(scan(root, [opensslRecord('Debian:12', above)]).length, debs.length, 'control: Debian:12 matches');
  assert.equal(scan(root, [opensslRecord('Debian', above)]).length, debs.length, 'a release-less record applies');
  // The package's own distro wins over the image's: labelled Debian 11, the Debian:11 entry applies.
  const eleven = image(
    DEBIAN_12,
    debs.map((p) => pkg('dpkg', p, { id: 'debian', versionId: '11' })),
  );
  assert.equal(scan(eleven, [opensslRecord('Debian:11', above)]).length, debs.length);
});

test('open issues are findings with no fix; Debian "unimportant" ones are not', (t) => {
  const debs = fromSource('openssl');
  if ('skip' in debs) return t.skip(debs.skip);
  const root = image(
    DEBIAN_12,
    debs.map((p) => pkg('dpkg', p)),
  );
  const open = scan(root, [opensslRecord('Debian:12', undefined, 'not yet assigned')]);
  assert.equal(open.length, debs.length);
  assert.equal(open[0]?.vulnerability?.fixed, undefined);
  assert.match(open[0]?.message ?? '', /Debian 12 has no fixed version of openssl yet/);
  assert.deepEqual(scan(root, [opensslRecord('Debian:12', undefined, 'unimportant')]), []);
});

test('zlib with epoch 1: a fix without the epoch is below it, one with it above', (t) => {
  const debs = fromSource('zlib');
  if ('skip' in debs) return t.skip(debs.skip);
  const installed = (debs[0] as Installed).sourceVersion;
  assert.match(installed, /^1:/, `zlib carries epoch 1 (${installed})`);
  const zlib = (fixed: string) =>
    mutated(opensslRecord('Debian:12', fixed), (r) => {
      const a = (r.affected ?? [])[0];
      if (a?.package) a.package.name = 'zlib';
    });
  const root = image(
    DEBIAN_12,
    debs.map((p) => pkg('dpkg', p)),
  );
  assert.deepEqual(scan(root, [zlib('1.3.dfsg-1')]), [], '1.3 without epoch is epoch 0: below 1:1.2.13');
  const bumped = installed.replace(/-(\d+)$/, (_m, n: string) => `-${Number(n) + 1}`);
  const found = scan(root, [zlib(bumped)]);
  assert.equal(found.length, debs.length);
  assert.equal(found[0]?.vulnerability?.fixed, bumped);
});

test('a binNMU (bash 5.2.15-2+b8) is compared as its source version, as Debian lists it', (t) => {
  const bash = 'skip' in DEBS ? DEBS : DEBS.get('bash');
  if (!bash || 'skip' in bash) return t.skip(bash ? (bash.skip as string) : 'bash is not installed');
  if (bash.version === bash.sourceVersion) return t.skip(`bash ${bash.version} is not a binNMU here`);
  // Debian lists affected SOURCE versions: the record names exactly this machine's source version.
  const record = mutated(opensslRecord('Debian:12', undefined), (r) => {
    const a = (r.affected ?? [])[0];
    if (!a?.package) return;
    a.package.name = 'bash';
    a.ranges = [];
    a.versions = [bash.sourceVersion];
  });
  const found = scan(image(DEBIAN_12, [pkg('dpkg', bash)]), [record]);
  assert.equal(found.length, 1, `bash ${bash.version} is source ${bash.sourceVersion}, which the record lists`);
  assert.equal(found[0]?.vulnerability?.version, bash.sourceVersion);
  assert.match(
    found[0]?.message ?? '',
    new RegExp(`^bash ${bash.version.replace(/[.+]/g, '\\$&')} \\(source package bash`),
  );
  // With no source version recorded, the binNMU suffix is dropped, not compared.
  const noSource = pkg('dpkg', { ...bash, sourceVersion: '' });
  assert.equal(scan(image(DEBIAN_12, [noSource]), [record]).length, 1);
});

test('the real Alpine record: each branch its own fix, -rN revisions in apk order, CVSS severity', () => {
  const rec = real('ALPINE-CVE-2025-26519');
  const musl = (version: string, versionId: string) =>
    scan(
      image({ id: 'alpine', versionId }, [
        pkg('apk', { name: 'musl', version, sourceName: 'musl', sourceVersion: version }),
      ]),
      [rec],
    );
  const found = musl('1.2.5-r0', '3.20.3');
  assert.equal(found.length, 1);
  const f = found[0] as Finding;
  assert.deepEqual(f.vulnerability?.ids, ['ALPINE-CVE-2025-26519', 'CVE-2025-26519'], 'its CVE, from upstream');
  assert.equal(f.vulnerability?.fixed, '1.2.5-r1');
  assert.equal(f.severity, 'high', 'CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H is 7.0');
  assert.equal(f.vulnerability?.cvss?.score, 7);
  assert.match(
    f.message,
    /^musl 1\.2\.5-r0 in Alpine 3\.20 is affected by ALPINE-CVE-2025-26519 \(CVE-2025-26519\); Alpine 3\.20 fixes it in musl 1\.2\.5-r1: .*apk upgrade/,
  );
  assert.deepEqual(musl('1.2.5-r1', '3.20.3'), [], 'the fixed version');
  assert.equal(musl('1.2.5-r9', '3.22.1').length, 1, '3.22 fixes in -r10: -r9 is below it');
  assert.deepEqual(musl('1.2.5-r9', '3.21.0'), [], '3.21 fixes in -r9');
  assert.equal(musl('1.2.4_git20230717-r4', '3.19.1')[0]?.vulnerability?.fixed, '1.2.4_git20230717-r5');
  assert.deepEqual(musl('0.9.12-r0', '3.20.3'), [], 'before introduced 0.9.13');
  assert.deepEqual(musl('1.2.5-r0', '3.15.0'), [], 'no entry for Alpine 3.15');
});

test('the real Ubuntu record is filed under Ubuntu:22.04:LTS; the real Debian 4.0 record under Debian:4.0', () => {
  const coreutils = (version: string) =>
    scan(
      image({ id: 'ubuntu', versionId: '22.04' }, [
        pkg('dpkg', { name: 'coreutils', version, sourceName: 'coreutils', sourceVersion: version }),
      ]),
      [real('USN-8697-1')],
    );
  assert.equal(coreutils('8.32-4.1ubuntu1.3')[0]?.vulnerability?.fixed, '8.32-4.1ubuntu1.4');
  assert.deepEqual(coreutils('8.32-4.1ubuntu1.4'), []);
  const vlc = scan(
    image({ id: 'debian', versionId: '4.0' }, [
      pkg('dpkg', {
        name: 'vlc',
        version: '0.8.6-svn20061012.debian-5',
        sourceName: 'vlc',
        sourceVersion: '0.8.6-svn20061012.debian-5',
      }),
    ]),
    [real('DSA-1819-1')],
  );
  assert.equal(vlc[0]?.vulnerability?.fixed, '0.8.6-svn20061012.debian-5.1+etch3');
  assert.deepEqual(vlc[0]?.vulnerability?.ids, ['DSA-1819-1'], 'a DSA fixing eight CVEs is not any one of them');
});

test('a distribution record of one CVE counts that CVE as an alias, a DSA does not', () => {
  assert.deepEqual(recordIds(real('DLA-3008-1')), ['DLA-3008-1']);
  const debianCve = mutated(real('DLA-3008-1'), (r) => {
    r.id = 'DEBIAN-CVE-2022-1292';
    r.upstream = ['CVE-2022-1292'];
  });
  assert.deepEqual(recordIds(debianCve), ['DEBIAN-CVE-2022-1292', 'CVE-2022-1292']);
  const noUpstream = mutated(debianCve, (r) => {
    delete r.upstream;
  });
  assert.deepEqual(recordIds(noUpstream), ['DEBIAN-CVE-2022-1292']);
});
