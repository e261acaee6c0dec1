// Answers from registries kept on disk with a time to live, so a decision need not wait for a
// registry that already answered (and can be made with none, offline). One JSON file per entry,
// named by the sha256 of its kind and key, written to a temporary name and renamed into place
// (a reader sees the old entry or the new one, never half of one; concurrent writers of one
// key leave one whole entry). An entry is used only when it is whole: its format version, kind
// and key match what was asked, its times are sane, its value passes the caller's check, and it
// has not expired. Anything else (truncated, edited, another version) is ignored, never trusted,
// and overwritten by the next answer.
//
// With `memory` (the webhook), whole entries are also kept in memory, bounded (the oldest
// forgotten first): a decision answered from the cache then reads no file. An entry in memory
// is exactly one that was written or read whole from disk, and it expires at the same time.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LIMITS } from '../../model/limits.ts';

/** Bumped when an entry's meaning changes: older entries are then ignored. */
export const CACHE_FORMAT = 'k3sguard/registry-cache@1';

export type CacheKind = 'tag' | 'verdict' | 'index';

export interface CacheEntry<T> {
  value: T;
  /** Date.now() scale. */
  storedAt: number;
  expiresAt: number;
}

export interface RegistryCacheOptions {
  /** The clock (Date.now by default): a test moves it instead of waiting. */
  now?: () => number;
  /** Keep up to this many entries in memory too (0, the default: none). */
  memoryEntries?: number;
}

interface Remembered {
  value: unknown;
  storedAt: number;
  expiresAt: number;
}

export class RegistryCache {
  readonly dir: string;
  readonly #now: () => number;
  readonly #memoryEntries: number;
  /** By entry path; insertion order is age (a re-stored entry moves to the end). */
  readonly #memory = new Map<string, Remembered>();

  constructor(dir: string, opts: RegistryCacheOptions = {}) {
    this.dir = dir;
    this.#now = opts.now ?? Date.now;
    this.#memoryEntries = opts.memoryEntries ?? 0;
  }

  #remember(path: string, entry: Remembered): void {
    if (this.#memoryEntries <= 0) return;
    this.#memory.delete(path);
    this.#memory.set(path, entry);
    if (this.#memory.size > this.#memoryEntries) {
      const oldest = this.#memory.keys().next().value;
      if (oldest !== undefined) this.#memory.delete(oldest);
    }
  }

  now(): number {
    return this.#now();
  }

  /** The entry for `key` when it is whole, valid by `check` and not expired; else undefined. */
  async get<T>(kind: CacheKind, key: string, check: (v: unknown) => v is T): Promise<CacheEntry<T> | undefined> {
    const path = this.#path(kind, key);
    const held = this.#memory.get(path);
    if (held) {
      const now = this.#now();
      if (held.storedAt <= now && now < held.expiresAt && check(held.value)) {
        return { value: held.value, storedAt: held.storedAt, expiresAt: held.expiresAt };
      }
      this.#memory.delete(path);
    }
    let bytes: Buffer;
    try {
      if ((await stat(path)).size > LIMITS.registryCacheEntryBytes) return undefined;
      bytes = await readFile(path);
    } catch {
      return undefined;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(bytes.toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof doc !== 'object' || doc === null) return undefined;
    const e = doc as Record<string, unknown>;
    const now = this.#now();
    if (e.format !== CACHE_FORMAT || e.kind !== kind || e.key !== key) return undefined;
    if (typeof e.storedAt !== 'number' || typeof e.expiresAt !== 'number') return undefined;
    // An entry from the future (a clock set back, or an edit) is not believed.
    if (e.storedAt > now || e.expiresAt <= now || e.expiresAt < e.storedAt) return undefined;
    if (!check(e.value)) return undefined;
    this.#remember(path, { value: e.value, storedAt: e.storedAt, expiresAt: e.expiresAt });
    return { value: e.value, storedAt: e.storedAt, expiresAt: e.expiresAt };
  }

  /** Stores `value` for `ttlMs`; a failure to write is returned, not thrown (the cache is an optimisation). */
  async put<T>(kind: CacheKind, key: string, value: T, ttlMs: number): Promise<Error | undefined> {
    const path = this.#path(kind, key);
    const storedAt = this.#now();
    const body = JSON.stringify({ format: CACHE_FORMAT, kind, key, storedAt, expiresAt: storedAt + ttlMs, value });
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(join(this.dir, kind), { recursive: true });
      await writeFile(tmp, body, { mode: 0o600 });
      await rename(tmp, path);
      // What was written, as a read of it would give it back (JSON: no undefined, no functions).
      this.#remember(path, { value: JSON.parse(JSON.stringify(value)), storedAt, expiresAt: storedAt + ttlMs });
      return undefined;
    } catch (e) {
      // Nothing to clean when the directory itself was the problem.
      await rm(tmp, { force: true }).catch(() => undefined);
      return e as Error;
    }
  }

  #path(kind: CacheKind, key: string): string {
    const name = createHash('sha256').update(`${kind}\0${key}`).digest('hex');
    return join(this.dir, kind, `${name}.json`);
  }
}
