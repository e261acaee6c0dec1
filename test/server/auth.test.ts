// Users and access, on SQLite and on PostgreSQL, over real HTTP: the login page, logging in
// with a wrong and a right password, the session cookie's flags (Secure under TLS), an expired
// session, logout, per-name and per-address login limits, user API tokens revoked with their
// user, passwords stored only as scrypt hashes. API answers are checked against the OpenAPI
// document (apiGet).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { LIMITS } from '../../src/model/limits.ts';
import { registerAuth, requireUser } from '../../src/server/auth/routes.ts';
import { createUser, createUserToken, deleteUser } from '../../src/server/auth/users.ts';
import type { Database } from '../../src/server/db/database.ts';
import { type RunningServer, startServer } from '../../src/server/http.ts';
import { openDatabase } from '../../src/server/open.ts';
import { Store } from '../../src/server/store.ts';
import { loopbackCertificate } from '../fixtures/loopback-cert.ts';
import { hasTool } from '../fixtures/tools.ts';
import { count, freshDatabase, KINDS, postgresSkip } from './fixtures.ts';
import { apiGet } from './openapi-check.ts';

const PASSWORD = 'a long enough password';

/** A form POST as a browser sends it; redirects are answers here, not followed. */
async function postForm(
  base: string,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** `name=value` of a Set-Cookie header, as the browser sends it back. */
const cookieOf = (setCookie: string | null) => (setCookie ?? '').split(';')[0] ?? '';

for (const kind of KINDS) {
  const skip = kind === 'postgres' ? postgresSkip() : undefined;
  describe(`users and access on ${kind}`, { skip: skip ?? false }, () => {
    let db: Database;
    let store: Store;
    let server: RunningServer;

    before(async () => {
      const fresh = await freshDatabase(kind);
      db = (await openDatabase(fresh.url)).db;
      store = new Store(db);
      server = await startServer({ store, host: '127.0.0.1', port: 0 });
      await createUser(db, 'ada', 'admin', PASSWORD);
      await createUser(db, 'vera', 'viewer', PASSWORD);
    });
    after(async () => {
      await server?.close();
      await db?.close();
    });

    test('passwords are stored as scrypt hashes, salted: never the password, two users never one hash', async () => {
      const rows = await db.all<{ password: string }>('SELECT password FROM users ORDER BY name');
      assert.equal(rows.length, 2);
      for (const r of rows) {
        assert.match(r.password, /^scrypt\$15\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
        assert.ok(!r.password.includes(PASSWORD));
      }
      assert.notEqual(rows[0]?.password, rows[1]?.password, 'the same password, different salts');
    });

    test('the login page: a plain form, no script allowed, not cached', async () => {
      const res = await fetch(`${server.url}/login?next=/api/v1/nodes`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const html = await res.text();
      assert.match(html, /<form method="post" action="\/login">/);
      assert.match(html, /name="password" type="password"/);
      assert.match(html, /name="next" value="\/api\/v1\/nodes"/);
      assert.doesNotMatch(html, /<script/);
      const expired = await (await fetch(`${server.url}/login?expired=1`)).text();
      assert.match(expired, /Your session expired/);
      const hostile = await (await fetch(`${server.url}/login?next=/%22%3E%3Cscript%3Ex%3C/script%3E`)).text();
      assert.doesNotMatch(hostile, /<script>x/, 'next is escaped');
    });

    test('a wrong password and an unknown user get the same 401 and no cookie; the right one a session', async () => {
      const wrong = await postForm(server.url, '/login', { name: 'vera', password: 'not the password' });
      const unknown = await postForm(server.url, '/login', { name: 'nobody', password: 'not the password' });
      for (const r of [wrong, unknown]) {
        assert.equal(r.status, 401);
        assert.equal(r.headers.get('set-cookie'), null);
        assert.match(r.text, /Wrong user name or password/);
      }
      assert.equal((await postForm(server.url, '/login', { name: 'vera', password: '' })).status, 401);
      const before = await count(db, 'sessions');
      const right = await postForm(server.url, '/login', { name: 'vera', password: PASSWORD, next: '/api/v1/nodes' });
      assert.equal(right.status, 303);
      assert.equal(right.headers.get('location'), '/api/v1/nodes');
      const cookie = right.headers.get('set-cookie') ?? '';
      assert.match(cookie, /^k3sguard_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
      assert.equal(await count(db, 'sessions'), before + 1);
      const [stored] = await db.all<{ id: string }>('SELECT id FROM sessions ORDER BY created_at DESC LIMIT 1');
      assert.ok(stored && !cookie.includes(stored.id), 'the database holds the hash of the cookie, not the cookie');
      const nodes = await apiGet(server.url, '/api/v1/nodes', { cookie: cookieOf(cookie) });
      assert.equal(nodes.status, 200);
      // Another site as `next` is not followed.
      for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
        const r = await postForm(server.url, '/login', { name: 'ada', password: PASSWORD, next });
        assert.equal(r.headers.get('location'), '/', next);
      }
    });

    test('an expired session is refused (401 SESSION_EXPIRED, cookie cleared); logout ends a session', async () => {
      const login = await postForm(server.url, '/login', { name: 'ada', password: PASSWORD });
      const cookie = cookieOf(login.headers.get('set-cookie'));
      assert.equal((await apiGet(server.url, '/api/v1/users', { cookie })).status, 200);
      const hash = (await db.all<{ id: string }>('SELECT id FROM sessions ORDER BY created_at DESC LIMIT 1'))[0]?.id;
      await db.run('UPDATE sessions SET expires_at = ? WHERE id = ?', [
        new Date(Date.now() - 1000).toISOString(),
        hash ?? '',
      ]);
      const expired = await apiGet(server.url, '/api/v1/users', { cookie });
      assert.equal(expired.status, 401);
      assert.deepEqual(expired.body, { error: 'SESSION_EXPIRED', message: 'the session expired: log in again' });
      assert.match(expired.headers.get('set-cookie') ?? '', /^k3sguard_session=; Path=\/; Max-Age=0;/);
      const again = cookieOf(
        (await postForm(server.url, '/login', { name: 'ada', password: PASSWORD })).headers.get('set-cookie'),
      );
      assert.equal((await apiGet(server.url, '/api/v1/overview', { cookie: again })).status, 200);
      const out = await postForm(server.url, '/logout', {}, { cookie: again });
      assert.equal(out.status, 303);
      assert.equal(out.headers.get('location'), '/login');
      assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
      assert.equal((await apiGet(server.url, '/api/v1/overview', { cookie: again })).status, 401);
      assert.equal((await apiGet(server.url, '/api/v1/overview', { cookie: 'k3sguard_session=forged' })).status, 401);
    });

    test('viewer reads, admin manages; node tokens never read; a deleted user is out at once', async () => {
      const viewer = cookieOf(
        (await postForm(server.url, '/login', { name: 'vera', password: PASSWORD })).headers.get('set-cookie'),
      );
      assert.equal((await apiGet(server.url, '/api/v1/overview', { cookie: viewer })).status, 200);
      const denied = await apiGet(server.url, '/api/v1/users', { cookie: viewer });
      assert.equal(denied.status, 403);
      assert.equal((denied.body as { error: string }).error, 'FORBIDDEN');
      const { token: nodeToken } = await store.createToken('edge-1');
      const node = await apiGet(server.url, '/api/v1/overview', { authorization: `Bearer ${nodeToken}` });
      assert.equal(node.status, 403);
      await createUser(db, 'temp', 'viewer', PASSWORD);
      const made = await createUserToken(db, 'temp');
      assert.match(made?.token ?? '', /^k3su_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      const bearer = { authorization: `Bearer ${made?.token}` };
      const session = cookieOf(
        (await postForm(server.url, '/login', { name: 'temp', password: PASSWORD })).headers.get('set-cookie'),
      );
      assert.equal((await apiGet(server.url, '/api/v1/nodes', bearer)).status, 200);
      const [row] = await db.all<{ hash: string }>('SELECT hash FROM user_tokens WHERE id = ?', [made?.id ?? '']);
      assert.ok(row && !(made?.token ?? '').includes(row.hash), 'only the hash of the token is stored');
      assert.equal(await deleteUser(db, 'temp'), true);
      assert.equal((await apiGet(server.url, '/api/v1/nodes', bearer)).status, 401);
      assert.equal((await apiGet(server.url, '/api/v1/nodes', { cookie: session })).status, 401);
      assert.equal(await count(db, 'sessions', `WHERE user_id NOT IN (SELECT id FROM users)`), 0);
    });

    test('a login form that is not a form is 415, an oversized one 413', async () => {
      const json = await fetch(`${server.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'ada', password: PASSWORD }),
      });
      assert.equal(json.status, 415);
      assert.equal(((await json.json()) as { error: string }).error, 'UNSUPPORTED_MEDIA_TYPE');
      const big = await postForm(server.url, '/login', { name: 'ada', password: 'x'.repeat(LIMITS.serverFormBytes) });
      assert.equal(big.status, 413);
      assert.match(big.text, new RegExp(`larger than ${LIMITS.serverFormBytes} bytes`));
    });

    test('logins are limited per user name, then per address: 429 with Retry-After, even with the right password', async () => {
      // A server of its own, its clock stopped: its limits start full and do not refill meanwhile.
      const stopped = new Date();
      const own = await startServer({ store, host: '127.0.0.1', port: 0, now: () => stopped });
      try {
        for (let i = 0; i < LIMITS.serverLoginNameAttempts; i++) {
          assert.equal((await postForm(own.url, '/login', { name: 'vera', password: 'guess' })).status, 401);
        }
        const limited = await postForm(own.url, '/login', { name: 'vera', password: PASSWORD });
        assert.equal(limited.status, 429);
        assert.ok(Number(limited.headers.get('retry-after')) >= 1);
        assert.equal(limited.headers.get('set-cookie'), null);
        assert.match(limited.text, /Too many login attempts/);
        // Other names from the same address, up to the address's own limit (every attempt so far counted).
        let status = 0;
        let attempts = LIMITS.serverLoginNameAttempts + 2;
        for (; attempts <= LIMITS.serverLoginAddressAttempts; attempts++) {
          status = (await postForm(own.url, '/login', { name: `user${attempts}`, password: 'guess' })).status;
          assert.equal(status, 401);
        }
        assert.equal((await postForm(own.url, '/login', { name: 'ada', password: PASSWORD })).status, 429);
      } finally {
        await own.close();
      }
    });
  });
}

test('a page behind requireUser: no session or an expired one redirects to the login page, which leads back', async (t) => {
  // The hook as the dashboard uses it, on a page route of a fastify app of the test's own.
  const fresh = await freshDatabase('sqlite');
  const { db } = await openDatabase(fresh.url);
  const app = Fastify();
  await registerAuth(app, { store: new Store(db), secureCookies: false });
  let handled = 0;
  app.get('/fleet', { onRequest: requireUser('viewer') }, async (req) => {
    handled += 1;
    return `hello ${req.user?.name}`;
  });
  app.get('/settings', { onRequest: requireUser('admin') }, async () => 'admin only');
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  t.after(async () => {
    await app.close();
    await db.close();
  });
  await createUser(db, 'vera', 'viewer', PASSWORD);
  const anonymous = await fetch(`${base}/fleet?tab=nodes`, { redirect: 'manual' });
  assert.equal(anonymous.status, 303);
  assert.equal(anonymous.headers.get('location'), '/login?next=%2Ffleet%3Ftab%3Dnodes');
  assert.equal(handled, 0, 'the page is not made for a caller who is not let in');
  const login = await postForm(base, '/login', { name: 'vera', password: PASSWORD, next: '/fleet?tab=nodes' });
  assert.equal(login.headers.get('location'), '/fleet?tab=nodes');
  const cookie = cookieOf(login.headers.get('set-cookie'));
  const page = await fetch(`${base}/fleet`, { headers: { cookie }, redirect: 'manual' });
  assert.equal(page.status, 200);
  assert.equal(await page.text(), 'hello vera');
  assert.equal(handled, 1);
  const forbidden = await fetch(`${base}/settings`, { headers: { cookie }, redirect: 'manual' });
  assert.equal(forbidden.status, 403);
  await db.run('UPDATE sessions SET expires_at = ?', [new Date(Date.now() - 1000).toISOString()]);
  const expired = await fetch(`${base}/fleet`, { headers: { cookie }, redirect: 'manual' });
  assert.equal(expired.status, 303);
  assert.equal(expired.headers.get('location'), '/login?next=%2Ffleet&expired=1');
  assert.match(expired.headers.get('set-cookie') ?? '', /Max-Age=0/);
});

test('under TLS the session cookie is Secure', async (t) => {
  if (!hasTool('openssl')) return t.skip('openssl is not installed (apt-get install openssl)');
  const dir = mkdtempSync(join(tmpdir(), 'k3sguard-auth-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { cert, key } = loopbackCertificate(dir);
  const fresh = await freshDatabase('sqlite');
  const { db } = await openDatabase(fresh.url);
  const server = await startServer({
    store: new Store(db),
    host: '127.0.0.1',
    port: 0,
    tls: { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') },
  });
  t.after(async () => {
    await server.close();
    await db.close();
  });
  await createUser(db, 'ada', 'admin', PASSWORD);
  const body = new URLSearchParams({ name: 'ada', password: PASSWORD }).toString();
  const answer = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
    const req = request(
      `${server.url}/login`,
      {
        method: 'POST',
        ca: readFileSync(cert),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        timeout: 30_000,
      },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, cookie: String(res.headers['set-cookie'] ?? '') });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(answer.status, 303);
  assert.match(answer.cookie, /; HttpOnly; SameSite=Strict; Secure$/);
});
