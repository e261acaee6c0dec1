// kill -9 of a delivery process mid-delivery, twice, and restarts: every message whose enqueue
// returned arrives at the receiver (dedupe by id); the only duplicates are requests in flight at
// the kill (the receiver answered 2xx to a process that was already dead).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../cli/run.ts';
import { Condition } from './condition.ts';
import { duplicates, startReceiver } from './receiver.ts';

const CHILD = new URL('./deliver-child.ts', import.meta.url).pathname;

interface Child {
  readonly proc: ChildProcess;
  readonly exited: Promise<NodeJS.Signals | number | null>;
}

test('SIGKILL mid-delivery and restart: nothing acknowledged-enqueued is lost', async (t) => {
  const enqueued = new Set<string>();
  const changed = new Condition();
  let current: Child | undefined;
  let killAt = -1; // the receiver's request number at which to kill the running child
  const receiver = await startReceiver(async (_r, n) => {
    if (n === killAt && current) {
      current.proc.kill('SIGKILL'); // by its pid, while this request is still unanswered
      await current.exited;
    }
    await sleep(2); // a receiver that takes a moment, so the kill lands mid-delivery
    return 200;
  });
  t.after(() => receiver.close());
  const dir = tempDir(t);

  function start(count: number, prefix: string): Child {
    const proc = spawn(process.execPath, [CHILD, dir, receiver.url, 'crash-secret', String(count), prefix], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Bounded: a child that outlives its kill point fails the test instead of hanging it.
    const exited = new Promise<NodeJS.Signals | number | null>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`delivery child ${prefix} still running after 120 s`)), 120_000);
      proc.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve(signal ?? code);
      });
    });
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const m = /^enqueued (\S+)$/.exec(line);
      if (m) enqueued.add(m[1] as string);
      changed.notify();
    });
    t.after(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    });
    return { proc, exited };
  }

  // Run 1: 50 alerts; killed when the receiver has its 10th request in hand.
  killAt = 9;
  current = start(50, 'a');
  assert.equal(await current.exited, 'SIGKILL');
  // Run 2: the restart sends what is left while 30 more come; killed again 20 requests later.
  killAt = receiver.received.length + 20;
  current = start(30, 'b');
  assert.equal(await current.exited, 'SIGKILL');
  const beforeLast = enqueued.size;
  // Run 3: nothing new; it must deliver everything still in the outbox.
  killAt = -1;
  current = start(0, 'c');
  const uniqueAcked = () => new Set(receiver.acked.map((r) => r.id));
  await receiver.waitFor(() => [...enqueued].every((id) => uniqueAcked().has(id)));
  current.proc.kill('SIGTERM');
  assert.equal(await current.exited, 0);

  assert.ok(beforeLast >= 10, `messages were enqueued before the kills (${beforeLast})`);
  const missing = [...enqueued].filter((id) => !uniqueAcked().has(id));
  assert.deepEqual(missing, [], 'every message whose enqueue returned was delivered');
  const dups = duplicates(receiver.acked);
  assert.ok(dups <= 2, `at most the one request in flight at each kill is sent twice (${dups})`);
  // Order per channel: first deliveries of each prefix come in enqueue order.
  const first = [...uniqueAcked()];
  for (const prefix of ['a', 'b']) {
    const ids = first.filter((id) => id.startsWith(`${prefix}-`));
    assert.deepEqual(ids, [...ids].sort(), `${prefix}-* in order`);
  }
  t.diagnostic(`enqueued ${enqueued.size}, requests ${receiver.received.length}, duplicates ${dups}`);
});
