import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  compareGoSemver,
  compareGoVersions,
  type GoSemver,
  parseGoSemver,
  withoutV,
} from '../../src/versions/gosemver.ts';
import { CACHE_DIR, SHARED_DATA } from '../fixtures/realbins.ts';
import { goEnv, goUnavailable } from '../readers/goversionm.ts';
import { realRecords } from '../scan/osv-fixture.ts';

const cmp = (a: string, b: string): number | undefined => compareGoVersions(a, b);

test('versions with and without `v` are the same version', () => {
  assert.equal(cmp('v1.1.12', '1.1.12'), 0);
  assert.equal(cmp('1.1.5', 'v1.1.12'), -1);
  assert.equal(withoutV('v1.2.3'), '1.2.3');
});

test('pre-releases sort below their release, numerically and by identifier', () => {
  assert.equal(cmp('1.0.0-rc93', '1.0.0'), -1);
  assert.equal(cmp('1.22.0-0', '1.22.0-rc.1'), -1); // the vulndb's "from the first pre-release"
  assert.equal(cmp('1.21.0-rc.2', '1.21.0-rc.10'), -1); // numeric identifiers compare as numbers
  assert.equal(cmp('1.0.0-alpha', '1.0.0-alpha.1'), -1); // a longer set of identifiers is higher
  assert.equal(cmp('1.0.0-alpha.beta', '1.0.0-beta'), -1);
  assert.equal(cmp('1.0.0-1', '1.0.0-alpha'), -1); // numeric below alphanumeric
  // Numbers beyond 2^53 still compare exactly.
  assert.equal(cmp('1.0.0-99999999999999999999', '1.0.0-100000000000000000000'), -1);
  assert.equal(cmp('99999999999999999999.0.0', '100000000000000000000.0.0'), -1);
});

test('pseudo-versions sit where their commit sits', () => {
  // vX.0.0-T-H: before every release of X.
  assert.equal(cmp('v0.0.0-20190927203648-9ce6eca90e73', 'v0.1.0'), -1);
  assert.equal(cmp('v0.0.0-20190801000000-aaaaaaaaaaaa', 'v0.0.0-20190927203648-9ce6eca90e73'), -1);
  // vX.Y.(Z+1)-0.T-H: after vX.Y.Z, before vX.Y.(Z+1) and its pre-releases.
  assert.equal(cmp('v1.1.5', 'v1.1.6-0.20230102150405-abcdef123456'), -1);
  assert.equal(cmp('v1.1.6-0.20230102150405-abcdef123456', 'v1.1.6-rc.1'), -1);
  assert.equal(cmp('v1.1.6-0.20230102150405-abcdef123456', 'v1.1.6'), -1);
  // vX.Y.Z-pre.0.T-H: after vX.Y.Z-pre.
  assert.equal(cmp('v1.2.0-rc.1', 'v1.2.0-rc.1.0.20230102150405-abcdef123456'), -1);
  assert.equal(cmp('v1.2.0-rc.1.0.20230102150405-abcdef123456', 'v1.2.0-rc.2'), -1);
});

test('+incompatible is build metadata: it never changes the order', () => {
  assert.equal(cmp('v20.10.0-beta1+incompatible', '20.10.0-beta1'), 0);
  assert.equal(cmp('v17.12.0-ce-rc1.0.20200916142827-bd33bbf0497b+incompatible', '20.10.0-beta1+incompatible'), -1);
  // Docker's v19.03.x tags are not SemVer (a leading zero): Go cannot use them as versions.
  assert.equal(parseGoSemver('v19.03.15+incompatible'), undefined);
  assert.equal(parseGoSemver('v20.10.5+incompatible')?.build, 'incompatible');
});

test('invalid versions are refused, not guessed', () => {
  for (const bad of [
    '',
    'v',
    '(devel)',
    'v1.2.3-',
    'v1.2.3+',
    'v01.2.3',
    'v1.2.3-01',
    'v1.2.3.4',
    'latest',
    'v1.2-rc1',
    'v1.2.3-a..b',
  ])
    assert.equal(parseGoSemver(bad), undefined, bad);
  // Go's shorthands: v1 = v1.0.0, v1.2 = v1.2.0.
  assert.equal(cmp('v1', 'v1.0.0'), 0);
  assert.equal(cmp('v1.2', 'v1.2.0'), 0);
  assert.equal(cmp('v1.2.3', 'junk'), undefined);
});

// The oracle: Go's own golang.org/x/mod/semver, as vendored in the Go distribution on this
// machine (GOROOT/src/cmd/vendor), built at test time into a program that ranks versions.
function semverOracle(): { rank: (versions: string[]) => Array<number | undefined> } | { skip: string } {
  const why = goUnavailable();
  if (why) return { skip: why };
  const goroot = execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8', env: goEnv() }).trim();
  const src = join(goroot, 'src', 'cmd', 'vendor', 'golang.org', 'x', 'mod', 'semver', 'semver.go');
  if (!existsSync(src)) return { skip: `${src} not found: Go's semver package is unavailable` };
  const dir = mkdtempSync(join(tmpdir(), 'k3sg-semver-'));
  mkdirSync(join(dir, 'semver'));
  copyFileSync(src, join(dir, 'semver', 'semver.go'));
  writeFileSync(join(dir, 'go.mod'), 'module oracle\n\ngo 1.19\n');
  writeFileSync(
    join(dir, 'main.go'),
    `package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"

	"oracle/semver"
)

// Prints, for every input line, "-" when invalid, else the rank of its equivalence class.
func main() {
	var in []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		in = append(in, sc.Text())
	}
	var valid []string
	for _, v := range in {
		if semver.IsValid(v) {
			valid = append(valid, v)
		}
	}
	sort.SliceStable(valid, func(i, j int) bool { return semver.Compare(valid[i], valid[j]) < 0 })
	rank := map[string]int{}
	r := 0
	for i, v := range valid {
		if i > 0 && semver.Compare(valid[i-1], v) != 0 {
			r++
		}
		rank[v] = r
	}
	for _, v := range in {
		if semver.IsValid(v) {
			fmt.Println(rank[v])
		} else {
			fmt.Println("-")
		}
	}
}
`,
  );
  const env = goEnv({ GOCACHE: join(CACHE_DIR, 'gocache'), GOPROXY: 'off', GOPATH: join(dir, 'gopath') });
  execFileSync('go', ['build', '-o', 'oracle', '.'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    rank(versions) {
      try {
        const out = execFileSync(join(dir, 'oracle'), {
          input: versions.join('\n'),
          encoding: 'utf8',
          maxBuffer: 1 << 26,
        });
        return out
          .trim()
          .split('\n')
          .map((l) => (l === '-' ? undefined : Number(l)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

test('orders every version of the real records and binaries exactly as Go does', (t) => {
  const recs = realRecords();
  if ('skip' in recs) return t.skip(recs.skip);
  const oracle = semverOracle();
  if ('skip' in oracle) return t.skip(oracle.skip);
  const versions = new Set<string>();
  for (const r of recs.all)
    for (const a of r.affected ?? []) {
      const custom = (a.ecosystem_specific as { custom_ranges?: typeof a.ranges } | undefined)?.custom_ranges ?? [];
      for (const range of [...(a.ranges ?? []), ...custom])
        for (const e of range.events) for (const v of Object.values(e)) if (v !== '0') versions.add(`v${withoutV(v)}`);
    }
  // Module versions as binaries record them (`go version -m` of real binaries).
  for (const f of readdirSync(join(SHARED_DATA, 'gobin')))
    for (const line of readFileSync(join(SHARED_DATA, 'gobin', f), 'utf8').split('\n')) {
      const v = line.split('\t')[3];
      if (v?.startsWith('v')) versions.add(v);
    }
  for (const v of ['v1.2.3-', 'v01.2.3', 'v1.2.3-01', 'v1', 'v1.2', 'v1.2.3+incompatible', 'v1.2.3-rc.1+meta'])
    versions.add(v);
  const list = [...versions];
  assert.ok(list.length > 2500, `only ${list.length} versions gathered`);
  const ranks = oracle.rank(list);
  const ours: Array<{ v: GoSemver; rank: number; text: string }> = [];
  list.forEach((text, i) => {
    const parsed = parseGoSemver(text);
    assert.equal(parsed !== undefined, ranks[i] !== undefined, `validity of ${text}`);
    if (parsed) ours.push({ v: parsed, rank: ranks[i] as number, text });
  });
  // Sorted by our order, Go's ranks must never go down, and ties must be Go's ties.
  ours.sort((a, b) => compareGoSemver(a.v, b.v));
  for (let i = 1; i < ours.length; i++) {
    const [a, b] = [ours[i - 1], ours[i]] as [(typeof ours)[0], (typeof ours)[0]];
    const same = compareGoSemver(a.v, b.v) === 0;
    assert.ok(a.rank <= b.rank, `${a.text} before ${b.text}, Go says otherwise`);
    assert.equal(same, a.rank === b.rank, `${a.text} vs ${b.text}: equal for one, not the other`);
  }
});
