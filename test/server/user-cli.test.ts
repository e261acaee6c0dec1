// `k3sguard server user create|password|token|list|delete` as an operator runs them, against a real
// `k3sguard server` process on the same database: the first admin made from the command line
// logs in over HTTP, a user token reads the API, a deleted user is refused at once. Every
// usage error is one line and exit 2; a password is never taken from the command line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkPassword } from '../../src/server/auth/users.ts';
import { openDatabase } from '../../src/server/open.ts';
import { assertOneLineError, CLI, k3sguard, tempDir } from '../cli/run.ts';
import { hasTool } from '../fixtures/tools.ts';
import { freshDatabase, postgresSkip } from './fixtures.ts';
import { apiGet } from './openapi-check.ts';
import { startServerProcess } from './server-process.ts';

/** The CLI with `input` on its standard input (a pipe, not a terminal). */
function withStdin(args: string[], input: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('server user create, token, list, password, delete: with a real server on the same database', async (t) => {
  const dir = tempDir(t);
  const db = `sqlite:${join(dir, 'fleet.sqlite')}`;
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, 'first admin password\n');
  const created = k3sguard([
    'server',
    'user',
    'create',
    '--db',
    db,
    '--name',
    'ada',
    '--role',
    'admin',
    '--password-file',
    passwordFile,
  ]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout, '');
  assert.match(created.stderr, /user ada \(admin\) created/);
  const piped = withStdin(
    ['server', 'user', 'create', '--db', db, '--name', 'vera', '--role', 'viewer'],
    'viewer password 2\n',
  );
  assert.equal(piped.code, 0, piped.stderr);

  assertOneLineError(
    k3sguard([
      'server',
      'user',
      'create',
      '--db',
      db,
      '--name',
      'ada',
      '--role',
      'admin',
      '--password-file',
      passwordFile,
    ]),
    /^k3sguard: user ada exists/,
  );
  assertOneLineError(
    k3sguard([
      'server',
      'user',
      'create',
      '--db',
      db,
      '--name',
      'x',
      '--role',
      'root',
      '--password-file',
      passwordFile,
    ]),
    /--role: admin or viewer$/,
  );
  assertOneLineError(
    k3sguard([
      'server',
      'user',
      'create',
      '--db',
      db,
      '--name',
      'a b',
      '--role',
      'admin',
      '--password-file',
      passwordFile,
    ]),
    /--name: a user name/,
  );
  assertOneLineError(
    withStdin(['server', 'user', 'create', '--db', db, '--name', 'short', '--role', 'viewer'], 'tiny\n'),
    /the password on stdin: at least 10 characters$/,
  );
  assertOneLineError(
    k3sguard([
      'server',
      'user',
      'create',
      '--db',
      db,
      '--name',
      'y',
      '--role',
      'viewer',
      '--password-file',
      join(dir, 'none'),
    ]),
    /--password-file/,
  );
  assertOneLineError(k3sguard(['server', 'user', 'token', '--db', db, '--name', 'nobody']), /no user nobody$/);
  assertOneLineError(k3sguard(['server', 'user', 'delete', '--db', db, '--name', 'nobody']), /no user nobody$/);

  const token = k3sguard(['server', 'user', 'token', '--db', db, '--name', 'vera']);
  assert.equal(token.code, 0, token.stderr);
  assert.match(token.stdout, /^k3su_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/);
  const list = k3sguard(['server', 'user', 'list', '--db', db]);
  assert.equal(list.code, 0);
  const rows = list.stdout.trimEnd().split('\n');
  assert.equal(rows[0], 'NAME\tROLE\tCREATED\tSESSIONS\tTOKENS');
  assert.match(rows[1] as string, /^ada\tadmin\t\S+\t0\t0$/);
  assert.match(rows[2] as string, /^vera\tviewer\t\S+\t0\t1$/);
  const listed = JSON.parse(k3sguard(['server', 'user', 'list', '--db', db, '--json']).stdout) as Array<
    Record<string, unknown>
  >;
  assert.deepEqual(
    listed.map((u) => [u.name, u.role, u.tokens]),
    [
      ['ada', 'admin', 0],
      ['vera', 'viewer', 1],
    ],
  );
  assert.ok(!JSON.stringify(listed).includes('scrypt'), 'no hash is shown');

  const server = await startServerProcess(['--db', db]);
  t.after(() => server.stop());
  const login = await fetch(`${server.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'name=ada&password=first+admin+password',
    redirect: 'manual',
  });
  assert.equal(login.status, 303);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  assert.equal((await apiGet(server.url, '/api/v1/users', { cookie })).status, 200);
  const bearer = { authorization: `Bearer ${token.stdout.trim()}` };
  assert.equal((await apiGet(server.url, '/api/v1/nodes', bearer)).status, 200);
  // A new password: the old one and the sessions made with it stop working at once.
  const changed = withStdin(['server', 'user', 'password', '--db', db, '--name', 'ada'], 'second admin password\n');
  assert.equal(changed.code, 0, changed.stderr);
  assert.match(changed.stderr, /password of ada changed; its sessions ended/);
  assert.equal((await apiGet(server.url, '/api/v1/users', { cookie })).status, 401);
  const form = (password: string) =>
    fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'ada', password }).toString(),
      redirect: 'manual',
    });
  assert.equal((await form('first admin password')).status, 401);
  assert.equal((await form('second admin password')).status, 303);
  assertOneLineError(
    withStdin(['server', 'user', 'password', '--db', db, '--name', 'nobody'], 'long enough pw\n'),
    /no user nobody$/,
  );
  const deleted = k3sguard(['server', 'user', 'delete', '--db', db, '--name', 'vera']);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.match(deleted.stderr, /user vera deleted, with its sessions and tokens/);
  assert.equal(
    (await apiGet(server.url, '/api/v1/nodes', bearer)).status,
    401,
    'refused at once, the server still running',
  );
  assert.equal(await server.stop(), 0);
});

test('server user on PostgreSQL: create, token, list, delete', { skip: postgresSkip() ?? false }, async (t) => {
  const dir = tempDir(t);
  const { text: db } = await freshDatabase('postgres');
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, 'first admin password\n');
  const run = (args: string[]) => k3sguard(['server', 'user', ...args, '--db', db]);
  assert.equal(run(['create', '--name', 'ada', '--role', 'admin', '--password-file', passwordFile]).code, 0);
  assert.match(run(['token', '--name', 'ada']).stdout, /^k3su_/);
  assert.match(run(['list']).stdout, /\nada\tadmin\t\S+\t0\t1\n$/);
  assert.equal(run(['delete', '--name', 'ada']).code, 0);
  assert.equal(run(['list']).stdout, 'NAME\tROLE\tCREATED\tSESSIONS\tTOKENS\n');
});

test('server user create at a terminal: asked twice without echo, two different answers refused', async (t) => {
  if (!hasTool('script')) return t.skip('script (util-linux) is not installed: no terminal to run the CLI in');
  const dir = tempDir(t);
  const path = join(dir, 'fleet.sqlite');
  // script runs the CLI on a pseudo-terminal and types our input into it (both lines at once,
  // as a paste: the second must not be lost).
  const atTerminal = (name: string, input: string) => {
    const command = [
      process.execPath,
      CLI,
      'server',
      'user',
      'create',
      '--db',
      `sqlite:${path}`,
      '--name',
      name,
      '--role',
      'viewer',
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    const r = spawnSync('script', ['-q', '-e', '-c', command, '/dev/null'], {
      input,
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { code: r.status, out: r.stdout };
  };
  const made = atTerminal('tty-user', 'typed at a terminal\rtyped at a terminal\r');
  assert.equal(made.code, 0, made.out);
  assert.match(made.out, /password: [\s\S]*again: [\s\S]*user tty-user \(viewer\) created/);
  const differ = atTerminal('tty-other', 'typed at a terminal\rsomething else typed\r');
  assert.equal(differ.code, 2, differ.out);
  assert.match(differ.out, /k3sguard: the two passwords differ/);
  const { db } = await openDatabase({ kind: 'sqlite', path });
  try {
    assert.ok(await checkPassword(db, 'tty-user', 'typed at a terminal'));
    assert.equal(await checkPassword(db, 'tty-other', 'typed at a terminal'), undefined);
  } finally {
    await db.close();
  }
});
