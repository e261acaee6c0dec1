// A delivery process for the crash tests: opens the outbox, starts the webhook sender, then
// enqueues `count` messages, printing `enqueued <id>` after each enqueue returned (the moment
// the agent may consider it safe). The test kills it with SIGKILL at a moment of its choosing
// and starts it again; SIGTERM stops it cleanly.
// Usage: node deliver-child.ts OUTBOX_DIR URL SECRET COUNT PREFIX
import { setImmediate } from 'node:timers/promises';
import { startDelivery } from '../../src/agent/delivery.ts';
import { Outbox } from '../../src/agent/outbox.ts';

const [dir, url, secret, count, prefix] = process.argv.slice(2) as [string, string, string, string, string];
const outbox = new Outbox(dir);
const delivery = startDelivery(
  outbox,
  'webhook',
  { url, secret },
  { timeoutMs: 5000, backoff: { initialMs: 20, maxMs: 200 } },
);
process.on('SIGTERM', () => {
  delivery.stop().then(() => process.exit(0));
});
process.stdout.write(`ready ${outbox.pending('webhook')}\n`);
for (let i = 0; i < Number(count); i++) {
  const id = `${prefix}-${String(i).padStart(3, '0')}`;
  outbox.enqueue('webhook', id, JSON.stringify({ kind: 'finding.new', id }));
  process.stdout.write(`enqueued ${id}\n`);
  delivery.kick();
  await setImmediate(); // let the sender run between enqueues, as alerts come while it works
}
