// The login routes: `GET /login` (the page), `POST /login` (form: name, password, next; a session
// cookie and a 303 to `next`, by default `/`), `POST /logout` (the session deleted, the cookie
// cleared, a 303 to the login page). Logins are rate limited per user name and per client
// address before any password is checked; a wrong name and a wrong password get the same answer
// in the same time.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { LIMITS } from '../../model/limits.ts';
import { Refusal } from '../refusal.ts';
import { safeNext } from './access.ts';
import { clearedSessionCookie, cookieValue, SESSION_COOKIE, sessionCookie } from './cookies.ts';
import { LOGIN_PAGE_CSP, loginPage } from './login-page.ts';
import { type AuthOptions, AuthService } from './service.ts';
import { checkPassword, createSession, deleteSession, USER_NAME } from './users.ts';

export { requireUser } from './access.ts';

function page(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', LOGIN_PAGE_CSP)
    .header('cache-control', 'no-store')
    .send(html);
}

export async function registerAuth(app: FastifyInstance, opts: AuthOptions): Promise<void> {
  const auth = new AuthService(opts);
  app.decorate('k3sguardAuth', auth);
  app.decorateRequest('user', null);
  // Forms (the login form) as URLSearchParams; every other route reads JSON only.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: LIMITS.serverFormBytes },
    (_req, body, done) => done(null, new URLSearchParams(body as string)),
  );

  app.get('/login', async (req, reply) => {
    const query = req.query as Record<string, unknown>;
    const next = typeof query.next === 'string' ? safeNext(query.next) : '/';
    const message = query.expired === '1' ? 'Your session expired: log in again.' : undefined;
    return page(reply, 200, loginPage({ next, ...(message ? { message } : {}) }));
  });

  app.post('/login', { bodyLimit: LIMITS.serverFormBytes }, async (req, reply) => {
    if (!(req.body instanceof URLSearchParams)) {
      throw new Refusal(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'expected a form (application/x-www-form-urlencoded: name, password)',
      );
    }
    const name = req.body.get('name') ?? '';
    const password = req.body.get('password') ?? '';
    const next = safeNext(req.body.get('next') ?? undefined);
    const shownName = USER_NAME.test(name) ? name : '';
    // Names that cannot exist share one bucket: a flood of long random names cannot grow the map.
    const nameKey = shownName === '' ? '' : shownName.toLowerCase();
    const wait = Math.max(auth.loginByAddress.take(req.ip), auth.loginByName.take(nameKey));
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      reply.header('retry-after', String(seconds));
      return page(
        reply,
        429,
        loginPage({ message: `Too many login attempts: wait ${seconds} s and try again.`, next, name: shownName }),
      );
    }
    const user = USER_NAME.test(name) && password !== '' ? await checkPassword(auth.db, name, password) : undefined;
    if (!user) {
      req.log.warn({ user: shownName, address: req.ip }, 'login refused');
      return page(reply, 401, loginPage({ message: 'Wrong user name or password.', next, name: shownName }));
    }
    const session = await createSession(auth.db, user, auth.sessionSeconds, auth.now());
    return reply
      .header('set-cookie', sessionCookie(session.cookie, auth.sessionSeconds, auth.secureCookies))
      .header('cache-control', 'no-store')
      .redirect(next, 303);
  });

  app.post('/logout', async (req, reply) => {
    const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (cookie) await deleteSession(auth.db, cookie);
    return reply.header('set-cookie', clearedSessionCookie(auth.secureCookies)).redirect('/login', 303);
  });
}
