import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { compareApkLoose, compareApkVersions, isValidApkVersion } from '../../src/versions/apk.ts';

const OP: Record<string, number> = { '<': -1, '=': 0, '>': 1 };

/** apk-tools' own expectations (source noted in the file): "A op B" lines. */
function upstreamPairs(): { a: string; b: string; want: number; line: number }[] {
  const text = readFileSync(new URL('./data/apk-version.data', import.meta.url), 'utf8');
  return text.split('\n').flatMap((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return [];
    const [a, op, b] = line.split(/\s+/);
    const want = OP[op ?? ''];
    assert.ok(a && b && want !== undefined, `line ${i + 1} of apk-version.data is not "A op B"`);
    return [{ a, b, want, line: i + 1 }];
  });
}

test("apk order matches every pair of apk-tools' test/version.data, both ways round", () => {
  const pairs = upstreamPairs();
  assert.ok(pairs.length > 700, `only ${pairs.length} pairs`);
  const wrong = pairs.filter(({ a, b, want }) => compareApkLoose(a, b) !== want || compareApkLoose(b, a) !== -want);
  assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${pairs.length} pairs disagree`);
});

test('the upstream data: only the two rows it marks as invalid are refused by compareApkVersions', () => {
  const refused = upstreamPairs().filter(({ a, b }) => compareApkVersions(a, b) === undefined);
  assert.deepEqual(
    refused.map(({ a, b }) => `${a} ${b}`),
    ['23_foo 4_beta', '1.0 1.0bc'],
  );
});

// Orders that decide Alpine advisories, on versions as Alpine ships them (aports, OSV Alpine records).
const CASES: [string, string, number][] = [
  ['3.0.8-r0', '3.0.8-r1', -1], // openssl: a rebuild with the fix is a new -rN
  ['3.0.8-r3', '3.0.10-r0', -1],
  ['1.36.1-r5', '1.36.1-r15', -1], // busybox: revisions are numbers
  ['1.2.4-r0', '1.2.4_git20230717-r0', -1], // musl: post-release snapshot above the release
  ['1.2.4_git20230717-r1', '1.2.5-r0', -1],
  ['2.4.0_rc1-r0', '2.4.0-r0', -1], // pre-release below the release
  ['2.4.0_alpha1', '2.4.0_beta1', -1],
  ['2.4.0_beta3', '2.4.0_pre1', -1],
  ['2.4.0_pre1', '2.4.0_rc1', -1],
  ['9.4_p1-r0', '9.4-r9', 1], // openssh: _p1 is after the plain release
  ['9.4_p1-r0', '9.5_p1-r0', -1],
  ['1.0_cvs', '1.0_svn', -1],
  ['1.0_svn', '1.0_git', -1],
  ['1.0_git', '1.0_hg', -1],
  ['1.0_hg', '1.0_p', -1],
  ['1.1.1w-r1', '1.1.1t-r0', 1], // openssl 1.1: letters after the number
  ['1.0', '1.0a', -1],
  ['1.01', '1.1', -1], // leading zero: string order
  ['1.0', '1.00', -1],
  ['1.10', '1.9', 1],
  ['006', '6', 0], // the first component is a plain number
  ['1.0-r0', '1.0', 1], // -r0 is still "more" than no revision, as apk orders it
  ['1.2.3~abc123-r0', '1.2.3-r0', 1],
  ['1.2.3~abc123', '1.2.3~abd', -1],
  ['20230101', '20230101', 0],
  ['18446744073709551615', '18446744073709551614', 1], // numbers past 2^53
];

test('Alpine orders that decide advisories: revisions, suffixes, letters, leading zeros, hashes', () => {
  for (const [a, b, want] of CASES) {
    assert.equal(compareApkVersions(a, b), want, `${a} vs ${b}`);
    assert.equal(compareApkVersions(b, a), want === 0 ? 0 : -want, `${b} vs ${a}`);
  }
});

test('validity follows the grammar', () => {
  for (const ok of ['1', '1.2.3', '1.2.3a', '1.2_rc1_p2', '1.2_alpha_pre2-r3', '1.0~0af-r0', '0']) {
    assert.ok(isValidApkVersion(ok), ok);
  }
  for (const bad of [
    '',
    'a1',
    '1.',
    '1..2',
    '1.2ab',
    '1.2a3',
    '1_foo',
    '1_patch',
    '1-r',
    '1-2',
    '1-r1.2',
    '1~',
    '1~xyz',
    '1.2 ',
    'v1.2',
  ]) {
    assert.equal(isValidApkVersion(bad), false, JSON.stringify(bad));
  }
  assert.equal(compareApkVersions('1.0', 'v1.0'), undefined);
});
