// importOsv: malformed records skipped with a warning naming them, newer-wins, the three
// source kinds, and the all-or-nothing swap: a failed import and an import killed with
// SIGKILL halfway both leave the previous database working with its previous contents.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isInputError } from '../../src/model/errors.ts';
import { LIMITS } from '../../src/model/limits.ts';
import { openVulnDb } from '../../src/vulndb/db.ts';
import { type ImportWarning, importOsv } from '../../src/vulndb/import.ts';
import {
  GHSA_K3S,
  GOVULNDB,
  govulndbZip,
  noPython,
  noSharedData,
  noZipTool,
  osv,
  pythonZip,
  tempDir,
  zipBomb,
} from './fixtures.ts';

function counts(path: string): { records: number; imports: number } {
  const db = openVulnDb(path);
  try {
    const s = db.status();
    return { records: s.records, imports: s.imports.length };
  } finally {
    db.close();
  }
}

const leftovers = (dir: string): string[] => readdirSync(dir).filter((n) => n !== 'vulndb.sqlite');
const coded = (code: string) => (e: unknown) => isInputError(e) && e.code === code;

test('malformed records are skipped with a warning naming each, and the import goes on', async () => {
  const dir = tempDir();
  const src = join(dir, 'records');
  mkdirSync(join(src, 'nested'), { recursive: true });
  const put = (name: string, value: unknown) =>
    writeFileSync(join(src, name), typeof value === 'string' ? value : JSON.stringify(value));
  put('GO-1.json', osv('GO-1', 'example.com/a'));
  put('nested/GO-2.json', osv('GO-2', 'example.com/b'));
  put('bad-json.json', '{"id": "GO-3", ');
  put('no-id.json', { modified: '2024-01-01T00:00:00Z' });
  put('no-modified.json', { id: 'GO-4' });
  put('bad-date.json', osv('GO-5', 'example.com/c', { modified: 'yesterday' }));
  put(
    'two-kinds.json',
    osv('GO-6', 'example.com/d', {
      affected: [{ ranges: [{ type: 'SEMVER', events: [{ introduced: '0', fixed: '1' }] }] }],
    }),
  );
  put('schema-2.json', osv('GO-7', 'example.com/e', { schema_version: '2.0.0' }));
  put('array.json', [osv('GO-8', 'example.com/f'), 42, osv('GO-9', 'example.com/g', { aliases: 'CVE-1' })]);
  put('README.md', 'not a record, not .json: ignored');
  const warnings: ImportWarning[] = [];
  const result = await importOsv(join(dir, 'vulndb.sqlite'), [src], { onWarning: (w) => warnings.push(w) });
  assert.deepEqual(
    warnings.map((w) => `${w.where.slice(src.length + 1)} ${w.id ?? '-'}`),
    [
      'array.json[1] -',
      'array.json[2] GO-9',
      'bad-date.json GO-5',
      'bad-json.json -',
      'no-id.json -',
      'no-modified.json GO-4',
      'schema-2.json GO-7',
      'two-kinds.json GO-6',
    ],
  );
  assert.match(
    warnings.find((w) => w.id === 'GO-6')?.message ?? '',
    /affected\[0\]\.ranges\[0\]\.events\[0\] is not exactly one of/,
  );
  assert.match(warnings.find((w) => w.where.endsWith('bad-json.json'))?.message ?? '', /skipped: not valid JSON/);
  assert.deepEqual([result.added, result.skipped, result.records], [3, 8, 3]);
  assert.deepEqual(result.warnings, warnings);
  const db = openVulnDb(result.path);
  assert.deepEqual(
    db.recordsFor('Go', 'example.com/b').map((r) => r.id),
    ['GO-2'],
  );
  assert.equal(db.status().imports[0]?.skipped, 8);
  db.close();
});

test('a record past the range or event limit is skipped with a warning and counted, the import goes on', async () => {
  const dir = tempDir();
  const src = join(dir, 'records');
  mkdirSync(src);
  const semver = (events: unknown[]) => ({ type: 'SEMVER', events });
  const manyRanges = Array.from({ length: LIMITS.osvRanges + 20_000 }, (_, i) =>
    semver([{ introduced: `1.0.${2 * i}` }, { fixed: `1.0.${2 * i + 1}` }]),
  );
  const manyEvents = Array.from({ length: LIMITS.osvEvents + 1 }, (_, i) => ({ introduced: `2.0.${i}` }));
  const put = (name: string, value: unknown) => writeFileSync(join(src, name), JSON.stringify(value));
  put('GO-1.json', osv('GO-1', 'example.com/a'));
  put(
    'GO-2.json',
    osv('GO-2', 'example.com/b', {
      affected: [{ package: { ecosystem: 'Go', name: 'example.com/b' }, ranges: manyRanges }],
    }),
  );
  put(
    'GO-3.json',
    osv('GO-3', 'example.com/c', {
      affected: [{ package: { ecosystem: 'Go', name: 'example.com/c' }, ranges: [semver(manyEvents)] }],
    }),
  );
  // Custom ranges count too, wherever the matcher reads them.
  put(
    'DEBIAN-4.json',
    osv('DEBIAN-4', 'example.com/d', {
      affected: [
        {
          package: { ecosystem: 'Debian:12', name: 'd' },
          database_specific: { custom_ranges: manyRanges },
        },
      ],
    }),
  );
  const warnings: ImportWarning[] = [];
  const result = await importOsv(join(dir, 'vulndb.sqlite'), [src], { onWarning: (w) => warnings.push(w) });
  assert.deepEqual([result.added, result.skipped], [1, 3]);
  assert.deepEqual(warnings.map((w) => w.id).sort(), ['DEBIAN-4', 'GO-2', 'GO-3']);
  assert.match(
    warnings.find((w) => w.id === 'GO-2')?.message ?? '',
    new RegExp(`skipped: ${LIMITS.osvRanges + 20_000} ranges, more than the ${LIMITS.osvRanges}`),
  );
  assert.match(warnings.find((w) => w.id === 'GO-3')?.message ?? '', /range events, more than the/);
  const db = openVulnDb(result.path);
  assert.equal(db.status().imports[0]?.skipped, 3);
  assert.deepEqual(db.recordsFor('Go', 'example.com/b'), []);
  db.close();
});

test('the same id twice: the newer modified wins, equal dates the later import', async () => {
  const dir = tempDir();
  const path = join(dir, 'vulndb.sqlite');
  const file = join(dir, 'GO-1.json');
  const importOne = async (modified: string, module: string, alias: string) => {
    writeFileSync(file, JSON.stringify(osv('GO-1', module, { modified, aliases: [alias] })));
    return importOsv(path, [file]);
  };
  assert.equal((await importOne('2024-01-01T00:00:00Z', 'example.com/old', 'CVE-1')).added, 1);
  const newer = await importOne('2024-06-01T00:00:00Z', 'example.com/new', 'CVE-2');
  assert.deepEqual([newer.added, newer.replaced, newer.kept], [0, 1, 0]);
  const older = await importOne('2023-06-01T00:00:00+02:00', 'example.com/older', 'CVE-3');
  assert.deepEqual([older.added, older.replaced, older.kept], [0, 0, 1]);
  let db = openVulnDb(path);
  // The index follows the record that won: no stale rows from the replaced one.
  assert.deepEqual(db.recordsFor('Go', 'example.com/old'), []);
  assert.deepEqual(db.recordsFor('Go', 'example.com/older'), []);
  assert.deepEqual(
    db.recordsFor('Go', 'example.com/new').map((r) => r.modified),
    ['2024-06-01T00:00:00Z'],
  );
  assert.deepEqual(db.aliasesOf('GO-1'), ['CVE-2']);
  assert.equal(db.status().imports.length, 3);
  db.close();
  const same = await importOne('2024-06-01T00:00:00Z', 'example.com/same-date', 'CVE-4');
  assert.equal(same.replaced, 1);
  db = openVulnDb(path);
  assert.deepEqual(db.aliasesOf('GO-1'), ['CVE-4']);
  db.close();
});

test('zero dates (the Go vulndb dump): the later import wins', { skip: noSharedData }, async () => {
  const dir = tempDir();
  const path = join(dir, 'vulndb.sqlite');
  await importOsv(path, [join(GOVULNDB, 'GO-2024-2491.json')]);
  const changed = JSON.parse(readFileSync(join(GOVULNDB, 'GO-2024-2491.json'), 'utf8'));
  changed.summary = 'edited copy';
  writeFileSync(join(dir, 'edited.json'), JSON.stringify(changed));
  assert.equal((await importOsv(path, [join(dir, 'edited.json')])).replaced, 1);
  const db = openVulnDb(path);
  assert.equal(db.record('GO-2024-2491')?.summary, 'edited copy');
  db.close();
});

test('an all.zip and the folder it was made from give the same database', {
  skip: noSharedData ?? noZipTool,
}, async () => {
  const dir = tempDir();
  const progress: string[] = [];
  const fromZip = await importOsv(join(dir, 'zip.sqlite'), [govulndbZip()], {
    progress: (p) => progress.push(p.phase === 'read' ? `read ${p.done}/${p.total}` : p.phase),
  });
  await importOsv(join(dir, 'folder.sqlite'), [GOVULNDB]);
  assert.deepEqual(
    fromZip.sources.map((s) => [s.kind, s.count, s.skipped]),
    [['zip', 4291, 0]],
  );
  assert.equal(progress.at(-2), 'read 4291/4291');
  assert.equal(progress.at(-1), 'commit');
  const [a, b] = [openVulnDb(join(dir, 'zip.sqlite')), openVulnDb(join(dir, 'folder.sqlite'))];
  for (const name of b.allPackageNames('Go')) assert.deepEqual(a.recordsFor('Go', name), b.recordsFor('Go', name));
  a.close();
  b.close();
});

test('a failed import leaves the previous database as it was, and no temp file', { skip: noSharedData }, async () => {
  const dir = tempDir();
  const path = join(dir, 'vulndb.sqlite');
  await importOsv(path, [GHSA_K3S]);
  const before = readFileSync(path);
  writeFileSync(join(dir, 'junk.json'), '[1, 2, 3]');
  await assert.rejects(importOsv(path, [join(dir, 'junk.json')]), coded('NO_RECORDS'));
  await assert.rejects(importOsv(path, [GOVULNDB, join(dir, 'missing')]), coded('NOT_FOUND'));
  if (!noZipTool) await assert.rejects(importOsv(path, [GOVULNDB, zipBomb()]), coded('ZIP_LIMIT'));
  if (!noPython) {
    pythonZip(join(dir, 'evil.zip'), [
      ['../GO-2024-2491.json', readFileSync(join(GOVULNDB, 'GO-2024-2491.json'), 'utf8')],
    ]);
    await assert.rejects(importOsv(path, [join(dir, 'evil.zip')]), coded('UNSAFE_PATH'));
  }
  assert.deepEqual(readFileSync(path), before);
  assert.deepEqual(
    leftovers(dir).filter((n) => !n.endsWith('.json') && !n.endsWith('.zip')),
    [],
  );
  assert.deepEqual(counts(path), { records: 2, imports: 1 });
});

test('an import never overwrites a file that is not its database', async () => {
  const dir = tempDir();
  const path = join(dir, 'vulndb.sqlite');
  writeFileSync(path, 'precious notes, not a database');
  writeFileSync(join(dir, 'GO-1.json'), JSON.stringify(osv('GO-1', 'example.com/a')));
  await assert.rejects(importOsv(path, [join(dir, 'GO-1.json')]), coded('DB_INVALID'));
  assert.equal(readFileSync(path, 'utf8'), 'precious notes, not a database');
  // A database path under a file: nothing can be written there.
  await assert.rejects(importOsv(join(path, 'vulndb.sqlite'), [join(dir, 'GO-1.json')]), coded('OUTPUT'));
});

test('an import killed with SIGKILL halfway leaves the old database working', { skip: noSharedData }, async () => {
  const dir = tempDir();
  const path = join(dir, 'vulndb.sqlite');
  await importOsv(path, [GHSA_K3S]);
  const child = spawn(process.execPath, [join(import.meta.dirname, 'import-child.ts'), path, GOVULNDB, '2000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const said = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(d.toString()));
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before midway`)));
  });
  assert.match(said, /^midway 2000/);
  const temp = leftovers(dir);
  assert.equal(temp.length, 1, 'the child is writing its new database next to the old one');
  const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  assert.deepEqual(counts(path), { records: 2, imports: 1 });
  // The next import removes the dead process's temp file and completes.
  const result = await importOsv(path, [GOVULNDB]);
  assert.equal(result.records, 4293);
  assert.deepEqual(leftovers(dir), []);
  assert.equal(existsSync(join(dir, temp[0] as string)), false);
});
