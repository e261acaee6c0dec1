// Vulnerability database benchmarks (issue 4): whole processes, under GNU time for peak RSS.
// Run: npm run bench:vulndb [-- --runs N]
// 1. import all of ../shared/data/govulndb (4,291 JSON files) into a new database: target < 2 s;
// 2. the same records from an all.zip made by Info-ZIP `zip` (the `db update` path, minus HTTP);
// 3. re-import over an existing database (every record copied, then replaced): a routine update;
// and, in process, the lookups the matcher makes: recordsForMany for 1k, 10k and 100k names.
// `node bench/vulndb.ts --import DB SOURCE...` is the measured child: one import, nothing else.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openVulnDb } from '../src/vulndb/db.ts';
import { importOsv } from '../src/vulndb/import.ts';
import { BENCH_CACHE } from './corpus.ts';
import { measure, q, RUNS } from './measure.ts';

const SELF = resolve(import.meta.dirname, 'vulndb.ts');
const GOVULNDB = resolve(import.meta.dirname, '..', '..', 'shared', 'data', 'govulndb');
const DATA = join(BENCH_CACHE, 'vulndb');
const TARGET_SECONDS = 2;

async function child(db: string, sources: string[]): Promise<void> {
  const r = await importOsv(db, sources);
  console.log(`${r.records} records (${r.added} added, ${r.replaced} replaced, ${r.skipped} skipped)`);
}

function allZip(): string | undefined {
  const dest = join(DATA, 'govulndb-all.zip');
  if (existsSync(dest)) return dest;
  if (spawnSync('zip', ['-v'], { stdio: 'ignore' }).status !== 0) return undefined;
  execFileSync('zip', ['-q', '-r', '-D', `${dest}.tmp.zip`, '.'], { cwd: GOVULNDB });
  execFileSync('mv', [`${dest}.tmp.zip`, dest]);
  return dest;
}

function lookups(db: string): void {
  const vdb = openVulnDb(db);
  const real = [...vdb.allPackageNames('Go')];
  console.log(`\nIn process: recordsForMany('Go', names), ${real.length} names have records, the rest are made up`);
  for (const n of [1_000, 10_000, 100_000]) {
    // Real inventories are mostly modules without advisories: every tenth name is a real one.
    const names = Array.from({ length: n }, (_, i) =>
      i % 10 === 0 ? (real[i % real.length] as string) : `example.com/m${i}/v2`,
    );
    const times: number[] = [];
    for (let run = 0; run <= RUNS; run++) {
      const fresh = openVulnDb(db); // no parsed-record cache carried over between runs
      const t0 = process.hrtime.bigint();
      const found = fresh.recordsForMany('Go', names);
      if (run > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (found.size === 0) throw new Error('no records found');
      fresh.close();
    }
    times.sort((a, b) => a - b);
    console.log(`  ${String(n).padStart(7)} names   median ${(times[times.length >> 1] ?? 0).toFixed(1)} ms`);
  }
  vdb.close();
}

async function main(): Promise<void> {
  if (!existsSync(GOVULNDB)) throw new Error(`bench: ${GOVULNDB} is absent (the ../shared reference data)`);
  mkdirSync(DATA, { recursive: true });
  const db = join(DATA, 'bench.sqlite');
  console.log(`node ${process.version}, ${RUNS} runs after a warm-up; whole processes`);
  measure('node startup alone (for reference)', `node -e 0`);
  const fresh = measure(
    'import govulndb folder into a new db',
    `rm -f ${q(db)} && node ${q(SELF)} --import ${q(db)} ${q(GOVULNDB)}`,
  );
  const zip = allZip();
  if (zip)
    measure('import govulndb all.zip into a new db', `rm -f ${q(db)} && node ${q(SELF)} --import ${q(db)} ${q(zip)}`);
  else console.log('  (all.zip case skipped: Info-ZIP `zip` is not installed)');
  rmSync(db, { force: true });
  await importOsv(db, [GOVULNDB]);
  measure('re-import folder over the existing db', `node ${q(SELF)} --import ${q(db)} ${q(GOVULNDB)}`);
  const verdict = fresh.medianSeconds < TARGET_SECONDS ? 'met' : 'MISSED';
  console.log(
    `\nTarget: folder import under ${TARGET_SECONDS} s: ${verdict} (median ${fresh.medianSeconds.toFixed(3)} s)`,
  );
  lookups(db);
  rmSync(db, { force: true });
}

const at = process.argv.indexOf('--import');
if (at > 0) await child(process.argv[at + 1] as string, process.argv.slice(at + 2));
else await main();
