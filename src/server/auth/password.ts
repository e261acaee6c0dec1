// User passwords, hashed with scrypt (node:crypto): memory-hard, so a stolen users table is
// expensive to guess from on GPUs. Stored as `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (salt and
// hash base64url), so the parameters can be raised later and old hashes still verify.
//
// Parameters: N = 2^15, r = 8, p = 1 (32 MiB of memory and tens of milliseconds per hash on a
// server core), OWASP's recommended minimum for scrypt; 16 random bytes of salt; 32 bytes of
// output. scrypt runs on libuv's thread pool (the async form), so a login does not stall other
// requests; the login rate limits (auth/routes.ts) bound how many run.
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

export const SCRYPT = { log2N: 15, r: 8, p: 1, saltBytes: 16, keyBytes: 32 } as const;

const STORED = /^scrypt\$([0-9]{1,2})\$([0-9]{1,3})\$([0-9]{1,3})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{16,})$/;

/** Shortest password `server user create` accepts: long enough that guessing it online is hopeless under the login rate limit. */
export const MIN_PASSWORD_LENGTH = 10;

function derive(
  password: string,
  salt: Buffer,
  keyBytes: number,
  log2N: number,
  r: number,
  p: number,
): Promise<Buffer> {
  const N = 2 ** log2N;
  // OpenSSL's default maxmem (32 MiB) is just under what N=2^15, r=8 needs (128 * N * r).
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltBytes);
  const key = await derive(password, salt, SCRYPT.keyBytes, SCRYPT.log2N, SCRYPT.r, SCRYPT.p);
  return `scrypt$${SCRYPT.log2N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** A hash of nothing anyone knows: an unknown user name costs the same scrypt as a known one. */
let dummy: Promise<string> | undefined;

/**
 * Whether `password` is the one `stored` was made from (constant-time comparison of the keys).
 * `stored` undefined (no such user) still costs one scrypt, so timing does not tell which
 * user names exist. Parameters outside what this server would make are refused, not run.
 */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  const m = STORED.exec(stored ?? (await dummy));
  if (!m) return false;
  const [log2N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (log2N < 10 || log2N > 20 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const salt = Buffer.from(m[4] as string, 'base64url');
  const expected = Buffer.from(m[5] as string, 'base64url');
  const key = await derive(password, salt, expected.length, log2N, r, p);
  return timingSafeEqual(key, expected) && stored !== undefined;
}
