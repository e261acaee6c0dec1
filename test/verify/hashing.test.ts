// File hashing against coreutils `sha256sum`: sizes around the read-buffer size, real Go
// binaries, several files at once on worker threads, and unreadable files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { chmodSync, copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HASH_WORKER, Hasher, type HashJob, type HashJobReply, hashFiles, sha256File } from '../../src/io/hashing.ts';
import { WorkerPool } from '../../src/io/worker-pool.ts';
import { REAL_BINARIES, realBinary } from '../fixtures/realbins.ts';
import { coreutilsSha256, tempDir } from './release-fixture.ts';

const MiB = 1024 * 1024;

// Deterministic, non-repeating bytes (an AES-CTR keystream), so a read that lands at the wrong
// offset changes the hash.
function pattern(size: number, seed: number): Buffer {
  const key = Buffer.alloc(16, seed);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

describe('sha256File', () => {
  test('equals sha256sum for sizes around the 1 MiB read buffer', (t) => {
    const dir = tempDir(t);
    for (const size of [0, 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 17]) {
      const path = join(dir, `f${size}`);
      writeFileSync(path, pattern(size, size + 1));
      assert.deepEqual(sha256File(path), { sha256: coreutilsSha256(path), size }, `size ${size}`);
    }
  });

  test('missing file, folder, unreadable file: InputErrors naming the file as the user did', (t) => {
    const dir = tempDir(t);
    assert.throws(() => sha256File(join(dir, 'nope'), 'nope'), { code: 'NOT_FOUND', file: 'nope' });
    assert.throws(() => sha256File(dir), { code: 'USAGE', file: dir });
    if (process.getuid?.() === 0) return t.diagnostic('root reads any file: no unreadable case');
    const locked = join(dir, 'locked');
    writeFileSync(locked, 'x');
    chmodSync(locked, 0);
    assert.throws(() => sha256File(locked), { code: 'UNREADABLE' });
  });
});

describe('Hasher: several files at once', () => {
  test('every real Go binary, on 3 threads, in the order asked, equals sha256sum', async (t) => {
    const paths = Object.keys(REAL_BINARIES)
      .map((n) => realBinary(n))
      .flatMap((r) => ('path' in r ? [r.path] : []));
    if (paths.length < 4) return t.skip('fewer than 4 real binaries cached (npm test fetches them)');
    const hasher = new Hasher(3);
    const digests = await hasher.digestAll(paths.map((path) => ({ path })));
    assert.equal(hasher.workersStarted, 2, 'this thread and two workers');
    assert.deepEqual(
      digests.map((d) => d.sha256),
      paths.map(coreutilsSha256),
    );
  });

  test('a file asked for twice (even across calls) is hashed once and gives one answer', async (t) => {
    const dir = tempDir(t);
    const a = join(dir, 'a');
    writeFileSync(a, pattern(MiB + 5, 7));
    const hasher = new Hasher(2);
    const [first, again] = await hasher.digestAll([{ path: a }, { path: join(dir, '.', 'a') }]);
    assert.equal(hasher.workersStarted, 0, 'a small file is hashed on this thread');
    assert.equal(first?.sha256, coreutilsSha256(a));
    assert.equal(again, first);
    // Memoised: changing the file after does not change the answer of this run.
    writeFileSync(a, 'changed');
    assert.equal((await hasher.digest(a)).sha256, first?.sha256);
  });

  test('beside other work: the workers hash everything, small files too', async (t) => {
    const dir = tempDir(t);
    const files = [0, 1, 2].map((i) => {
      const path = join(dir, `f${i}`);
      writeFileSync(path, pattern(MiB + i, i));
      return { path };
    });
    const hasher = new Hasher(2);
    const digests = await hasher.digestAll(files, { beside: true });
    // 3 MiB in all: without `beside` this thread would hash them alone (no worker).
    assert.equal(hasher.workersStarted, 1, 'small files too go to the worker');
    assert.deepEqual(
      digests.map((d) => d.sha256),
      files.map((f) => coreutilsSha256(f.path)),
    );
  });

  test('an unreadable file among many rejects with its InputError; the others are unaffected', async (t) => {
    const dir = tempDir(t);
    const files = [0, 1, 2, 3].map((i) => {
      const p = join(dir, `f${i}`);
      writeFileSync(p, pattern(12 * MiB + i, i)); // 48 MiB in all: enough for the workers to start
      return p;
    });
    const hasher = new Hasher(2);
    await assert.rejects(
      hasher.digestAll(
        [...files, join(dir, 'gone')].map((path) => ({ path, file: `user/${path.slice(dir.length + 1)}` })),
      ),
      { code: 'NOT_FOUND', file: 'user/gone' },
    );
    const good = await hasher.digestAll(files.map((path) => ({ path })));
    assert.deepEqual(
      good.map((d) => d.sha256),
      files.map(coreutilsSha256),
    );
  });

  test('hashFiles on one thread and on several give the same digests', async (t) => {
    const dir = tempDir(t);
    const files = [5, 1, 9].map((n) => {
      const p = join(dir, `m${n}`);
      writeFileSync(p, pattern(n * 5 * MiB + n, n)); // 75 MiB in all: workers take part
      return { path: p };
    });
    const r = realBinary('lefthook-2.2.2');
    if ('path' in r) {
      copyFileSync(r.path, join(dir, 'lefthook'));
      files.push({ path: join(dir, 'lefthook') });
    }
    const parallel = new Hasher(2);
    const digests = await parallel.digestAll(files);
    assert.equal(parallel.workersStarted, 1);
    assert.deepEqual(await new Hasher(1).digestAll(files), digests);
    assert.deepEqual(await hashFiles(files), digests);
  });
});

describe('hash workers', () => {
  test('a worker alone hashes every file of a job (this thread takes none)', async (t) => {
    const dir = tempDir(t);
    const paths = [1, 2, 3].map((n) => {
      const p = join(dir, `w${n}`);
      writeFileSync(p, pattern(n * MiB + 3, n));
      return p;
    });
    const pool = new WorkerPool<HashJob, HashJobReply>(HASH_WORKER, 1);
    t.after(() => pool.close());
    const reply = await pool.run({
      paths: [...paths, join(dir, 'gone')],
      next: new Int32Array(new SharedArrayBuffer(4)),
    });
    const outcomes = reply.sort((a, b) => a[0] - b[0]).map(([, o]) => o);
    assert.deepEqual(
      outcomes.slice(0, 3).map((o) => ('ok' in o ? o.ok.sha256 : o.message)),
      paths.map(coreutilsSha256),
    );
    assert.deepEqual(outcomes[3], { code: 'NOT_FOUND', message: 'no such file' });
  });

  test("with Node's compile cache on, as the CLI runs, a worker starts from it and hashes", (t) => {
    const dir = tempDir(t);
    const files = [1, 2].map((n) => {
      const p = join(dir, `c${n}`);
      writeFileSync(p, pattern(MiB + n, n));
      return p;
    });
    // The worker alone takes the job, so every digest printed was computed by it.
    const script = [
      `import { HASH_WORKER } from ${JSON.stringify(new URL('../../src/io/hashing.ts', import.meta.url).href)};`,
      `import { WorkerPool } from ${JSON.stringify(new URL('../../src/io/worker-pool.ts', import.meta.url).href)};`,
      `const job = { paths: ${JSON.stringify(files)}, next: new Int32Array(new SharedArrayBuffer(4)) };`,
      'const out = [];',
      'for (const [i, o] of await new WorkerPool(HASH_WORKER, 1).run(job)) out[i] = o.ok?.sha256;',
      'console.log(JSON.stringify({ out }));',
    ].join('\n');
    writeFileSync(join(dir, 'run.mjs'), script);
    for (let run = 0; run < 2; run++) {
      // The first run fills the cache; the second is served from it, as a CLI run usually is.
      // The pool is not closed: an idle worker must not keep the process from exiting.
      const out = execFileSync(process.execPath, [join(dir, 'run.mjs')], {
        encoding: 'utf8',
        env: { ...process.env, NODE_COMPILE_CACHE: join(dir, 'cache') },
      });
      assert.deepEqual(JSON.parse(out), { out: files.map(coreutilsSha256) }, `run ${run}`);
    }
    assert.ok(readdirSync(join(dir, 'cache')).length > 0, 'the cache was used');
  });
});
