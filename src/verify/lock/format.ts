import { writeFileDurably } from '../../io/durable-file.ts';
import { parseJsonText } from '../../io/json-text.ts';
import { readOptionText } from '../../io/option-file.ts';
import { InputError, isInputError } from '../../model/errors.ts';
import { fileNameProblem } from '../checksums.ts';

export const LOCK_SCHEMA = 'k3sguard/lock@1';

export interface LockSource {
  /** The channel the digest came through (`--source`, default `local`). */
  name: string;
  /** The sums file the file was checked against before locking, when there was one. */
  sums?: string;
}

export interface LockK3s {
  version?: string;
  commit?: string;
  /** sha256 of the embedded data bundle (= its `<hash>.tar.zst` name), when one was found. */
  bundleHash?: string;
}

/** One image of a locked image archive: its name and the manifest digest it had when reviewed. */
export interface LockImage {
  /** Normalized reference (`docker.io/rancher/mirrored-pause:3.6`); absent for an unnamed image. */
  name?: string;
  /** `sha256:<hex>` of the manifest (for Docker-only archives: of the config). */
  digest: string;
  /** `linux/amd64`, when the image records it. */
  platform?: string;
}

export interface LockArtifact {
  name: string;
  version?: string;
  arch?: string;
  size: number;
  sha256: string;
  k3s?: LockK3s;
  /** For an image archive: the images it holds (checked before locking). */
  images?: LockImage[];
  sources: LockSource[];
}

export interface Lockfile {
  schema: typeof LOCK_SCHEMA;
  artifacts: LockArtifact[];
}

const HEX64 = /^[0-9a-f]{64}$/;
const ARCH = /^[a-z0-9]+$/;
const ARTIFACT_KEYS = ['name', 'version', 'arch', 'size', 'sha256', 'k3s', 'images', 'sources'];
const IMAGE_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** `k3s (v1.31.4+k3s1, amd64)`: how messages name an artifact. */
export function describeArtifact(a: Pick<LockArtifact, 'name' | 'version' | 'arch'>): string {
  const tags = [a.version, a.arch].filter((t) => t !== undefined);
  return tags.length > 0 ? `${a.name} (${tags.join(', ')})` : a.name;
}

/** The identity of an artifact: two entries with one key must carry one digest. */
export function artifactKey(a: Pick<LockArtifact, 'name' | 'version' | 'arch'>): string {
  return JSON.stringify([a.name, a.arch ?? '', a.version ?? '']);
}

/** Read and validate a lock. Absent: an empty lock when `create`, else InputError NOT_FOUND. */
export function readLock(lockPath: string, opts: { create: boolean }): Lockfile {
  let text: string;
  try {
    text = readOptionText(lockPath, 'lock');
  } catch (e) {
    if (!isInputError(e) || e.code !== 'NOT_FOUND') throw e;
    if (opts.create) return { schema: LOCK_SCHEMA, artifacts: [] };
    throw new InputError('NOT_FOUND', lockPath, 'no such lock file: create it with `k3sguard lock add` after review');
  }
  let json: unknown;
  try {
    json = parseJsonText(text);
  } catch (e) {
    throw invalid(lockPath, `not valid JSON (${(e as Error).message})`);
  }
  return validateLock(json, lockPath);
}

function invalid(lockPath: string, why: string): InputError {
  return new InputError('LOCK_INVALID', lockPath, `${why}: restore it from version control, or fix it by hand`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Check every field; unknown keys are refused too (a typo must not silently drop a pin). */
export function validateLock(json: unknown, lockPath: string): Lockfile {
  if (!isObject(json)) throw invalid(lockPath, 'not a JSON object');
  if (json.schema !== LOCK_SCHEMA)
    throw invalid(
      lockPath,
      `schema is ${JSON.stringify(json.schema)}, not "${LOCK_SCHEMA}", the one this k3sguard reads`,
    );
  const extra = Object.keys(json).filter((k) => k !== 'schema' && k !== 'artifacts');
  if (extra.length > 0) throw invalid(lockPath, `unknown key ${JSON.stringify(extra[0])}`);
  if (!Array.isArray(json.artifacts)) throw invalid(lockPath, '"artifacts" is not an array');
  const seen = new Set<string>();
  const artifacts = json.artifacts.map((raw: unknown, i: number) => {
    const at = `artifacts[${i}]`;
    const bad = (why: string) => invalid(lockPath, `${at}: ${why}`);
    const a = checkArtifact(raw, bad);
    const key = artifactKey(a);
    if (seen.has(key)) throw bad(`a second entry for ${describeArtifact(a)}; keep one`);
    seen.add(key);
    return a;
  });
  return { schema: LOCK_SCHEMA, artifacts };
}

function checkArtifact(raw: unknown, bad: (why: string) => InputError): LockArtifact {
  if (!isObject(raw)) throw bad('not an object');
  const extra = Object.keys(raw).find((k) => !ARTIFACT_KEYS.includes(k));
  if (extra !== undefined) throw bad(`unknown key ${JSON.stringify(extra)}`);
  const { name, version, arch, size, sha256, k3s, images, sources } = raw;
  const nameProblem = typeof name === 'string' ? fileNameProblem(name) : 'name is missing';
  if (nameProblem) throw bad(nameProblem);
  if (version !== undefined && (typeof version !== 'string' || version === '')) throw bad('version is not a string');
  if (arch !== undefined && (typeof arch !== 'string' || !ARCH.test(arch))) throw bad('arch is not a GOARCH name');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad('size is not a byte count');
  if (typeof sha256 !== 'string' || !HEX64.test(sha256)) throw bad('sha256 is not 64 lowercase hex digits');
  if (!Array.isArray(sources) || sources.length === 0) throw bad('sources is not a non-empty array');
  const artifact: LockArtifact = {
    name: name as string,
    size,
    sha256,
    sources: sources.map((s) => checkSource(s, bad)),
  };
  if (version !== undefined) artifact.version = version as string;
  if (arch !== undefined) artifact.arch = arch as string;
  if (k3s !== undefined) artifact.k3s = checkK3s(k3s, bad);
  if (images !== undefined) {
    if (!Array.isArray(images)) throw bad('images is not an array');
    artifact.images = images.map((i) => checkImage(i, bad));
  }
  return artifact;
}

function checkImage(raw: unknown, bad: (why: string) => InputError): LockImage {
  if (!isObject(raw) || Object.keys(raw).some((k) => !['name', 'digest', 'platform'].includes(k)))
    throw bad('an image is not { name?, digest, platform? }');
  if (typeof raw.digest !== 'string' || !IMAGE_DIGEST.test(raw.digest))
    throw bad('an image digest is not sha256:<64 lowercase hex digits>');
  const out: LockImage = { digest: raw.digest };
  for (const k of ['name', 'platform'] as const) {
    const v = raw[k];
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw bad(`an image ${k} is not a string`);
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

function checkSource(raw: unknown, bad: (why: string) => InputError): LockSource {
  if (!isObject(raw) || Object.keys(raw).some((k) => k !== 'name' && k !== 'sums'))
    throw bad('a source is not { name, sums? }');
  if (typeof raw.name !== 'string' || raw.name === '') throw bad('a source has no name');
  if (raw.sums !== undefined && typeof raw.sums !== 'string') throw bad('a source\'s "sums" is not a string');
  return raw.sums === undefined ? { name: raw.name } : { name: raw.name, sums: raw.sums };
}

function checkK3s(raw: unknown, bad: (why: string) => InputError): LockK3s {
  if (!isObject(raw) || Object.keys(raw).some((k) => !['version', 'commit', 'bundleHash'].includes(k)))
    throw bad('k3s is not { version?, commit?, bundleHash? }');
  const out: LockK3s = {};
  for (const k of ['version', 'commit'] as const) {
    const v = raw[k];
    if (v !== undefined && typeof v !== 'string') throw bad(`k3s.${k} is not a string`);
    if (typeof v === 'string') out[k] = v;
  }
  if (raw.bundleHash !== undefined && (typeof raw.bundleHash !== 'string' || !HEX64.test(raw.bundleHash)))
    throw bad('k3s.bundleHash is not 64 lowercase hex digits');
  if (raw.bundleHash !== undefined) out.bundleHash = raw.bundleHash as string;
  return out;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The canonical text of a lock: same content, same bytes. */
export function serializeLock(lock: Lockfile): string {
  const artifacts = [...lock.artifacts]
    .sort(
      (x, y) =>
        compare(x.name, y.name) || compare(x.arch ?? '', y.arch ?? '') || compare(x.version ?? '', y.version ?? ''),
    )
    .map((a) => ({
      name: a.name,
      version: a.version,
      arch: a.arch,
      size: a.size,
      sha256: a.sha256,
      k3s: a.k3s && { version: a.k3s.version, commit: a.k3s.commit, bundleHash: a.k3s.bundleHash },
      images:
        a.images &&
        [...a.images]
          .sort((x, y) => compare(x.name ?? '', y.name ?? '') || compare(x.digest, y.digest))
          .map((i) => ({ name: i.name, digest: i.digest, platform: i.platform })),
      sources: [...a.sources]
        .sort((x, y) => compare(x.name, y.name) || compare(x.sums ?? '', y.sums ?? ''))
        .map((s) => ({ name: s.name, sums: s.sums })),
    }));
  // JSON.stringify leaves out undefined values, so absent fields stay absent.
  return `${JSON.stringify({ schema: LOCK_SCHEMA, artifacts }, null, 2)}\n`;
}

/** Written durably (io/durable-file.ts): readers see the old or the new lock, never a torn one. */
export function writeLock(lockPath: string, lock: Lockfile): void {
  try {
    writeFileDurably(lockPath, serializeLock(lock), 0o644);
  } catch (e) {
    throw new InputError('OUTPUT', lockPath, `cannot write (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
}
