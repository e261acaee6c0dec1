// Range rules on the real Go vulndb records, record by record (records.ts + ranges.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GO_ORDER } from '../../src/scan/orders.ts';
import { compileEntry, coveredAmong, effectiveRanges, entryAffects } from '../../src/scan/ranges.ts';
import { matchPackage, type Platform } from '../../src/scan/records.ts';
import type { OsvAffected, OsvEvent, OsvRange, OsvRecord } from '../../src/vulndb/osv.ts';
import { mutated, type RealRecords, realRecords, record } from './osv-fixture.ts';

const LINUX: Platform = { goos: 'linux', goarch: 'amd64' };

function matches(r: OsvRecord, name: string, version: string, platform = LINUX) {
  const v = GO_ORDER.parse(version);
  assert.ok(v, `${version} is not a Go version`);
  return matchPackage([r], name, v, GO_ORDER, platform);
}

function affected(recs: RealRecords, id: string, name: string, version: string): boolean {
  return matches(record(recs, id), name, version).length > 0;
}

test('SEMVER ranges: several introduced/fixed pairs; equal to fixed never matches', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  // GO-2023-1864 (k8s.io/kubernetes): 0-1.24.14, 1.25.0-1.25.10, 1.26.0-1.26.5, 1.27.0-1.27.2.
  const k8s = (v: string) => affected(recs, 'GO-2023-1864', 'k8s.io/kubernetes', v);
  assert.ok(k8s('v1.24.13'));
  assert.ok(!k8s('v1.24.14'), 'equal to a fixed version');
  assert.ok(!k8s('v1.24.20'), 'between a fix and the next introduced');
  assert.ok(k8s('v1.25.0'), 'equal to an introduced version');
  assert.ok(k8s('v1.26.4'));
  assert.ok(!k8s('v1.27.2'));
  assert.ok(!k8s('v1.28.0'));
  // OSV does not require events in order: the same record with its events reversed agrees.
  const reversed = mutated(record(recs, 'GO-2023-1864'), (r) => {
    for (const a of r.affected ?? []) for (const range of a.ranges ?? []) range.events.reverse();
  });
  for (const v of ['v1.24.13', 'v1.24.14', 'v1.24.20', 'v1.25.0', 'v1.26.4', 'v1.27.2'])
    assert.equal(matches(reversed, 'k8s.io/kubernetes', v).length > 0, k8s(v), v);
  // The fix shown is the lowest above, on the same line where there is one.
  assert.deepEqual(
    matches(record(recs, 'GO-2023-1864'), 'k8s.io/kubernetes', 'v1.25.3')[0]?.fixes.map((f) => [f.display, f.sameLine]),
    [
      ['1.25.10', true],
      ['1.26.5', false],
      ['1.27.2', false],
    ],
  );
});

test('versions stored without `v` match installed versions with it, and the other way round', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  // GO-2024-2491: runc introduced 1.0.0-rc93, fixed 1.1.12.
  for (const v of ['v1.1.5', '1.1.5', 'v1.0.0-rc93', 'v1.1.11'])
    assert.ok(affected(recs, 'GO-2024-2491', 'github.com/opencontainers/runc', v), v);
  for (const v of ['v1.1.12', '1.1.12', 'v1.0.0-rc92', 'v1.2.0'])
    assert.ok(!affected(recs, 'GO-2024-2491', 'github.com/opencontainers/runc', v), v);
  assert.equal(
    matches(record(recs, 'GO-2024-2491'), 'github.com/opencontainers/runc', 'v1.1.5')[0]?.fixes[0]?.display,
    '1.1.12',
  );
});

test('pseudo-versions and introduced "0" (from the very first commit)', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  // GO-2022-0965 (k8s.io/apimachinery): introduced 0, fixed 0.0.0-20190927203648-9ce6eca90e73.
  const am = (v: string) => affected(recs, 'GO-2022-0965', 'k8s.io/apimachinery', v);
  assert.ok(am('v0.0.0-20170101000000-aaaaaaaaaaaa'), 'the oldest pseudo-version is inside "0"');
  assert.ok(am('v0.0.0-20190927203647-ffffffffffff'));
  assert.ok(!am('v0.0.0-20190927203648-9ce6eca90e73'), 'the fixing commit itself');
  assert.ok(!am('v0.0.0-20191001000000-aaaaaaaaaaaa'));
  assert.ok(!am('v0.16.0'), 'every release is after a v0.0.0 pseudo-version');
});

test('+incompatible versions, and custom_ranges that add to the SEMVER ranges', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  // GO-2024-2521 (github.com/docker/docker): fixed 20.10.0-beta1+incompatible.
  const docker = (v: string) => affected(recs, 'GO-2024-2521', 'github.com/docker/docker', v);
  assert.ok(docker('v17.12.0-ce-rc1.0.20200916142827-bd33bbf0497b+incompatible'));
  assert.ok(!docker('v20.10.0-beta1+incompatible'), 'equal to the fix, +incompatible on both sides');
  assert.ok(!docker('v20.10.5+incompatible'));
  // GO-2024-2527 (go.etcd.io/etcd): SEMVER < 0.5.0-alpha.5.0.2022...; custom 3.2.22 <= v < 3.4.22.
  const etcd = (v: string) => affected(recs, 'GO-2024-2527', 'go.etcd.io/etcd', v);
  assert.ok(etcd('v0.5.0-alpha.5'), 'SEMVER range');
  assert.ok(etcd('v3.3.25+incompatible'), 'custom range (added, not replaced)');
  assert.ok(!etcd('v3.4.22+incompatible'));
  assert.ok(!etcd('v3.2.21+incompatible'));
  // Without the custom range, the same version is not matched: the custom range did it.
  const semverOnly = mutated(record(recs, 'GO-2024-2527'), (r) => {
    for (const a of r.affected ?? []) delete a.ecosystem_specific?.custom_ranges;
  });
  assert.equal(matches(semverOnly, 'go.etcd.io/etcd', 'v3.3.25+incompatible').length, 0);
});

test('the placeholder {introduced: "0"} is dropped only when custom ranges hold the real ones', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const k3s = record(recs, 'GO-2025-3646').affected?.[0];
  assert.ok(k3s);
  assert.deepEqual(effectiveRanges(k3s), [
    { type: 'ECOSYSTEM', events: [{ introduced: '1.32.0-rc1' }, { fixed: '1.32.4-rc1' }] },
  ]);
  // GO-2025-3521 (k8s.io/kubernetes): {introduced: "0"} and no custom ranges: really every version.
  assert.ok(affected(recs, 'GO-2025-3521', 'k8s.io/kubernetes', 'v1.33.0'));
  // GO-2024-2476 (dex): the placeholder, and the custom range 2.37.0 <= v < 2.38.0.
  const dex = (v: string) => affected(recs, 'GO-2024-2476', 'github.com/dexidp/dex', v);
  assert.ok(dex('v2.37.0') && !dex('v2.38.0') && !dex('v2.36.0'), 'custom range decides, not the placeholder');
  // The same real range beside the placeholder as an ECOSYSTEM range, or under database_specific.
  const moved = (where: 'ranges' | 'database_specific') =>
    mutated(record(recs, 'GO-2024-2476'), (r) => {
      for (const a of r.affected ?? []) {
        const custom = a.ecosystem_specific?.custom_ranges as OsvRange[];
        delete a.ecosystem_specific?.custom_ranges;
        if (where === 'ranges') a.ranges = [...(a.ranges ?? []), ...custom];
        else a.database_specific = { custom_ranges: custom };
      }
    });
  for (const r of [moved('ranges'), moved('database_specific')]) {
    assert.equal(matches(r, 'github.com/dexidp/dex', 'v2.37.0').length, 1);
    assert.equal(matches(r, 'github.com/dexidp/dex', 'v2.36.0').length, 0);
  }
  // Mutation: without its custom range the placeholder would flag every version.
  const naive = mutated(record(recs, 'GO-2024-2476'), (r) => {
    for (const a of r.affected ?? []) delete a.ecosystem_specific?.custom_ranges;
  });
  assert.equal(matches(naive, 'github.com/dexidp/dex', 'v2.36.0').length, 1);
});

test('last_affected: the version itself is affected, the next one is not', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  // No record of the dump uses last_affected: GO-2024-2491 with `fixed: 1.1.12` rewritten as
  // `last_affected: 1.1.11`, the same statement in the other form.
  const r = mutated(record(recs, 'GO-2024-2491'), (c) => {
    const events = c.affected?.[0]?.ranges?.[0]?.events;
    assert.ok(events);
    events[1] = { last_affected: '1.1.11' };
  });
  const runc = (v: string) => matches(r, 'github.com/opencontainers/runc', v).length > 0;
  assert.ok(runc('v1.1.11'));
  assert.ok(runc('v1.1.5'));
  assert.ok(!runc('v1.1.12-rc.1'), 'anything above last_affected, pre-releases included');
  assert.ok(!runc('v1.1.12'));
  assert.deepEqual(matches(r, 'github.com/opencontainers/runc', 'v1.1.5')[0]?.fixes, [], 'no fixed version to show');
});

test('every range of every real record: each fixed version is outside it, each introduced inside', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  let fixedChecked = 0;
  let introducedChecked = 0;
  for (const r of recs.all) {
    for (const a of r.affected ?? []) {
      if (a.package?.name === 'github.com/k3s-io/k3s') continue; // K3s order: advisories.test.ts
      for (const range of effectiveRanges(a)) {
        // One range alone in a fresh entry, so no other range can explain the answer.
        const alone = compileEntry({ package: a.package, ranges: [range] }, GO_ORDER);
        if (alone.ranges.length === 0) continue; // versions Go cannot read (19.03.0): not evaluated
        for (const e of range.events) {
          if ('fixed' in e) {
            assert.ok(!entryAffects(alone, GO_ORDER.parse(e.fixed) as never, GO_ORDER), `${r.id}: fixed ${e.fixed}`);
            fixedChecked++;
          } else if ('introduced' in e && e.introduced !== '0') {
            assert.ok(
              entryAffects(alone, GO_ORDER.parse(e.introduced) as never, GO_ORDER),
              `${r.id}: introduced ${e.introduced}`,
            );
            introducedChecked++;
          }
        }
      }
    }
  }
  assert.ok(fixedChecked > 5000 && introducedChecked > 1000, `${fixedChecked} fixed, ${introducedChecked} introduced`);
});

test('a fixed version still inside another range of the record is not offered as the fix', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  // GO-2023-2185 (stdlib, windows): entry 1 fixed 1.20.11, entry 2 introduced 1.20.11 fixed 1.20.12.
  const win = { goos: 'windows', goarch: 'amd64' };
  const m = matches(record(recs, 'GO-2023-2185'), 'stdlib', '1.20.10', win);
  assert.equal(m[0]?.fixes[0]?.display, '1.20.12');
  assert.equal(matches(record(recs, 'GO-2023-2185'), 'stdlib', '1.20.11', win).length, 1, 'the second entry');
});

// coveredAmong (the sweep fixesAbove uses) must answer exactly as entryAffects, range by range.
const goVersions = (texts: readonly string[]) =>
  texts
    .map((t) => GO_ORDER.parse(t))
    .filter((v) => v !== undefined)
    .sort(GO_ORDER.compare);

function assertSweepAgrees(entries: OsvAffected[], probes: readonly string[], what: string): void {
  const compiled = entries.map((e) => compileEntry(e, GO_ORDER));
  const versions = goVersions(probes);
  const swept = coveredAmong(compiled, versions, GO_ORDER);
  for (const [i, v] of versions.entries()) {
    const expected = compiled.some((c) => entryAffects(c, v, GO_ORDER));
    if (swept[i] !== expected) assert.fail(`${what} at ${JSON.stringify(v)}: swept ${swept[i]}, evaluated ${expected}`);
  }
}

test('the interval sweep agrees with range evaluation: every range of up to 3 events, ties included', () => {
  // Every event sequence of length 1 to 3 over three versions (ties, reversed orders,
  // last_affected next to fixed at the same version, "0"), probed at, between and around them.
  const choices: OsvEvent[] = [{ introduced: '0' }];
  for (const v of ['1.0.0', '1.1.0', '1.2.0']) choices.push({ introduced: v }, { fixed: v }, { last_affected: v });
  const probes = [
    '0.0.0-20000101000000-000000000000',
    '0.9.0',
    '1.0.0-0',
    '1.0.0',
    '1.0.5',
    '1.1.0',
    '1.1.5',
    '1.2.0',
    '1.3.0',
  ];
  const entry = (...ranges: OsvEvent[][]): OsvAffected => ({
    package: { ecosystem: 'Go', name: 'example.com/m' },
    ranges: ranges.map((events) => ({ type: 'SEMVER', events })),
  });
  let sequences: OsvEvent[][] = [[]];
  const all: OsvEvent[][] = [];
  for (let length = 1; length <= 3; length++) {
    sequences = sequences.flatMap((seq) => choices.map((c) => [...seq, c]));
    all.push(...sequences);
  }
  for (const events of all) assertSweepAgrees([entry(events)], probes, JSON.stringify(events));
  // Two ranges of one entry, and two entries: the union.
  const short = all.filter((e) => e.length <= 2);
  for (const a of short.slice(0, 60))
    for (const b of short) {
      assertSweepAgrees([entry(a, b)], probes, `${JSON.stringify(a)} + ${JSON.stringify(b)}`);
      assertSweepAgrees([entry(a), entry(b)], probes, `${JSON.stringify(a)} | ${JSON.stringify(b)}`);
    }
  // Versions listed one by one.
  assertSweepAgrees(
    [{ ...entry([{ introduced: '1.2.0' }]), versions: ['1.0.5', '1.1.0'] }],
    probes,
    'versions[] and a range',
  );
});

test('the interval sweep agrees with range evaluation on every real record', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  let probed = 0;
  for (const r of recs.all)
    for (const a of r.affected ?? []) {
      if (a.package?.name === 'github.com/k3s-io/k3s') continue; // K3s order
      const texts = effectiveRanges(a).flatMap((range) =>
        range.events.flatMap((e) => Object.values(e) as string[]).filter((x) => x !== '0'),
      );
      // At each event version, just below it (a pre-release), and outside them all.
      const probes = [...texts, ...texts.map((x) => (x.includes('-') ? `${x}.0` : `${x}-0`)), '0.0.1', '999.0.0'];
      assertSweepAgrees([a], probes, r.id);
      probed++;
    }
  assert.ok(probed > 1000, `${probed} entries`);
});

test('one record of 30,000 ranges: matched, with every fix above the installed version found', () => {
  // Ranges [1.0.2i, 1.0.2i+1) and one more, [1.0.100, 1.0.200), which keeps the 50 fixes inside
  // it (1.0.101 ... 1.0.199) from being offered: they are still affected. The old matcher ran
  // every range for every fix: 30,000 x 30,000 evaluations.
  const n = 30_000;
  const ranges: OsvRange[] = [];
  for (let i = 0; i < n; i++)
    ranges.push({ type: 'SEMVER', events: [{ introduced: `1.0.${2 * i}` }, { fixed: `1.0.${2 * i + 1}` }] });
  ranges.push({ type: 'SEMVER', events: [{ introduced: '1.0.100' }, { fixed: '1.0.200' }] });
  const big: OsvRecord = {
    id: 'GO-9999-0001',
    modified: '2026-01-01T00:00:00Z',
    affected: [{ package: { ecosystem: 'Go', name: 'example.com/many' }, ranges }],
  };
  const [m] = matches(big, 'example.com/many', 'v1.0.0');
  assert.ok(m, 'v1.0.0 is in the first range');
  const expected: string[] = [];
  for (let i = 0; i < n; i++) if (2 * i + 1 < 100 || 2 * i + 1 >= 200) expected.push(`1.0.${2 * i + 1}`);
  assert.equal(m.fixes.length, n - 50);
  assert.deepEqual(
    m.fixes.map((f) => f.display),
    expected,
  );
  assert.equal(matches(big, 'example.com/many', 'v1.0.150').length, 1, 'inside the long range');
  assert.equal(matches(big, 'example.com/many', 'v1.0.60001').length, 0, 'above every range');
});
