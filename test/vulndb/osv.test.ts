// The record check: every real record passes; shapes the matcher could trip on do not.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkOsvRecord, goEcosystemSpecific, isRealDate, osvTime } from '../../src/vulndb/osv.ts';
import { GHSA_K3S, GOVULNDB, noSharedData, osv } from './fixtures.ts';

test('every record of the Go vulndb and the K3s advisories passes', { skip: noSharedData }, () => {
  for (const dir of [GOVULNDB, GHSA_K3S])
    for (const f of readdirSync(dir)) {
      const check = checkOsvRecord(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      assert.ok(check.ok, `${f}: ${check.ok ? '' : check.problem}`);
    }
});

test("Go's ecosystem_specific: imports with symbols, custom_ranges", { skip: noSharedData }, () => {
  const k3s = checkOsvRecord(JSON.parse(readFileSync(join(GOVULNDB, 'GO-2025-3646.json'), 'utf8')));
  assert.ok(k3s.ok);
  const affected = k3s.record.affected?.[0];
  assert.ok(affected);
  assert.deepEqual(goEcosystemSpecific(affected).custom_ranges?.[0]?.events, [
    { introduced: '1.32.0-rc1' },
    { fixed: '1.32.4-rc1' },
  ]);
  const runc = checkOsvRecord(JSON.parse(readFileSync(join(GOVULNDB, 'GO-2024-2491.json'), 'utf8')));
  assert.ok(runc.ok && runc.record.affected?.[0]);
  assert.ok(goEcosystemSpecific(runc.record.affected[0]).imports?.some((i) => i.symbols?.includes('CloseExecFrom')));
});

test('malformed shapes are refused with the reason', () => {
  const base = osv('GO-1', 'example.com/m');
  const cases: [unknown, RegExp][] = [
    [null, /not a JSON object/],
    [[base], /not a JSON object/],
    [{ ...base, id: '' }, /no valid "id"/],
    [{ ...base, id: '../../etc/passwd' }, /no valid "id"/],
    [{ ...base, modified: undefined }, /"modified" is missing/],
    [{ ...base, modified: '2024-13-45' }, /"modified" is missing or not an RFC 3339/],
    [{ ...base, withdrawn: 'soon' }, /"withdrawn" is not an RFC 3339/],
    [{ ...base, schema_version: '2.0.0' }, /not OSV 1\.x/],
    [{ ...base, aliases: 'CVE-1' }, /"aliases" is not an array of strings/],
    [{ ...base, severity: [{ type: 'CVSS_V3' }] }, /"severity" is not a list of \{type, score\}/],
    [{ ...base, affected: {} }, /"affected" is not an array/],
    [{ ...base, affected: [{ package: { name: 'x' } }] }, /affected\[0\]\.package lacks/],
    [{ ...base, affected: [{ ranges: [{ type: 'SEMVER', events: [] }] }] }, /events is not a non-empty array/],
    [{ ...base, affected: [{ ranges: [{ type: 'RPM', events: [{ introduced: '0' }] }] }] }, /type is not SEMVER/],
    [{ ...base, affected: [{ ranges: [{ type: 'GIT', events: [{ introduced: '0' }] }] }] }, /GIT range without repo/],
    [
      { ...base, affected: [{ ranges: [{ type: 'SEMVER', events: [{ fixed: 1 }] }] }] },
      /events\[0\] is not exactly one/,
    ],
    [
      {
        ...base,
        affected: [{ package: { ecosystem: 'Go', name: 'm' }, ecosystem_specific: { imports: [{ symbols: ['F'] }] } }],
      },
      /imports\[0\] is not \{path/,
    ],
  ];
  for (const [value, why] of cases) {
    const check = checkOsvRecord(value);
    assert.equal(check.ok, false, JSON.stringify(value));
    if (!check.ok) assert.match(check.problem, why);
  }
  // Open vocabularies stay open: a newer severity type or ecosystem is not a reason to drop a record.
  assert.ok(checkOsvRecord({ ...base, severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:N' }] }).ok);
  assert.ok(
    checkOsvRecord({ ...base, aliases: null, affected: [{ package: { ecosystem: 'Debian:12', name: 'runc' } }] }).ok,
  );
});

test('dates: the zero date is a date, but not a real one', () => {
  const zero = osvTime('0001-01-01T00:00:00Z');
  assert.equal(typeof zero, 'number');
  assert.equal(isRealDate(zero as number), false);
  assert.equal(osvTime('2024-06-01T02:00:00+02:00'), osvTime('2024-06-01T00:00:00Z'));
  assert.equal(osvTime('2024-06-01'), undefined);
});
