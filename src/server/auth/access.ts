// Who is asking, for the fleet's read routes and pages: a user by session cookie
// (`k3sguard_session`) or by user API token (`Authorization: Bearer k3su_...`). A node token
// (`k3sg_...`) only sends reports: it never reads fleet data (403), whatever node it is.
// `requireUser(role)` is the onRequest hook routes put in front: `viewer` lets any user in,
// `admin` only admins. The API answers 401/403 as JSON; a page without a session redirects to
// the login page (303), which brings the user back after logging in.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Refusal } from '../refusal.ts';
import { bearerToken } from '../tokens.ts';
import { clearedSessionCookie, cookieValue, SESSION_COOKIE } from './cookies.ts';
import type { AuthService } from './service.ts';
import type { Role, User } from './users.ts';

declare module 'fastify' {
  interface FastifyInstance {
    k3sguardAuth: AuthService;
  }
  interface FastifyRequest {
    /** The user `requireUser` let in; null before it ran or on routes without it. */
    user: User | null;
  }
}

type Identity =
  | { readonly kind: 'user'; readonly user: User }
  | {
      readonly kind: 'refused';
      readonly status: 401 | 403;
      readonly code: string;
      readonly message: string;
      /** The session cookie was the reason: the browser should forget it. */
      readonly staleCookie?: true;
    };

const LOG_IN = 'log in (POST /login) or send a user API token (Authorization: Bearer k3su_...)';

async function identify(auth: AuthService, req: FastifyRequest): Promise<Identity> {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const token = bearerToken(header);
    if (token?.startsWith('k3sg_')) {
      if (await auth.store.authenticate(token)) {
        return {
          kind: 'refused',
          status: 403,
          code: 'FORBIDDEN',
          message:
            'a node token only sends reports and events; reading fleet data needs a user (k3sguard server user token)',
        };
      }
    } else if (token) {
      const user = await auth.userOfToken(token);
      if (user) return { kind: 'user', user };
    }
    return {
      kind: 'refused',
      status: 401,
      code: 'UNAUTHORIZED',
      message: `unknown, revoked or malformed token: ${LOG_IN}`,
    };
  }
  const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
  if (cookie === undefined || cookie === '') {
    return { kind: 'refused', status: 401, code: 'UNAUTHORIZED', message: `not logged in: ${LOG_IN}` };
  }
  const session = await auth.sessionUser(cookie);
  if (session.kind === 'valid') return { kind: 'user', user: session.user };
  return {
    kind: 'refused',
    status: 401,
    code: session.kind === 'expired' ? 'SESSION_EXPIRED' : 'UNAUTHORIZED',
    message: session.kind === 'expired' ? 'the session expired: log in again' : `unknown session: ${LOG_IN}`,
    staleCookie: true,
  };
}

function isApi(req: FastifyRequest): boolean {
  return req.url.startsWith('/api/');
}

/** A local path to come back to after logging in (never another site: `//host` or `/\host`). */
export function safeNext(next: string | undefined): string {
  return next !== undefined && /^\/(?![/\\])/.test(next) && !/\p{Cc}/u.test(next) ? next : '/';
}

/** The onRequest hook of every fleet read route and page: a user with at least `role`, or a refusal. */
export function requireUser(role: Role) {
  return async function requireUserHook(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const auth = req.server.k3sguardAuth;
    const who = await identify(auth, req);
    if (who.kind === 'refused') {
      if (who.staleCookie) reply.header('set-cookie', clearedSessionCookie(auth.secureCookies));
      if (who.status === 401 && !isApi(req) && req.method === 'GET') {
        const query = new URLSearchParams({ next: safeNext(req.url) });
        if (who.code === 'SESSION_EXPIRED') query.set('expired', '1');
        // Answered here: returning the reply ends the request before its handler.
        return reply.redirect(`/login?${query}`, 303);
      }
      if (who.status === 401) reply.header('www-authenticate', 'Bearer');
      throw new Refusal(who.status, who.code, who.message);
    }
    if (role === 'admin' && who.user.role !== 'admin') {
      throw new Refusal(403, 'FORBIDDEN', `this needs the admin role; ${who.user.name} is a ${who.user.role}`);
    }
    req.user = who.user;
    return undefined;
  };
}
