// User accounts, their API tokens and their login sessions, over either database. Roles: an
// `admin` may manage, a `viewer` only reads the fleet. Nothing secret is stored: passwords as
// scrypt hashes (password.ts), API tokens and session cookies as the sha256 of their random
// secret (a copy of the database opens no session and authenticates nobody).
import { randomBytes } from 'node:crypto';
import type { Database } from '../db/database.ts';
import { newToken, parseToken, secretHash, secretMatches } from '../tokens.ts';
import { hashPassword, verifyPassword } from './password.ts';

export type Role = 'admin' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'viewer'];

/** Letters, digits, `.`, `_`, `@`, `-`; what the CLI and the login form accept. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export interface User {
  readonly id: number;
  readonly name: string;
  readonly role: Role;
}

export interface UserRow extends User {
  readonly createdAt: string;
  readonly sessions: number;
  readonly tokens: number;
}

export class UserExistsError extends Error {}

export async function createUser(
  db: Database,
  name: string,
  role: Role,
  password: string,
  now = new Date(),
): Promise<void> {
  const hash = await hashPassword(password);
  await db.transaction(async (tx) => {
    const inserted = await tx.run(
      'INSERT INTO users (name, role, password, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING',
      [name, role, hash, now.toISOString()],
    );
    if (inserted === 0) throw new UserExistsError(`user ${name} exists`);
  });
}

/** A new password for the user, whose sessions end (its API tokens stay); whether there was one. */
export async function setPassword(db: Database, name: string, password: string): Promise<boolean> {
  const hash = await hashPassword(password);
  return db.transaction(async (tx) => {
    const [row] = await tx.all<{ id: number }>('SELECT id FROM users WHERE name = ?', [name]);
    if (!row) return false;
    await tx.run('UPDATE users SET password = ? WHERE id = ?', [hash, row.id]);
    await tx.run('DELETE FROM sessions WHERE user_id = ?', [row.id]);
    return true;
  });
}

/** Deletes the user with its sessions and tokens (cascade); whether there was one. */
export async function deleteUser(db: Database, name: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx.all<{ id: number }>('SELECT id FROM users WHERE name = ?', [name]);
    if (!row) return false;
    // Explicit, not only ON DELETE CASCADE: SQLite enforces it only with foreign_keys on.
    await tx.run('DELETE FROM sessions WHERE user_id = ?', [row.id]);
    await tx.run('DELETE FROM user_tokens WHERE user_id = ?', [row.id]);
    await tx.run('DELETE FROM users WHERE id = ?', [row.id]);
    return true;
  });
}

export async function listUsers(db: Database, now = new Date()): Promise<UserRow[]> {
  const rows = await db.all<{
    id: number;
    name: string;
    role: Role;
    created_at: string;
    sessions: number;
    tokens: number;
  }>(
    `SELECT u.id, u.name, u.role, u.created_at,
       (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.expires_at > ?) AS sessions,
       (SELECT COUNT(*) FROM user_tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL) AS tokens
     FROM users u ORDER BY u.name`,
    [now.toISOString()],
  );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    role: r.role,
    createdAt: r.created_at,
    sessions: Number(r.sessions),
    tokens: Number(r.tokens),
  }));
}

/** The user when name and password match; undefined otherwise (the same time either way). */
export async function checkPassword(db: Database, name: string, password: string): Promise<User | undefined> {
  const [row] = await db.all<{ id: number; name: string; role: Role; password: string }>(
    'SELECT id, name, role, password FROM users WHERE name = ?',
    [name],
  );
  const ok = await verifyPassword(password, row?.password);
  return ok && row ? { id: row.id, name: row.name, role: row.role } : undefined;
}

/** A new API token for the user (`k3su_...`), shown once; undefined when there is no such user. */
export async function createUserToken(
  db: Database,
  name: string,
  now = new Date(),
): Promise<{ id: string; token: string } | undefined> {
  const t = newToken('k3su');
  return db.transaction(async (tx) => {
    const [row] = await tx.all<{ id: number }>('SELECT id FROM users WHERE name = ?', [name]);
    if (!row) return undefined;
    await tx.run('INSERT INTO user_tokens (id, user_id, hash, created_at) VALUES (?, ?, ?, ?)', [
      t.id,
      row.id,
      t.hash,
      now.toISOString(),
    ]);
    return { id: t.id, token: t.token };
  });
}

/** The user a `k3su_` API token speaks for; undefined for a malformed, unknown or revoked one. */
export async function userOfToken(db: Database, token: string): Promise<User | undefined> {
  const parsed = parseToken(token, 'k3su');
  const [row] = parsed
    ? await db.all<{ hash: string; revoked_at: string | null; id: number; name: string; role: Role }>(
        `SELECT t.hash, t.revoked_at, u.id, u.name, u.role
         FROM user_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?`,
        [parsed.id],
      )
    : [];
  const ok = secretMatches(parsed?.secret ?? '', row?.hash);
  if (!ok || !row || row.revoked_at !== null) return undefined;
  return { id: row.id, name: row.name, role: row.role };
}

// --- sessions ------------------------------------------------------------------------------

/** A new session for the user: the cookie's value (shown to the browser only) and its expiry. */
export async function createSession(
  db: Database,
  user: User,
  lifetimeSeconds: number,
  now = new Date(),
): Promise<{ cookie: string; expiresAt: Date }> {
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + lifetimeSeconds * 1000);
  await db.transaction(async (tx) => {
    // Expired sessions go at each login (indexed by expiry): the table holds about the live ones.
    await tx.run('DELETE FROM sessions WHERE expires_at <= ?', [now.toISOString()]);
    await tx.run('INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)', [
      secretHash(secret),
      user.id,
      now.toISOString(),
      expiresAt.toISOString(),
    ]);
  });
  return { cookie: secret, expiresAt };
}

const SESSION_SECRET = /^[A-Za-z0-9_-]{43}$/;

export type SessionLookup =
  | { readonly kind: 'valid'; readonly user: User }
  | { readonly kind: 'expired' }
  | { readonly kind: 'unknown' };

/** The user of a session cookie's value. The row is found by the secret's sha256 (a random secret: no timing to learn from). */
export async function sessionUser(db: Database, cookie: string, now = new Date()): Promise<SessionLookup> {
  if (!SESSION_SECRET.test(cookie)) return { kind: 'unknown' };
  const [row] = await db.all<{ expires_at: string; id: number; name: string; role: Role }>(
    `SELECT s.expires_at, u.id, u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`,
    [secretHash(cookie)],
  );
  if (!row) return { kind: 'unknown' };
  if (row.expires_at <= now.toISOString()) return { kind: 'expired' };
  return { kind: 'valid', user: { id: row.id, name: row.name, role: row.role } };
}

export async function deleteSession(db: Database, cookie: string): Promise<void> {
  if (!SESSION_SECRET.test(cookie)) return;
  await db.transaction((tx) => tx.run('DELETE FROM sessions WHERE id = ?', [secretHash(cookie)]));
}
