import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compareK3s,
  formatK3sRelease,
  hasK3sBuild,
  k3sLine,
  parseK3sVersion,
  sameK3sLine,
} from '../../src/versions/k3sversion.ts';
import { goEcosystemSpecific } from '../../src/vulndb/osv.ts';
import { realRecords } from '../scan/osv-fixture.ts';

function cmp(a: string, b: string): number {
  const [pa, pb] = [parseK3sVersion(a), parseK3sVersion(b)];
  assert.ok(pa && pb, `${a} or ${b} not parsed`);
  return compareK3s(pa, pb);
}

test('K3s releases are ordered by X.Y.Z, then rcN, then k3sN (SemVer alone would tie them)', () => {
  const ascending = [
    'v1.27.9+k3s1',
    'v1.28.0-rc1+k3s1',
    'v1.28.0-rc2+k3s1',
    'v1.28.0-rc10+k3s1', // rc10 after rc2: numbers, not text
    'v1.28.0+k3s1',
    'v1.28.0+k3s2',
    'v1.28.0+k3s10',
    'v1.28.1+k3s1',
    'v1.28.10+k3s1',
    'v1.29.0+k3s1',
  ];
  for (let i = 1; i < ascending.length; i++)
    assert.equal(cmp(ascending[i - 1] as string, ascending[i] as string), -1, `${ascending[i - 1]} < ${ascending[i]}`);
  assert.equal(cmp('v1.30.4+k3s2', 'v1.30.4+k3s2'), 0);
});

test('a plain version (an advisory bound, or typed by a user) means the first release, +k3s1', () => {
  assert.equal(cmp('1.28.1', 'v1.28.1+k3s1'), 0);
  assert.equal(cmp('1.28.1', 'v1.28.1+k3s2'), -1);
  assert.equal(cmp('1.32.4-rc1', 'v1.32.4-rc1+k3s1'), 0);
  assert.equal(cmp('1.32.4-rc.1', 'v1.32.4-rc1+k3s1'), 0);
  assert.equal(cmp('v1.28.1', '1.28.1'), 0);
  assert.ok(!hasK3sBuild('1.28.1'));
  assert.ok(hasK3sBuild('v1.28.1+k3s1'));
});

test('development builds sort below the first release of their Kubernetes version', () => {
  assert.equal(cmp('v1.32.3+k3s-1a2b3c4d', 'v1.32.3+k3s1'), -1);
  assert.equal(cmp('v1.32.3+k3s-1a2b3c4d-dirty', 'v1.32.2+k3s3'), 1);
  assert.equal(parseK3sVersion('v1.32.3+k3s-1a2b3c4d-dirty')?.dev, '1a2b3c4d-dirty');
  assert.ok(hasK3sBuild('v1.32.3+k3s-1a2b3c4d'));
});

test('image tags (`-k3sN` for `+k3sN`) are read as the release they name', () => {
  assert.equal(cmp('v1.31.4-k3s1', 'v1.31.4+k3s1'), 0);
  assert.equal(cmp('v1.32.4-rc1-k3s2', 'v1.32.4-rc1+k3s2'), 0);
});

test('what is not a K3s version is refused', () => {
  for (const bad of ['', 'v1.28', '1.28.1+k3sX', 'v1.28.1+k3s', 'latest', 'stable', 'v1.28.1-alpha', 'v1.28.1+k3s1.2'])
    assert.equal(parseK3sVersion(bad), undefined, bad);
  assert.ok(parseK3sVersion(' v1.28.1+k3s1 '), 'surrounding space (a pasted value) is trimmed');
});

test('lines and release names', () => {
  const v = parseK3sVersion('v1.27.2+k3s1');
  const fix = parseK3sVersion('1.27.5');
  const other = parseK3sVersion('1.28.1');
  assert.ok(v && fix && other);
  assert.equal(k3sLine(v), 'v1.27');
  assert.ok(sameK3sLine(v, fix));
  assert.ok(!sameK3sLine(v, other));
  assert.equal(formatK3sRelease(fix), 'v1.27.5+k3s1');
  assert.equal(
    formatK3sRelease(parseK3sVersion('1.32.4-rc1') as NonNullable<ReturnType<typeof parseK3sVersion>>),
    'v1.32.4-rc1+k3s1',
  );
  assert.equal(
    formatK3sRelease(parseK3sVersion('v1.30.4+k3s2') as NonNullable<ReturnType<typeof parseK3sVersion>>),
    'v1.30.4+k3s2',
  );
});

test('every K3s range bound in the real records is a K3s version (no range silently dropped)', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  let bounds = 0;
  for (const r of recs.all)
    for (const a of r.affected ?? []) {
      if (a.package?.name !== 'github.com/k3s-io/k3s') continue;
      const ranges = [
        ...(a.ranges ?? []).filter((x) => x.type === 'ECOSYSTEM'),
        ...(goEcosystemSpecific(a).custom_ranges ?? []),
      ];
      for (const range of ranges)
        for (const e of range.events)
          for (const v of Object.values(e)) {
            if (v === '0') continue;
            bounds++;
            assert.ok(parseK3sVersion(v), `${r.id}: bound ${v}`);
          }
    }
  assert.ok(bounds >= 15, `only ${bounds} K3s bounds in the real records`);
});
