// Bearer tokens: node tokens `k3sg_<id>_<secret>` and user API tokens `k3su_<id>_<secret>`. The id (public, 16 hex) finds the row; the secret (32
// random bytes, base64url) is checked against the sha256 stored for it with a constant-time
// comparison. The secret is never stored, so a copy of the database authenticates nobody;
// sha256 suffices (no slow hash) because the secret is random, not a password.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a token is for, by its prefix: a node sends reports, a user reads the fleet. */
export type TokenKind = 'k3sg' | 'k3su';

const TOKEN = /^(k3sg|k3su)_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface NewToken {
  readonly id: string;
  /** Shown once, to the operator who created it. */
  readonly token: string;
  readonly hash: string;
}

export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function newToken(kind: TokenKind = 'k3sg'): NewToken {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `${kind}_${id}_${secret}`, hash: secretHash(secret) };
}

/** The id and secret of a presented token of that kind, or undefined when it is not one. */
export function parseToken(token: string, kind: TokenKind = 'k3sg'): { id: string; secret: string } | undefined {
  const m = TOKEN.exec(token);
  return m && m[1] === kind ? { id: m[2] as string, secret: m[3] as string } : undefined;
}

/** `Authorization: Bearer <token>` -> the token. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header ? /^Bearer ([\x21-\x7e]+)$/i.exec(header) : null;
  return m?.[1];
}

const UNKNOWN = secretHash('');

/** Constant time in the secret: an unknown id still costs one comparison (against a hash nothing matches). */
export function secretMatches(secret: string, storedHash: string | undefined): boolean {
  const presented = Buffer.from(secretHash(secret), 'hex');
  const stored = Buffer.from(storedHash ?? UNKNOWN, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored) && storedHash !== undefined;
}
