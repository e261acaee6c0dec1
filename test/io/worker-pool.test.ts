// The one worker pool, with a real worker thread (pool-worker.ts): replies, lazy start up to
// the size, a request that throws, a worker that dies, close.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerPool } from '../../src/io/worker-pool.ts';
import type { PoolReply, PoolRequest } from './pool-worker.ts';

const ENTRY = new URL('./pool-worker.ts', import.meta.url);

test('workers start when there is work, never more than the size; every request gets its own reply', async (t) => {
  const pool = new WorkerPool<PoolRequest, PoolReply>(ENTRY, 2);
  t.after(() => pool.close());
  assert.equal(pool.started, 0);
  const replies = await Promise.all([1, 2, 3, 4, 5].map((value) => pool.run({ op: 'echo', value, ms: 20 })));
  assert.deepEqual(
    replies.map((r) => r.value),
    [2, 4, 6, 8, 10],
  );
  assert.equal(pool.started, 2);
  assert.equal(new Set(replies.map((r) => r.thread)).size, 2, 'both workers took requests');
  await pool.run({ op: 'echo', value: 1 });
  assert.equal(pool.started, 2, 'idle workers are reused');
});

test('a request whose handler throws rejects alone; the worker stays', async (t) => {
  const pool = new WorkerPool<PoolRequest, PoolReply>(ENTRY, 1);
  t.after(() => pool.close());
  await assert.rejects(pool.run({ op: 'throw' }), { message: 'asked to fail' });
  assert.equal((await pool.run({ op: 'echo', value: 4 })).value, 8);
  assert.equal(pool.started, 1);
});

test('a worker that dies rejects the request it was on; the next request gets a new worker', async (t) => {
  const pool = new WorkerPool<PoolRequest, PoolReply>(ENTRY, 1);
  t.after(() => pool.close());
  const first = await pool.run({ op: 'echo', value: 1 });
  const dies = pool.run({ op: 'die' });
  const queued = pool.run({ op: 'echo', value: 3 });
  await assert.rejects(dies, { message: 'worker exited with code 3' });
  const after = await queued;
  assert.equal(after.value, 6);
  assert.notEqual(after.thread, first.thread);
  assert.equal(pool.started, 2);
});

test('close rejects what is still queued, and a closed pool refuses work', async () => {
  const pool = new WorkerPool<PoolRequest, PoolReply>(ENTRY, 1);
  const running = pool.run({ op: 'echo', value: 1, ms: 200 });
  const queued = pool.run({ op: 'echo', value: 2 });
  const refused = [running, queued].map((p) => assert.rejects(p, { message: 'worker pool: closed' }));
  await pool.close();
  await Promise.all(refused);
  await assert.rejects(pool.run({ op: 'echo', value: 3 }), { message: 'worker pool: closed' });
});

test('queued requests go heaviest first; with whenUp the first waits for the worker (equals keep their order)', async (t) => {
  const order = async (whenUp: boolean): Promise<number[]> => {
    const pool = new WorkerPool<PoolRequest, PoolReply>(ENTRY, 1, { whenUp });
    t.after(() => pool.close());
    const done: number[] = [];
    const weights = [1, 5, 3, 10, 5];
    await Promise.all(weights.map((w, i) => pool.run({ op: 'echo', value: i }, w).then(() => done.push(i))));
    assert.equal(pool.started, 1);
    return done;
  };
  assert.deepEqual(await order(true), [3, 1, 4, 2, 0]);
  // At once: the first request is posted as the worker starts (a caller that keeps its own
  // thread busy after posting still gets the worker's help), the rest by weight.
  assert.deepEqual(await order(false), [0, 3, 1, 4, 2]);
});
