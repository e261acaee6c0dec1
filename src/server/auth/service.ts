// What the auth routes and hooks share, decorated on the fastify instance (`k3sguardAuth`):
// the database, the node-token store (to tell a node token from a bad one), the clock, the
// session life, the login rate limits and whether cookies are Secure (TLS).
import { LIMITS } from '../../model/limits.ts';
import type { Database } from '../db/database.ts';
import { type RateLimiter, rateLimiter } from '../rate-limit.ts';
import type { Store } from '../store.ts';
import { type SessionLookup, sessionUser, type User, userOfToken } from './users.ts';

export interface AuthOptions {
  readonly store: Store;
  /** Secure cookies: the server speaks TLS (or is told it is behind a TLS-terminating proxy). */
  readonly secureCookies: boolean;
  readonly sessionSeconds?: number;
  readonly now?: () => Date;
}

export class AuthService {
  readonly store: Store;
  readonly db: Database;
  readonly secureCookies: boolean;
  readonly sessionSeconds: number;
  readonly now: () => Date;
  /** Per user name and per client address: guessing passwords costs minutes per handful. */
  readonly loginByName: RateLimiter;
  readonly loginByAddress: RateLimiter;

  constructor(opts: AuthOptions) {
    this.store = opts.store;
    this.db = opts.store.db;
    this.secureCookies = opts.secureCookies;
    this.sessionSeconds = opts.sessionSeconds ?? LIMITS.serverSessionSeconds;
    this.now = opts.now ?? (() => new Date());
    const clock = () => this.now().getTime();
    this.loginByName = rateLimiter(LIMITS.serverLoginNameAttempts, clock);
    this.loginByAddress = rateLimiter(LIMITS.serverLoginAddressAttempts, clock);
  }

  sessionUser(cookie: string): Promise<SessionLookup> {
    return sessionUser(this.db, cookie, this.now());
  }

  userOfToken(token: string): Promise<User | undefined> {
    return userOfToken(this.db, token);
  }
}
