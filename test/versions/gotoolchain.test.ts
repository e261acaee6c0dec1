import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { compareGoVersions } from '../../src/versions/gosemver.ts';
import { goToolchainSemver } from '../../src/versions/gotoolchain.ts';
import { goEnv, goUnavailable } from '../readers/goversionm.ts';
import { realRecords } from '../scan/osv-fixture.ts';

test('Go versions as binaries record them become the vulndb stdlib SemVer', () => {
  const cases: Array<[string, string | undefined]> = [
    ['go1.22.0', '1.22.0'],
    ['go1.19.8', '1.19.8'],
    ['go1.20', '1.20.0'], // before Go 1.21 a line's first release had no `.0`
    ['go1.21rc2', '1.21.0-rc.2'],
    ['go1.9beta1', '1.9.0-beta.1'],
    ['go1', '1.0.0'],
    ['go1.25.1 X:nodwarf5', '1.25.1'], // GOEXPERIMENT settings follow the version
    ['go1.24.0 X:boringcrypto,loopvar', '1.24.0'],
    ['go1.19.8b7', '1.19.8'], // Go+BoringCrypto: Go 1.19.8 with BoringCrypto patch 7
    ['devel go1.23-7f76c00 Tue Jan 2 15:04:05 2024 +0000', undefined], // a toolchain from a commit
    ['devel +b7a2d413a3 Thu Jan 1 00:00:00 2020 +0000', undefined],
    ['go1.21.0rc2', undefined], // no such tag shape
    ['go1.02', undefined],
    ['1.22.0', undefined],
    ['', undefined],
  ];
  for (const [input, want] of cases) assert.equal(goToolchainSemver(input), want, input);
});

test('pre-release Go versions order against the vulndb ranges as Go means them', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  // GO-2023-1987 (stdlib): introduced 1.21.0-0, fixed 1.21.0-rc.4. go1.21rc2 is inside, rc4 is not.
  const r = recs.byId.get('GO-2023-1987');
  const events = r?.affected?.[0]?.ranges?.[0]?.events.flatMap((e) => Object.values(e)) ?? [];
  assert.ok(events.includes('1.21.0-0') && events.includes('1.21.0-rc.4'), 'GO-2023-1987 changed');
  const rc2 = goToolchainSemver('go1.21rc2') as string;
  assert.equal(compareGoVersions('1.21.0-0', rc2), -1);
  assert.equal(compareGoVersions(rc2, '1.21.0-rc.4'), -1);
  assert.equal(compareGoVersions(goToolchainSemver('go1.21rc4') as string, '1.21.0-rc.4'), 0);
  assert.equal(compareGoVersions(goToolchainSemver('go1.21.0') as string, '1.21.0-rc.4'), 1);
});

test('the Go on this machine: `go env GOVERSION` converts', (t) => {
  const why = goUnavailable();
  if (why) return t.skip(why);
  const goVersion = execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8', env: goEnv() }).trim();
  const semver = goToolchainSemver(goVersion);
  assert.ok(semver, `${goVersion} not converted`);
  // `go1.19.8` -> 1.19.8; a first release spelt `go1.20` -> 1.20.0.
  assert.equal(semver, /^go\d+\.\d+$/.test(goVersion) ? `${goVersion.slice(2)}.0` : goVersion.slice(2));
});
