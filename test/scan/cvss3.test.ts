import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cvss3, roundup } from '../../src/scan/cvss3.ts';
import { cvssBand, severityOf } from '../../src/scan/severity.ts';
import { realRecords, record } from './osv-fixture.ts';

// Vectors and base scores from FIRST's "CVSS v3.1: Examples" document and NVD.
const KNOWN: Array<[string, number]> = [
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', 7.5], // CVE-2014-0160 Heartbleed
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8], // CVE-2014-6271 Shellshock
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1], // CVE-2013-1937 phpMyAdmin XSS
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N', 6.4], // CVE-2013-0375 MySQL
  ['CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N', 3.1], // CVE-2014-3566 POODLE
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H', 9.9], // CVE-2012-1516 VMware
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H', 8.8], // CVE-2016-1645 Chrome
  ['CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H', 8.6], // CVE-2024-21626 runc
  ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10.0],
  ['CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N', 0.0], // no impact: 0.0 whatever else
];

test('CVSS v3 base scores follow the specification', () => {
  for (const [vector, score] of KNOWN) assert.equal(cvss3(vector)?.score, score, vector);
  // Temporal/environmental metrics are valid but leave the base score alone.
  assert.equal(cvss3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/E:U/RL:O/RC:C/CR:H/MAV:L')?.score, 7.5);
  assert.equal(cvss3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')?.version, '3.1');
});

test('Roundup is the smallest one-decimal number at or above, without float error', () => {
  assert.equal(roundup(4.02), 4.1);
  assert.equal(roundup(4.0), 4.0);
  assert.equal(roundup(4.000000001), 4.0); // a naive ceil(x*10)/10 says 4.1
  assert.equal(roundup(0.1 + 0.2), 0.3);
});

test('malformed vectors give no score rather than a guess', () => {
  for (const bad of [
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N', // A missing
    'CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', // repeated
    'CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', // unknown value
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/ZZ:1', // unknown metric
    'CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P',
    'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
    'AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', // no prefix
  ])
    assert.equal(cvss3(bad), undefined, bad);
});

test('bands: the real GHSA records rate themselves as their CVSS v3 vector computes', (t) => {
  assert.deepEqual([9.0, 8.9, 7.0, 6.9, 4.0, 3.9, 0.1, 0].map(cvssBand), [
    'critical',
    'high',
    'high',
    'medium',
    'medium',
    'low',
    'low',
    'info',
  ]);
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const rating = { LOW: 'low', MODERATE: 'medium', HIGH: 'high', CRITICAL: 'critical' } as const;
  for (const id of ['GHSA-m4hf-6vgr-75r2', 'GHSA-864f-7xjm-2jp2']) {
    const r = record(recs, id);
    const verdict = severityOf([r]);
    const theirs = r.database_specific?.severity as keyof typeof rating;
    assert.equal(verdict.severity, rating[theirs], id);
    assert.equal(verdict.cvss?.vector, r.severity?.[0]?.score);
  }
  assert.equal(severityOf([record(recs, 'GHSA-m4hf-6vgr-75r2')]).cvss?.score, 7.5);
});

test('severity is never invented: Go vulndb records alone are unknown; a v4 vector alone too', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  assert.deepEqual(severityOf([record(recs, 'GO-2024-2491')]), { severity: 'unknown' });
  const v4only = {
    id: 'X-1',
    modified: '2025-01-01T00:00:00Z',
    severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }],
  };
  assert.deepEqual(severityOf([v4only]), { severity: 'unknown' });
  // With the GHSA rating next to it, the rating is used (GHSA derives it from its CVSS).
  assert.equal(severityOf([{ ...v4only, database_specific: { severity: 'CRITICAL' } }]).severity, 'critical');
  // The GO- record first, its GHSA second: the GHSA's vector gives the severity.
  const merged = severityOf([record(recs, 'GO-2025-3646'), record(recs, 'GHSA-864f-7xjm-2jp2')]);
  assert.equal(merged.severity, 'medium');
  assert.equal(merged.cvss?.score, 6.8);
});
