// The outbox on its own: what is enqueued is on disk in order when enqueue returns, survives a
// reopen (a restart), is bounded, and a torn or damaged file is moved aside, never handed out.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentMetrics } from '../../src/agent/metrics.ts';
import { Outbox, type OutboxNotice } from '../../src/agent/outbox.ts';
import { encodeRecord } from '../../src/agent/outbox-record.ts';
import { tempDir } from '../cli/run.ts';

const body = (n: number) => JSON.stringify({ event: 'finding.new', n });

/** Every message of the channel, read and acknowledged in order (as a sender would). */
function drain(outbox: Outbox, channel: 'webhook' | 'server'): string[] {
  const ids: string[] = [];
  for (let m = outbox.next(channel), i = 0; m && i < 10_000; m = outbox.next(channel), i++) {
    ids.push(m.id);
    outbox.ack(m);
  }
  return ids;
}

test('enqueued messages are files on disk, in enqueue order per channel, and survive a reopen', (t) => {
  const dir = tempDir(t);
  const outbox = new Outbox(dir);
  for (let i = 0; i < 20; i++) {
    outbox.enqueue('webhook', `w${i}`, body(i));
    if (i % 2 === 0) outbox.enqueue('server', `s${i}`, body(i));
  }
  const files = readdirSync(join(dir, 'webhook')).filter((n) => n.endsWith('.msg'));
  assert.equal(files.length, 20, 'one file per message');
  assert.deepEqual([...files].sort(), files.sort(), 'names sort');
  assert.equal(outbox.pending('webhook'), 20);
  assert.equal(outbox.pending('server'), 10);

  // A new Outbox on the same folder is what the agent sees after a restart.
  const opened: OutboxNotice[] = [];
  const reopened = new Outbox(dir, { onNotice: (n) => opened.push(n) });
  assert.deepEqual(opened, [
    { kind: 'opened', channel: 'webhook', pending: 20 },
    { kind: 'opened', channel: 'server', pending: 10 },
  ]);
  assert.deepEqual(
    drain(reopened, 'webhook'),
    Array.from({ length: 20 }, (_, i) => `w${i}`),
  );
  assert.equal(reopened.pending('server'), 10, 'the channels are independent');
  const first = reopened.next('server');
  assert.equal(first?.id, 's0');
  assert.equal(first?.kind, 'report', 'the server channel carries reports by default');
  assert.equal(first?.body, body(0), 'the body comes back byte for byte');
  assert.equal(readdirSync(join(dir, 'webhook')).filter((n) => n.endsWith('.msg')).length, 0, 'acked = removed');

  // Enqueued after the restart: still after what was left.
  reopened.enqueue('server', 'later', body(99));
  const rest = drain(reopened, 'server');
  assert.equal(rest.at(-1), 'later');
  assert.equal(rest.length, 11);
});

test('a torn file, a damaged file and a stranger are moved aside with a note; the rest is delivered', async (t) => {
  const dir = tempDir(t);
  const notices: OutboxNotice[] = [];
  const outbox = new Outbox(dir);
  outbox.enqueue('webhook', 'a', body(1));
  outbox.enqueue('webhook', 'b', body(2));
  outbox.enqueue('webhook', 'c', body(3));
  const [fa, fb, fc] = readdirSync(join(dir, 'webhook')).sort() as [string, string, string];
  // What a crash between write and sync could leave on a file system that reorders: half a file.
  const whole = readFileSync(join(dir, 'webhook', fa));
  writeFileSync(join(dir, 'webhook', fa), whole.subarray(0, whole.length - 7));
  // A bit flipped on disk.
  const flipped = Buffer.from(readFileSync(join(dir, 'webhook', fb)));
  flipped.writeUInt8(flipped.readUInt8(flipped.length - 3) ^ 0x20, flipped.length - 3);
  writeFileSync(join(dir, 'webhook', fb), flipped);
  // A whole record of the other channel, put in this one's folder.
  const stranger = encodeRecord({ id: 'x', channel: 'server', kind: 'report', enqueuedAt: 'now', body: '{}' });
  const strangerName = `${String(Number(fc.slice(0, 17)) + 1).padStart(17, '0')}.msg`;
  writeFileSync(join(dir, 'webhook', strangerName), stranger);
  // A temp file of a writer that died mid-enqueue (pid 2^22+1 is past Linux's pid_max default).
  const temp = `${fc}.4194305.abcdef.tmp`;
  writeFileSync(join(dir, 'webhook', temp), 'half');

  const metrics = new AgentMetrics({ processMetrics: false });
  const reopened = new Outbox(dir, {
    onNotice: (n) => {
      metrics.observeOutbox(n);
      notices.push(n);
    },
  });
  assert.equal(existsSync(join(dir, 'webhook', temp)), false, "a dead writer's temp file is removed");
  assert.deepEqual(drain(reopened, 'webhook'), ['c']);
  const corrupt = notices.filter((n) => n.kind === 'corrupt');
  assert.deepEqual(
    corrupt.map((n) => n.name),
    [fa, fb, strangerName],
  );
  const aside = readdirSync(join(dir, 'webhook', 'corrupt')).sort();
  assert.deepEqual(aside, [fa, `${fa}.note`, fb, `${fb}.note`, strangerName, `${strangerName}.note`].sort());
  assert.match(readFileSync(join(dir, 'webhook', 'corrupt', `${fa}.note`), 'utf8'), /torn write/);
  assert.match(readFileSync(join(dir, 'webhook', 'corrupt', `${fb}.note`), 'utf8'), /sha256 does not match/);
  assert.match(readFileSync(join(dir, 'webhook', 'corrupt', `${strangerName}.note`), 'utf8'), /channel webhook/);
  assert.match(await metrics.metrics(), /^k3sguard_outbox_corrupt_total\{channel="webhook"\} 3$/m);
});

test('over its bound the oldest are dropped and reported, the newest always kept', async (t) => {
  const dir = tempDir(t);
  const dropped: string[] = [];
  const metrics = new AgentMetrics({ processMetrics: false });
  const outbox = new Outbox(dir, {
    maxMessages: 3,
    onNotice: (n) => {
      metrics.observeOutbox(n);
      if (n.kind === 'dropped') dropped.push(n.name);
    },
  });
  for (let i = 0; i < 5; i++) outbox.enqueue('webhook', `m${i}`, body(i));
  assert.equal(outbox.pending('webhook'), 3);
  assert.equal(dropped.length, 2);
  const text = await metrics.metrics();
  assert.match(text, /^k3sguard_outbox_dropped_total\{channel="webhook"\} 2$/m, 'counted in the metric');
  assert.match(text, /^k3sguard_alerts_pending 3$/m);
  assert.deepEqual(drain(outbox, 'webhook'), ['m2', 'm3', 'm4']);

  const bytes = new Outbox(tempDir(t), { maxBytes: 1000 });
  const big = JSON.stringify({ pad: 'x'.repeat(600) });
  bytes.enqueue('server', 'big1', big);
  bytes.enqueue('server', 'big2', big);
  assert.equal(bytes.pending('server'), 1, 'two do not fit in 1000 bytes');
  assert.ok(bytes.pendingBytes('server') > 600);
  bytes.enqueue('server', 'huge', JSON.stringify({ pad: 'x'.repeat(5000) }));
  assert.deepEqual(drain(bytes, 'server'), ['huge'], 'a message larger than the bound is still kept alone');
});

test('ids must fit a header and bodies must be JSON', (t) => {
  const outbox = new Outbox(tempDir(t));
  assert.throws(() => outbox.enqueue('webhook', '', '{}'), TypeError);
  assert.throws(() => outbox.enqueue('webhook', 'a b', '{}'), TypeError);
  assert.throws(() => outbox.enqueue('webhook', 'x'.repeat(257), '{}'), TypeError);
  assert.throws(() => outbox.enqueue('webhook', 'ok', 'not json'), SyntaxError);
  assert.equal(outbox.pending('webhook'), 0);
});

test('a dead letter lands in <channel>/dead with the reason', (t) => {
  const dir = tempDir(t);
  const outbox = new Outbox(dir);
  outbox.enqueue('webhook', 'refused', body(1));
  const m = outbox.next('webhook');
  assert.ok(m);
  outbox.deadLetter(m, 'HTTP 400 Bad Request');
  assert.equal(outbox.pending('webhook'), 0);
  const dead = readdirSync(join(dir, 'webhook', 'dead')).sort();
  assert.deepEqual(dead, [m.name, `${m.name}.note`]);
  assert.match(readFileSync(join(dir, 'webhook', 'dead', `${m.name}.note`), 'utf8'), /id: refused\nreason: HTTP 400/);
});
