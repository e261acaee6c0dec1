// The senders against real HTTP receivers on loopback: signatures a receiver can verify with
// nothing but HMAC-SHA256 (node:crypto, openssl), a receiver down then up, refusals, timeouts,
// torn files, and the server endpoint with its bearer token.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { type DeliveryAttempt, startDelivery } from '../../src/agent/delivery.ts';
import { AgentMetrics } from '../../src/agent/metrics.ts';
import { Outbox } from '../../src/agent/outbox.ts';
import { WEBHOOK_REPLAY_WINDOW_SECONDS } from '../../src/io/webhook-signature.ts';
import { tempDir } from '../cli/run.ts';
import { Condition } from './condition.ts';
import { duplicates, type Received, startReceiver } from './receiver.ts';

const SECRET = 'test-secret-\u00e9-with-utf8';
const FAST = { timeoutMs: 2000, backoff: { initialMs: 20, maxMs: 200 } };
const event = (id: string) =>
  JSON.stringify({ kind: 'finding.new', id, rule: 'K3SG-TEST', at: '2026-12-03T17:00:00Z' });
const uniqueIds = (rs: readonly Received[]) => [...new Set(rs.map((r) => r.id))];

/** What a receiver does: HMAC-SHA256(secret, timestamp + "." + body), compared in constant time. */
function verifyWithNodeCrypto(r: Received, secret: string): boolean {
  const ts = String(r.headers['x-k3sguard-timestamp']);
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`);
  const given = Buffer.from(String(r.headers['x-k3sguard-signature']));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

type Verify = (secret: string, headers: IncomingHttpHeaders, rawBody: string | Buffer, now?: number) => boolean;

/** The verification snippet of docs/agent.md ("Webhook"), as a receiver would paste it. */
async function docsVerifier(t: { after: (fn: () => void) => void }): Promise<Verify> {
  const doc = readFileSync(new URL('../../docs/agent.md', import.meta.url), 'utf8');
  const m =
    /<!-- webhook verify snippet[^>]*-->\n```js\n([\s\S]*?)```\n<!-- end of the webhook verify snippet -->/.exec(doc);
  assert.ok(m, 'docs/agent.md has the webhook verify snippet between its markers');
  const file = join(tempDir(t), 'verify.mjs');
  writeFileSync(file, m[1] as string);
  return ((await import(file)) as { verifyK3sguardWebhook: Verify }).verifyK3sguardWebhook;
}

test('webhook requests are signed over timestamp.body; node:crypto and openssl agree', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const outbox = new Outbox(tempDir(t));
  const delivery = startDelivery(outbox, 'webhook', { url: receiver.url, secret: SECRET }, FAST);
  t.after(() => delivery.stop());
  outbox.enqueue('webhook', 'ev-1', event('ev-1'));
  outbox.enqueue('webhook', 'ev-2', JSON.stringify({ text: 'non-ASCII: \u00fc\u2713' }));
  delivery.kick();
  await receiver.waitFor(() => receiver.acked.length === 2);

  const docsVerify = await docsVerifier(t);
  for (const r of receiver.received) {
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/hook');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.match(String(r.headers['user-agent']), /^k3sguard\//);
    assert.match(String(r.headers['x-k3sguard-signature']), /^sha256=[0-9a-f]{64}$/);
    const ts = Number(r.headers['x-k3sguard-timestamp']);
    assert.ok(Math.abs(Date.now() / 1000 - ts) <= WEBHOOK_REPLAY_WINDOW_SECONDS, 'inside the replay window');
    assert.ok(verifyWithNodeCrypto(r, SECRET), 'node:crypto verifies the signature');
    assert.equal(verifyWithNodeCrypto(r, `${SECRET}x`), false, 'another secret does not');
    assert.ok(docsVerify(SECRET, r.headers, Buffer.from(r.body)), "docs/agent.md's snippet verifies it");
    assert.equal(docsVerify(SECRET, r.headers, `${r.body} `), false, 'and refuses another body');
    assert.equal(docsVerify(SECRET, r.headers, r.body, ts + 301), false, 'and a replay after the window');
    // The same with openssl, on the exact bytes received.
    const ssl = spawnSync('openssl', ['dgst', '-sha256', '-hmac', SECRET], { input: `${ts}.${r.body}` });
    assert.equal(ssl.status, 0, String(ssl.stderr));
    const hex = /([0-9a-f]{64})\s*$/.exec(String(ssl.stdout))?.[1];
    assert.equal(`sha256=${hex}`, r.headers['x-k3sguard-signature'], 'openssl computes the same signature');
  }
  assert.deepEqual(
    receiver.received.map((r) => r.id),
    ['ev-1', 'ev-2'],
  );
  assert.equal(receiver.received[1]?.body, JSON.stringify({ text: 'non-ASCII: \u00fc\u2713' }));
});

test('receiver down while 50 alerts are enqueued, then up: every id arrives, in order, none twice', async (t) => {
  // A port that was just free: nothing listens there until the receiver comes up on it.
  const probe = await startReceiver();
  const port = probe.port;
  await probe.close();
  const metrics = new AgentMetrics({ processMetrics: false });
  const drained = new Condition();
  const outbox = new Outbox(tempDir(t), {
    onNotice: (n) => {
      metrics.observeOutbox(n);
      drained.notify();
    },
  });
  let failures = 0;
  let onFailure: (() => void) | undefined;
  const delivery = startDelivery(
    outbox,
    'webhook',
    { url: `http://127.0.0.1:${port}/hook`, secret: SECRET },
    {
      ...FAST,
      onAttempt: (a: DeliveryAttempt) => {
        metrics.observeDelivery(a);
        if (a.retryInMs !== undefined) failures += 1;
        onFailure?.();
      },
    },
  );
  t.after(() => delivery.stop());
  const ids = Array.from({ length: 50 }, (_, i) => `alert-${String(i).padStart(2, '0')}`);
  for (const id of ids) {
    outbox.enqueue('webhook', id, event(id));
    delivery.kick();
  }
  // Wait (event-driven, bounded) until the sender has failed a few times against the closed port.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the sender never failed against a closed port')), 30_000);
    onFailure = () => {
      if (failures < 3) return;
      clearTimeout(timer);
      onFailure = undefined;
      resolve();
    };
  });
  assert.equal(outbox.pending('webhook'), 50, 'nothing acknowledged, nothing removed');
  assert.match(await metrics.metrics(), /^k3sguard_alerts_pending 50$/m);

  const receiver = await startReceiver(() => 200, port);
  t.after(() => receiver.close());
  await receiver.waitFor(() => uniqueIds(receiver.acked).length === 50);
  await drained.until(() => outbox.pending('webhook') === 0, 'the outbox empties');
  await delivery.stop();
  assert.deepEqual(uniqueIds(receiver.acked), ids, 'every id, in enqueue order');
  assert.equal(duplicates(receiver.acked), 0, 'no duplicates');
  assert.ok(receiver.received.every((r) => verifyWithNodeCrypto(r, SECRET)));
  assert.equal(outbox.pending('webhook'), 0);
  const text = await metrics.metrics();
  assert.match(text, /^k3sguard_alerts_pending 0$/m);
  assert.match(text, /^k3sguard_outbox_delivered_total\{channel="webhook"\} 50$/m);
  const retries = Number(/^k3sguard_outbox_retries_total\{channel="webhook"\} (\d+)$/m.exec(text)?.[1]);
  assert.ok(retries >= 3, `retries counted (${retries})`);
});

test('a 4xx goes to the dead-letter folder without blocking the queue; 5xx, 429, 408 and a timeout are retried', async (t) => {
  const seen = new Map<string, number>();
  const receiver = await startReceiver((r) => {
    const n = (seen.get(r.id) ?? 0) + 1;
    seen.set(r.id, n);
    if (r.id === 'refused') return 400;
    if (r.id === 'flaky') return n <= 2 ? 503 : 200;
    if (r.id === 'busy') return n === 1 ? 429 : 200;
    if (r.id === 'slow-proxy') return n === 1 ? 408 : 200;
    if (r.id === 'hangs') return n === 1 ? 'hang' : 200;
    return 200;
  });
  t.after(() => receiver.close());
  const dir = tempDir(t);
  const metrics = new AgentMetrics({ processMetrics: false });
  const drained = new Condition();
  const outbox = new Outbox(dir, {
    onNotice: (n) => {
      metrics.observeOutbox(n);
      drained.notify();
    },
  });
  const delivery = startDelivery(
    outbox,
    'webhook',
    { url: receiver.url, secret: SECRET },
    { ...FAST, timeoutMs: 300, onAttempt: (a) => metrics.observeDelivery(a) },
  );
  t.after(() => delivery.stop());
  const order = ['first', 'refused', 'flaky', 'busy', 'slow-proxy', 'hangs', 'last'];
  for (const id of order) outbox.enqueue('webhook', id, event(id));
  delivery.kick();
  await drained.until(() => outbox.pending('webhook') === 0, 'the outbox empties');
  await delivery.stop();

  assert.deepEqual(uniqueIds(receiver.acked), ['first', 'flaky', 'busy', 'slow-proxy', 'hangs', 'last']);
  assert.equal(seen.get('refused'), 1, 'a refusal is not retried');
  assert.equal(seen.get('flaky'), 3);
  assert.equal(seen.get('hangs'), 2, 'the request that got no answer timed out and was sent again');
  const dead = readdirSync(join(dir, 'webhook', 'dead')).sort();
  assert.equal(dead.length, 2);
  assert.match(readFileSync(join(dir, 'webhook', 'dead', dead[1] as string), 'utf8'), /id: refused\nreason: HTTP 400/);
  const text = await metrics.metrics();
  assert.match(text, /^k3sguard_outbox_dead_letters_total\{channel="webhook"\} 1$/m);
  assert.match(text, /^k3sguard_outbox_delivered_total\{channel="webhook"\} 6$/m);
});

test('a torn file in the outbox is moved aside and never sent; the messages around it are', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const dir = tempDir(t);
  const outbox = new Outbox(dir);
  for (const id of ['before', 'torn', 'after']) outbox.enqueue('webhook', id, event(id));
  const torn = readdirSync(join(dir, 'webhook')).sort()[1] as string;
  const whole = readFileSync(join(dir, 'webhook', torn));
  writeFileSync(join(dir, 'webhook', torn), whole.subarray(0, Math.floor(whole.length / 2)));

  const restarted = new Outbox(dir);
  const delivery = startDelivery(restarted, 'webhook', { url: receiver.url, secret: SECRET }, FAST);
  t.after(() => delivery.stop());
  await receiver.waitFor(() => receiver.acked.some((r) => r.id === 'after'));
  assert.deepEqual(
    receiver.received.map((r) => r.id),
    ['before', 'after'],
  );
  assert.ok(receiver.received.every((r) => !r.body.includes('torn')));
  assert.deepEqual(readdirSync(join(dir, 'webhook', 'corrupt')).sort(), [torn, `${torn}.note`]);
});

test('the server sender posts reports and events under <server>/api/v1/ with the bearer token', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const outbox = new Outbox(tempDir(t));
  const base = `http://127.0.0.1:${receiver.port}/fleet`;
  const delivery = startDelivery(outbox, 'server', { url: base, token: 'node-token-123' }, FAST);
  t.after(() => delivery.stop());
  outbox.enqueue('server', 'report-1', JSON.stringify({ schema: 'k3sguard/report@1' }));
  outbox.enqueue('server', 'event-1', event('event-1'), { kind: 'event' });
  delivery.kick();
  await receiver.waitFor(() => receiver.acked.length === 2);
  assert.deepEqual(
    receiver.received.map((r) => [r.path, r.id, r.headers.authorization]),
    [
      ['/fleet/api/v1/reports', 'report-1', 'Bearer node-token-123'],
      ['/fleet/api/v1/events', 'event-1', 'Bearer node-token-123'],
    ],
  );
  assert.equal(receiver.received[0]?.headers['x-k3sguard-signature'], undefined);
});

test('stop() ends an attempt in flight; its message stays for the next run', async (t) => {
  let answered: (() => void) | undefined;
  const arrived = new Promise<void>((resolve) => {
    answered = resolve;
  });
  const receiver = await startReceiver(() => {
    answered?.();
    return 'hang';
  });
  t.after(() => receiver.close());
  const outbox = new Outbox(tempDir(t));
  outbox.enqueue('webhook', 'in-flight', event('in-flight'));
  const delivery = startDelivery(outbox, 'webhook', { url: receiver.url, secret: SECRET }, { timeoutMs: 60_000 });
  await arrived;
  await delivery.stop();
  assert.equal(outbox.pending('webhook'), 1);
  assert.equal(outbox.next('webhook')?.id, 'in-flight');
});

test('a URL, token or secret that could never be sent is refused at start, without echoing it', (t) => {
  const outbox = new Outbox(tempDir(t));
  const refuses = (start: () => unknown, message: RegExp) =>
    assert.throws(start, (e: Error & { code?: string }) => e.code === 'USAGE' && message.test(e.message));
  refuses(() => startDelivery(outbox, 'webhook', { url: 'not a url', secret: 's' }), /^--webhook: not an http/);
  refuses(() => startDelivery(outbox, 'webhook', { url: 'ftp://user:pw@h/x', secret: 's' }), /^--webhook: not an http/);
  refuses(() => startDelivery(outbox, 'webhook', { url: 'http://127.0.0.1:1/', secret: '' }), /secret is empty/);
  refuses(
    () => startDelivery(outbox, 'server', { url: 'http://127.0.0.1:1/', token: 'line\nbreak' }),
    /^--token-file: the token must be one line/,
  );
  refuses(() => startDelivery(outbox, 'server', { url: 'file:///etc/passwd', token: 't' }), /^--server: not an http/);
});
