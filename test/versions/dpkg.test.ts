import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareDpkgVersions, formatDpkgVersion, parseDpkgVersion } from '../../src/versions/dpkg.ts';
import { CACHE_DIR } from '../fixtures/realbins.ts';

const PAIRS_FILE = join(CACHE_DIR, 'dpkg-pairs.json');
const LISTS = '/var/lib/apt/lists';
const MIN_PAIRS = 2000;

type Answer = -1 | 0 | 1;
interface PairTable {
  source: string;
  pairs: [string, string, Answer][];
}

const hasDpkg = spawnSync('dpkg', ['--version']).status === 0;

/** dpkg's own answers for many pairs: one small shell loop, two dpkg runs per pair at most. */
function dpkgAnswers(pairs: [string, string][]): Answer[] {
  const dir = mkdtempSync(join(tmpdir(), 'dpkg-pairs-'));
  try {
    const input = join(dir, 'pairs');
    writeFileSync(input, `${pairs.map(([a, b]) => `${a} ${b}`).join('\n')}\n`);
    const script =
      'while read -r a b; do if dpkg --compare-versions "$a" lt "$b"; then echo -1; ' +
      'elif dpkg --compare-versions "$a" eq "$b"; then echo 0; else echo 1; fi; done < "$1"';
    const out = execFileSync('sh', ['-c', script, 'sh', input], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const answers = out.trim().split('\n').map(Number) as Answer[];
    assert.equal(answers.length, pairs.length, 'dpkg answered every pair');
    return answers;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Deterministic pseudo-random numbers (mulberry32), so the table is the same on every machine with the same lists. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Package -> versions, from every Packages list apt has (bookworm, -updates, -security). */
function readLists(): Map<string, Set<string>> {
  const byPackage = new Map<string, Set<string>>();
  const files = readdirSync(LISTS).filter((f) => /_Packages(\.[a-z0-9]+)?$/.test(f));
  for (const f of files) {
    // apt-helper decompresses whatever apt stored (lz4 here, xz or gz elsewhere).
    const text = execFileSync('/usr/lib/apt/apt-helper', ['cat-file', join(LISTS, f)], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    let pkg = '';
    for (const line of text.split('\n')) {
      if (line.startsWith('Package: ')) pkg = line.slice(9).trim();
      const add = (name: string, version: string): void => {
        const set = byPackage.get(name) ?? new Set<string>();
        set.add(version);
        byPackage.set(name, set);
      };
      if (line.startsWith('Version: ')) add(pkg, line.slice(9).trim());
      // `Source: name (version)`: the source version differs from the binary's for binNMUs (+b1).
      const src = /^Source: (\S+) \((\S+)\)$/.exec(line);
      if (src?.[1] && src[2]) add(`src:${src[1]}`, src[2]);
    }
  }
  return byPackage;
}

/** Real version pairs chosen to hit the hard cases: same package across lists, near neighbours, special characters, random. */
function choosePairs(byPackage: Map<string, Set<string>>): [string, string][] {
  const rand = seeded(0x6b337367);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const chosen = new Map<string, [string, string]>();
  const add = (a: string, b: string): void => {
    chosen.set(`${a} ${b}`, rand() < 0.5 ? [a, b] : [b, a]);
  };
  // 1. Versions of one package (or source) across lists: +deb12uN against the release, epochs kept.
  for (const versions of byPackage.values()) {
    const vs = [...versions];
    for (let i = 1; i < vs.length; i++) add(vs[0] as string, vs[i] as string);
  }
  const all = [...new Set([...byPackage.values()].flatMap((s) => [...s]))].sort();
  // 2. Neighbours in plain string order share long prefixes: the comparison reaches deep.
  for (let i = 1; i < all.length; i += Math.max(1, Math.floor(all.length / 700)))
    add(all[i - 1] as string, all[i] as string);
  // 3. Special characters, each paired with a version sharing its first characters.
  const byPrefix = new Map<string, string[]>();
  for (const v of all) {
    const key = v.slice(0, 3);
    byPrefix.set(key, [...(byPrefix.get(key) ?? []), v]);
  }
  for (const feature of [/~/, /^\d+:/, /\+dfsg/, /\+deb\d+u/, /\+b\d+$/, /[a-z]-/, /\+really/, /-\d+\.\d+$/]) {
    const having = all.filter((v) => feature.test(v));
    for (let n = 0; n < 120 && having.length > 0; n++) {
      const v = pick(having);
      add(v, pick(byPrefix.get(v.slice(0, 3)) ?? [v]));
    }
  }
  // 4. Random pairs, and a few identical ones (dpkg must say equal).
  for (let n = 0; n < 500; n++) add(pick(all), pick(all));
  for (let n = 0; n < 20; n++) {
    const v = pick(all);
    add(v, v);
  }
  return [...chosen.values()];
}

function pairTable(): PairTable | { skip: string } {
  if (existsSync(PAIRS_FILE)) return JSON.parse(readFileSync(PAIRS_FILE, 'utf8')) as PairTable;
  if (!hasDpkg) return { skip: 'no dpkg on PATH to compute the reference answers' };
  if (!existsSync('/usr/lib/apt/apt-helper') || !existsSync(LISTS)) return { skip: 'no apt package lists' };
  const byPackage = readLists();
  if (byPackage.size === 0) return { skip: `no Packages lists in ${LISTS} (run apt-get update)` };
  const pairs = choosePairs(byPackage);
  const answers = dpkgAnswers(pairs);
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const dpkgVersion = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'dpkg'], { encoding: 'utf8' });
  const table: PairTable = {
    source: `apt lists in ${LISTS}; answers from dpkg ${dpkgVersion}`,
    pairs: pairs.map(([a, b], i) => [a, b, answers[i] as Answer]),
  };
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(PAIRS_FILE, JSON.stringify(table));
  return table;
}

test('dpkg order on at least 2,000 real Debian version pairs equals `dpkg --compare-versions`', (t) => {
  const table = pairTable();
  if ('skip' in table) return t.skip(table.skip);
  assert.ok(table.pairs.length >= MIN_PAIRS, `only ${table.pairs.length} pairs`);
  const wrong = table.pairs.filter(([a, b, want]) => compareDpkgVersions(a, b) !== want);
  assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${table.pairs.length} pairs disagree with dpkg`);
  // The table must exercise what makes dpkg's order special, or it proves little.
  const has = (re: RegExp): number => table.pairs.filter(([a, b]) => re.test(a) || re.test(b)).length;
  for (const re of [/~/, /^\d+:/, /\+dfsg/, /\+deb\d+u/]) assert.ok(has(re) >= 50, `few pairs with ${re}`);
  for (const want of [-1, 0, 1])
    assert.ok(
      table.pairs.some((p) => p[2] === want),
      `no pair answering ${want}`,
    );
});

test('the cached table still holds dpkg answers (a sample is asked again)', (t) => {
  if (!hasDpkg || !existsSync(PAIRS_FILE)) return t.skip('no dpkg on PATH or no cached table');
  const table = JSON.parse(readFileSync(PAIRS_FILE, 'utf8')) as PairTable;
  const rand = seeded(7);
  const sample = Array.from(
    { length: 150 },
    () => table.pairs[Math.floor(rand() * table.pairs.length)] as [string, string, Answer],
  );
  assert.deepEqual(
    dpkgAnswers(sample.map(([a, b]) => [a, b])),
    sample.map((p) => p[2]),
  );
});

// Hand-picked corner cases; each is checked against dpkg too when it is installed.
const CASES: [string, string, Answer][] = [
  ['1.0~rc1', '1.0', -1], // ~ sorts before the end
  ['1.0~~', '1.0~', -1],
  ['1.0~rc1-1', '1.0~rc1', 1],
  ['1:1.0', '2.0', 1], // epoch wins
  ['0:1.0', '1.0', 0],
  ['1.0', '1.0-0', 0], // missing revision equals "0"
  ['1.0-0', '1.0-00', 0],
  ['1.0a', '1.0+', -1], // letters before other characters
  ['1.0a', '1.0.', -1],
  ['1.0', '1.0a', -1],
  ['1.10', '1.9', 1], // digit runs are numbers
  ['1.010', '1.10', 0],
  ['2.36.1-8+deb12u1', '2.36.1-8', 1],
  ['1.2.3+dfsg-1', '1.2.3-1', 1],
  ['1.2.3+dfsg-1', '1.2.3~dfsg-1', 1],
  ['1:9.18.28-1~deb12u2', '1:9.18.28-1', -1],
  ['7.88.1-10+deb12u8', '7.88.1-10+deb12u12', -1],
  ['1.0-1-2', '1.0-1', 1], // upstream may contain a hyphen; the last one starts the revision
  ['12345678901234567890', '12345678901234567889', 1], // longer than any machine integer
];

test('corner cases: tilde, epochs, missing revision, letters, long digit runs', () => {
  for (const [a, b, want] of CASES) assert.equal(compareDpkgVersions(a, b), want, `${a} vs ${b}`);
});

test('corner cases agree with dpkg', (t) => {
  if (!hasDpkg) return t.skip('no dpkg on PATH');
  const answers = dpkgAnswers(CASES.map(([a, b]) => [a, b]));
  assert.deepEqual(
    answers,
    CASES.map((c) => c[2]),
  );
});

test('parse: epoch, upstream with colons and hyphens, revision; dpkg errors are undefined', () => {
  assert.deepEqual(parseDpkgVersion('1:2.3:4-a-5'), { epoch: 1, upstream: '2.3:4-a', revision: '5' });
  assert.deepEqual(parseDpkgVersion(' 2.0 '), { epoch: 0, upstream: '2.0', revision: '' });
  for (const bad of ['', ' ', 'a:1.0', ':1.0', '1:', '1.0-', '1.0 2', '99999999999:1']) {
    assert.equal(parseDpkgVersion(bad), undefined, JSON.stringify(bad));
  }
  assert.equal(compareDpkgVersions('1.0-', '1.0'), undefined);
  const v = parseDpkgVersion('0:1.2-3');
  assert.ok(v);
  assert.equal(formatDpkgVersion(v), '1.2-3');
});
