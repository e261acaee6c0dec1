// A worker for the WorkerPool tests: answers, throws, waits or dies, as asked.
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import { serveRequests } from '../../src/io/worker-serve.ts';

export type PoolRequest = { op: 'echo'; value: number; ms?: number } | { op: 'throw' } | { op: 'die' };
export type PoolReply = { value: number; thread: number };

serveRequests(async (req: PoolRequest): Promise<PoolReply> => {
  if (req.op === 'throw') throw new Error('asked to fail');
  if (req.op === 'die') process.exit(3); // ends this thread only
  if (req.ms) await sleep(req.ms);
  return { value: req.value * 2, thread: threadId };
});
