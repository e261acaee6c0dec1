// `k3sguard trust update`: refresh the public-good trusted root over TUF (@sigstore/tuf, seeded
// with the Sigstore TUF root it ships) into the trust dir, where verify prefers it to the
// shipped copy. The new root replaces the old one only after TUF has verified it and
// k3sguard has parsed and checked it, and then by an atomic rename: a failed or interrupted
// update always leaves the previous root in use.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_MIRROR_URL, initTUF } from '@sigstore/tuf';
import { defaultTrustDir, parseTrustedRoot, SHIPPED_TRUSTED_ROOT_NAME, TRUSTED_ROOT_FILE } from './trust.ts';

export { DEFAULT_MIRROR_URL };

export interface TrustUpdateOptions {
  /** Default: defaultTrustDir() ($K3SGUARD_TRUST_DIR, else ~/.cache/k3sguard/trust). */
  trustDir?: string;
  /** The TUF repository (default https://tuf-repo-cdn.sigstore.dev). */
  mirrorURL?: string;
  /** A TUF root.json to start from; required for a mirror @sigstore/tuf has no seed for. */
  tufRootPath?: string;
  /** Per-request timeout (default 5000 ms) and retries (default 2). */
  timeoutMs?: number;
  retries?: number;
}

export type TrustUpdateResult =
  | {
      outcome: 'updated' | 'unchanged';
      path: string;
      sha256: string;
      previousSha256?: string;
      mirrorURL: string;
      /** Authorities the new root has that k3sguard will not trust (see trust.ts). */
      excluded: string[];
    }
  | {
      outcome: 'failed';
      /** TUF_* from @sigstore/tuf, BAD_TRUSTED_ROOT, or WRITE_ERROR. */
      code: string;
      message: string;
      /** The root verify keeps using. */
      kept: string;
      mirrorURL: string;
      /** What to do next, one line. */
      hint: string;
    };

/** Never throws for a network, TUF or disk failure: the result says what happened. */
export async function trustUpdate(opts: TrustUpdateOptions = {}): Promise<TrustUpdateResult> {
  const trustDir = opts.trustDir ?? defaultTrustDir();
  const mirrorURL = opts.mirrorURL ?? DEFAULT_MIRROR_URL;
  const path = join(trustDir, TRUSTED_ROOT_FILE);
  const previous = await readFile(path).catch(() => undefined);
  const kept = previous ? path : SHIPPED_TRUSTED_ROOT_NAME;
  const failed = (code: string, message: string): TrustUpdateResult => ({
    outcome: 'failed',
    code,
    message,
    kept,
    mirrorURL,
    hint: `${HINTS[code] ?? HINTS.TUF_REFRESH_METADATA_ERROR}; verify keeps using ${kept}`,
  });

  let text: string;
  try {
    await mkdir(trustDir, { recursive: true });
    const tuf = await initTUF({
      mirrorURL,
      cachePath: join(trustDir, 'tuf'),
      ...(opts.tufRootPath ? { rootPath: opts.tufRootPath } : {}),
      timeout: opts.timeoutMs ?? 5000,
      retry: { retries: opts.retries ?? 2 },
    });
    text = await tuf.getTarget(TRUSTED_ROOT_FILE);
  } catch (e) {
    return failed(tufCode(e), describe(e));
  }

  let excluded: string[];
  try {
    excluded = parseTrustedRoot(text, `${mirrorURL} ${TRUSTED_ROOT_FILE}`).excluded;
  } catch (e) {
    return failed('BAD_TRUSTED_ROOT', (e as Error).message);
  }
  const sha256 = createHash('sha256').update(text).digest('hex');
  const previousSha256 = previous ? createHash('sha256').update(previous).digest('hex') : undefined;
  if (previousSha256 === sha256) {
    return { outcome: 'unchanged', path, sha256, previousSha256, mirrorURL, excluded };
  }
  try {
    await writeAtomically(path, text);
    await writeAtomically(
      join(trustDir, 'trusted_root.source.json'),
      `${JSON.stringify({ mirrorURL, sha256, updated: new Date().toISOString() }, null, 2)}\n`,
    );
  } catch (e) {
    return failed('WRITE_ERROR', `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  return { outcome: 'updated', path, sha256, ...(previousSha256 ? { previousSha256 } : {}), mirrorURL, excluded };
}

const HINTS: Record<string, string> = {
  TUF_REFRESH_METADATA_ERROR:
    'check that this host can reach the TUF mirror over HTTPS (offline, pass --trusted-root FILE to verify instead)',
  TUF_INIT_CACHE_ERROR: 'this mirror needs its TUF root.json: pass it as the initial root',
  TUF_FIND_TARGET_ERROR: 'the mirror publishes no trusted_root.json: is it a Sigstore TUF repository?',
  TUF_DOWNLOAD_TARGET_ERROR: 'the trusted root could not be downloaded or did not match its TUF hash: try again later',
  TUF_READ_TARGET_ERROR: 'the TUF cache is unreadable: check the permissions of the trust dir',
  BAD_TRUSTED_ROOT: 'the mirror served a trusted root k3sguard cannot use: report it, keep the current one',
  WRITE_ERROR: 'check the permissions and free space of the trust dir',
};

function tufCode(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('TUF_') ? code : 'TUF_REFRESH_METADATA_ERROR';
}

/** The error and its causes on one line: "error refreshing TUF metadata: fetch failed: ECONNREFUSED". */
function describe(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; cur && i < 5; i++) {
    const err = cur as { message?: unknown; code?: unknown; cause?: unknown };
    const msg = typeof err.message === 'string' ? err.message : String(cur);
    if (msg && !parts.includes(msg)) parts.push(msg);
    cur = err.cause;
  }
  return parts.join(': ').replace(/\s*\n\s*/g, ' ');
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text, { flag: 'w', mode: 0o644, flush: true });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
