// End to end, on SQLite and on PostgreSQL: a real `k3sguard agent` (its server delivery, from
// its outbox) pointed at a real `k3sguard server`, with a token made by `server token create`,
// delivers its node report and its events; its outbox is empty afterwards.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase } from '../../src/server/open.ts';
import { startAgentProcess } from '../agent/agent-process.ts';
import { k3sguard, tempDir } from '../cli/run.ts';
import { count, freshDatabase, KINDS, nodeTree, postgresSkip } from './fixtures.ts';
import { startServerProcess } from './server-process.ts';

for (const kind of KINDS) {
  const skip = kind === 'postgres' ? postgresSkip() : undefined;
  describe(`agent delivery on ${kind}`, { skip: skip ?? false }, () => {
    test('a real agent delivers its report and events to the server', async (t) => {
      const tree = await nodeTree();
      if ('skip' in tree) return t.skip(tree.skip);
      const fresh = await freshDatabase(kind);
      const created = k3sguard([
        'server',
        'token',
        'create',
        '--node',
        'edge-1',
        '--cluster',
        'lab',
        '--db',
        fresh.text,
      ]);
      assert.equal(created.code, 0, created.stderr);
      const token = created.stdout.trim();
      assert.match(token, /^k3sg_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      const listed = k3sguard(['server', 'token', 'list', '--json', '--db', fresh.text]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.ok(!listed.stdout.includes(token.slice(22)), 'the list shows no secret');
      assert.deepEqual(
        (JSON.parse(listed.stdout) as Array<{ node: string }>).map((x) => x.node),
        ['edge-1'],
      );

      const server = await startServerProcess(['--db', fresh.text]);
      t.after(() => server.stop());
      const dir = tempDir(t);
      const tokenFile = join(dir, 'node.token');
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
      const state = join(dir, 'state');
      const agent = startAgentProcess(
        ['--root', tree.root, '--state-dir', state, '--proc', join(tree.root, 'proc')]
          .concat([
            '--containerd-socket',
            join(dir, 'no-containerd.sock'),
            '--lock',
            tree.lock,
            '--policy',
            tree.policy,
          ])
          .concat(['--interval', '1h', '--listen', '', '--server', server.url, '--token-file', tokenFile]),
      );
      t.after(() => agent.stop());
      const newFinding = await agent.waitLine((l) => l.type === 'finding' && l.status === 'new', 'a new finding');

      const { db } = await openDatabase(fresh.url);
      t.after(() => db.close());
      // Bounded: the agent sends at once; 600 looks 100 ms apart are a minute.
      for (let i = 0; i < 600 && ((await count(db, 'reports')) < 1 || (await count(db, 'events')) < 1); i++) {
        await sleep(100);
      }
      const [node] = await db.all(
        'SELECT hostname, k3s_version, cluster, findings, last_report_id FROM nodes WHERE name = ?',
        ['edge-1'],
      );
      assert.equal(node?.k3s_version, tree.k3sVersion);
      assert.equal(node?.cluster, 'lab');
      assert.ok(Number(node?.findings) >= 1);
      assert.ok(node?.last_report_id);
      const events = await db.all<{ id: string; rule_id: string; status: string }>(
        'SELECT id, rule_id, status FROM events',
      );
      assert.ok(
        events.some((e) => e.id === newFinding.id && e.status === 'new'),
        JSON.stringify(events),
      );
      assert.equal(await agent.stop(), 0);
      // Nothing left to deliver, nothing refused (a refusal would sit in dead/ with its reason).
      const left = readdirSync(join(state, 'outbox', 'server'), { recursive: true }).map(String);
      assert.deepEqual(
        left.filter((f) => f.endsWith('.msg') || f.endsWith('.note')),
        [],
      );
      // Revoked, the node's token is refused from then on.
      const revoked = k3sguard(['server', 'token', 'revoke', '--node', 'edge-1', '--db', fresh.text]);
      assert.equal(revoked.code, 0, revoked.stderr);
      const res = await fetch(`${server.url}/api/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(res.status, 401);
    });
  });
}
