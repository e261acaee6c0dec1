// The registry cache on its own: entries written whole (concurrent writers of one key leave one
// whole entry, no temporary files), read only when whole, of this format, for this key, not
// expired and not from the future; a cache directory that cannot be written is no failure.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CACHE_FORMAT, RegistryCache } from '../../src/readers/registry/cache.ts';
import { tempDir } from '../cli/run.ts';

const isDigest = (v: unknown): v is { digest: string } =>
  typeof v === 'object' && v !== null && typeof (v as { digest: unknown }).digest === 'string';

test('concurrent writers of one key leave one whole entry and no temporary file', async (t) => {
  const dir = tempDir(t);
  const cache = new RegistryCache(dir);
  const values = Array.from({ length: 20 }, (_, i) => ({
    digest: `sha256:${String(i).padStart(64, '0')}`,
    pad: 'x'.repeat(50_000),
  }));
  const errors = await Promise.all(values.map((v) => cache.put('tag', 'r/a:1', v, 60_000)));
  assert.deepEqual(
    errors,
    values.map(() => undefined),
  );
  const hit = await cache.get('tag', 'r/a:1', isDigest);
  assert.ok(hit && values.some((v) => v.digest === hit.value.digest), 'one of the values, whole');
  assert.deepEqual(
    readdirSync(join(dir, 'tag')).filter((f) => f.endsWith('.tmp')),
    [],
  );
  assert.equal(readdirSync(join(dir, 'tag')).length, 1);
});

test('an entry is used only for its key and kind, in its time, and from no future', async (t) => {
  const dir = tempDir(t);
  let clock = 1_000_000;
  const cache = new RegistryCache(dir, { now: () => clock });
  assert.equal(await cache.put('tag', 'r/a:1', { digest: 'sha256:1' }, 1000), undefined);
  assert.equal((await cache.get('tag', 'r/a:1', isDigest))?.value.digest, 'sha256:1');
  assert.equal(await cache.get('verdict', 'r/a:1', isDigest), undefined, 'another kind');
  assert.equal(await cache.get('tag', 'r/a:2', isDigest), undefined, 'another key');
  const [file] = readdirSync(join(dir, 'tag'));
  const path = join(dir, 'tag', file as string);
  const entry = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  assert.equal(entry.format, CACHE_FORMAT);
  // Another key's entry copied under this name is not this key's answer.
  writeFileSync(path, JSON.stringify({ ...entry, key: 'r/b:1' }));
  assert.equal(await cache.get('tag', 'r/a:1', isDigest), undefined);
  writeFileSync(path, JSON.stringify({ ...entry, storedAt: clock + 10 }));
  assert.equal(await cache.get('tag', 'r/a:1', isDigest), undefined, 'stored in the future');
  writeFileSync(path, JSON.stringify(entry));
  clock += 999;
  assert.ok(await cache.get('tag', 'r/a:1', isDigest));
  clock += 1;
  assert.equal(await cache.get('tag', 'r/a:1', isDigest), undefined, 'expired');
});

test('a cache that cannot be written is reported by put, not thrown, and reads as empty', async (t) => {
  const file = join(tempDir(t), 'not-a-dir');
  writeFileSync(file, '');
  const cache = new RegistryCache(file);
  assert.ok((await cache.put('tag', 'k', { digest: 'd' }, 1000)) instanceof Error);
  assert.equal(await cache.get('tag', 'k', isDigest), undefined);
});

test('with memoryEntries, whole entries are answered from memory, in their time, the oldest forgotten first', async (t) => {
  const dir = tempDir(t);
  let clock = 1_000_000;
  const cache = new RegistryCache(dir, { now: () => clock, memoryEntries: 2 });
  await cache.put('tag', 'r/a:1', { digest: 'sha256:a' }, 1000);
  await cache.put('tag', 'r/b:1', { digest: 'sha256:b' }, 1000);
  // The files gone: memory answers (no file is read for them).
  for (const f of readdirSync(join(dir, 'tag'))) writeFileSync(join(dir, 'tag', f), 'damaged');
  assert.equal((await cache.get('tag', 'r/a:1', isDigest))?.value.digest, 'sha256:a');
  assert.equal((await cache.get('tag', 'r/b:1', isDigest))?.value.digest, 'sha256:b');
  // A third entry pushes out the oldest (r/a:1), whose damaged file then answers nothing.
  await cache.put('tag', 'r/c:1', { digest: 'sha256:c' }, 1000);
  assert.equal(await cache.get('tag', 'r/a:1', isDigest), undefined);
  assert.equal((await cache.get('tag', 'r/c:1', isDigest))?.value.digest, 'sha256:c');
  // The value's check still applies to what memory holds.
  const never = (v: unknown): v is { digest: string } => isDigest(v) && v.digest === 'never';
  assert.equal(await cache.get('tag', 'r/c:1', never), undefined);
  // Expired in memory as on disk.
  assert.equal((await cache.get('tag', 'r/b:1', isDigest))?.value.digest, 'sha256:b');
  clock += 1000;
  assert.equal(await cache.get('tag', 'r/b:1', isDigest), undefined);
  // Without memoryEntries nothing is held: a damaged file is all there is.
  const plain = new RegistryCache(dir, { now: () => clock });
  await plain.put('tag', 'r/d:1', { digest: 'sha256:d' }, 1000);
  for (const f of readdirSync(join(dir, 'tag'))) writeFileSync(join(dir, 'tag', f), 'damaged');
  assert.equal(await plain.get('tag', 'r/d:1', isDigest), undefined);
});
