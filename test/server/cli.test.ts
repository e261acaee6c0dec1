// `k3sguard server` and `server token ...` as a user runs them: every error is one line and exit
// 2; a database migrated by a newer server is refused; HTTPS with --tls-cert/--tls-key; the
// JSON schemas in docs/ are the ones the server validates with.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { SCHEMA_VERSION } from '../../src/server/db/migrations.ts';
import { openDatabase } from '../../src/server/open.ts';
import { schemaFiles } from '../../tools/docs.ts';
import { assertOneLineError, k3sguard, tempDir } from '../cli/run.ts';
import { loopbackCertificate } from '../fixtures/loopback-cert.ts';
import { hasTool } from '../fixtures/tools.ts';
import { startServerProcess } from './server-process.ts';

test('docs/report-schema.json and docs/event-schema.json are the schemas the server validates with (npm run docs)', () => {
  const root = join(import.meta.dirname, '..', '..');
  for (const [path, text] of Object.entries(schemaFiles())) {
    assert.equal(readFileSync(join(root, path), 'utf8'), text, `${path} is stale: run npm run docs`);
  }
});

test('usage and database errors: one line, exit 2', (t) => {
  const dir = tempDir(t);
  const db = `sqlite:${join(dir, 'fleet.sqlite')}`;
  assertOneLineError(k3sguard(['server', '--db', 'mysql://x']), /^k3sguard: --db: expected sqlite:PATH or postgres:/);
  assertOneLineError(
    k3sguard(['server', '--db', 'postgres://k3sguard:secret-password@127.0.0.1:1/fleet']),
    /^k3sguard: cannot open the PostgreSQL database: .*ECONNREFUSED/,
  );
  assert.doesNotMatch(
    k3sguard(['server', '--db', 'postgres://k3sguard:secret-password@127.0.0.1:1/x']).stderr,
    /secret-password/,
  );
  assertOneLineError(
    k3sguard(['server', '--db', db, '--tls-cert', join(dir, 'c.pem')]),
    /--tls-cert and --tls-key go together/,
  );
  assertOneLineError(k3sguard(['server', '--db', db, '--listen', 'nowhere']), /--listen "nowhere": expected HOST:PORT/);
  assertOneLineError(
    k3sguard(['server', '--db', db, '--rate-limit', '0']),
    /--rate-limit: expected a positive whole number/,
  );
  assertOneLineError(k3sguard(['server', 'token', 'create', '--db', db]), /--node/);
  assertOneLineError(k3sguard(['server', 'token', 'create', '--db', db, '--node', 'a/b']), /--node: a node name/);
  assertOneLineError(
    k3sguard(['server', 'token', 'revoke', '--db', db, 'ffffffffffffffff']),
    /no active token with id ffffffffffffffff/,
  );
  assertOneLineError(k3sguard(['server', 'token', 'revoke', '--db', db]), /give a token id or --node NAME/);
  const list = k3sguard(['server', 'token', 'list', '--db', db]);
  assert.equal(list.code, 0);
  assert.equal(list.stdout, 'ID\tNODE\tCREATED\tREVOKED\n');
});

test('monitoring options: bad ones are one line, exit 2, before anything starts', (t) => {
  const dir = tempDir(t);
  const db = `sqlite:${join(dir, 'fleet.sqlite')}`;
  const secret = join(dir, 'notify.secret');
  writeFileSync(secret, 'k\n');
  writeFileSync(join(dir, 'empty.secret'), '\n');
  const server = (...args: string[]) => k3sguard(['server', '--db', db, '--listen', '127.0.0.1:0', ...args]);
  assertOneLineError(
    server('--notify-url', 'http://127.0.0.1:9/hook'),
    /--notify-url and --notify-secret-file go together/,
  );
  assertOneLineError(server('--notify-secret-file', secret), /--notify-url and --notify-secret-file go together/);
  assertOneLineError(
    server('--notify-url', 'ftp://example.com/x', '--notify-secret-file', secret),
    /--notify-url: must be an http:\/\/ or https:\/\/ URL/,
  );
  assertOneLineError(
    server('--notify-url', 'http://127.0.0.1:9/hook', '--notify-secret-file', join(dir, 'empty.secret')),
    /empty.secret: the notification secret is empty/,
  );
  assertOneLineError(
    server('--notify-url', 'http://127.0.0.1:9/hook', '--notify-secret-file', join(dir, 'absent')),
    /absent/,
  );
  assertOneLineError(server('--db-update-every', 'soon'), /--db-update-every: a duration such as 30m or 6h/);
  assertOneLineError(server('--db-update-source', dir), /--db-update-source needs --db-update-every/);
  assert.equal(existsSync(join(dir, 'fleet.sqlite')), false, 'checked before the database is opened');
});

test('a database migrated past what this server knows is refused, untouched', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'fleet.sqlite');
  const { db } = await openDatabase({ kind: 'sqlite', path });
  await db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 'x')");
  await db.close();
  assertOneLineError(
    k3sguard(['server', 'token', 'list', '--db', `sqlite:${path}`]),
    new RegExp(
      `cannot open the database: the database has schema version 99, this server knows up to ${SCHEMA_VERSION}:`,
    ),
  );
});

test('HTTPS with --tls-cert and --tls-key', async (t) => {
  if (!hasTool('openssl')) return t.skip('openssl is not installed (apt-get install openssl)');
  const dir = tempDir(t);
  const { cert, key } = loopbackCertificate(dir);
  const server = await startServerProcess([
    '--db',
    `sqlite:${join(dir, 'fleet.sqlite')}`,
    '--tls-cert',
    cert,
    '--tls-key',
    key,
  ]);
  t.after(() => server.stop());
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${server.url}/readyz`, { ca: readFileSync(cert), timeout: 30_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 200);
  assert.equal(await server.stop(), 0, 'SIGTERM: a clean exit');
});
