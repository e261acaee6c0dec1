// What was read from one image of containerd's content store, kept on disk by its target
// digest: a digest names immutable content, so an image that is still there under the same
// digest is never read again (the agent re-checks its nodes every few minutes, and reading an
// image means decompressing every layer). Vulnerabilities are not kept: they are matched
// against the database of the day on every check.
//
// An entry is used only when it proves to be the one asked for: the cache format version, the
// digest and the platform it was read for are inside it, and a sha256 of the reading guards
// against a torn or damaged file. Anything else (absent, unparsable, another version, another
// digest) is no entry: the image is read again and the entry rewritten. Entries are written to a
// temp file, fsynced, then renamed, so a reader sees a whole entry or none.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../../io/durable-file.ts';
import { parseJsonText } from '../../io/json-text.ts';
import type { Finding, ImageComponent } from '../../model/inventory.ts';

/** Bumped whenever what a reading holds, or how it is made, changes: older entries are then read again. */
export const IMAGE_CACHE_FORMAT = 'k3sguard/runtime-image-cache@1';

/** An entry larger than this is not a reading this code wrote (a reading is components, not layers). */
const MAX_ENTRY_BYTES = 64 * 1024 * 1024;

const SHA256_DIGEST = /^sha256:([0-9a-f]{64})$/;

/** One image as read from the content store, independent of the names pointing at it. */
export interface ImageReading {
  /** The target digest the image was read from (an index or a manifest). */
  digest: string;
  /** `linux/amd64`: the platform an index was resolved for. */
  platform: string;
  /** The platform manifest's digest (the target itself when it is a manifest). */
  manifestDigest?: string;
  /** The image's packages and Go binaries; absent when the image could not be resolved. */
  image?: ImageComponent;
  /** What the image readers found wrong (integrity), located inside the image. */
  findings: Finding[];
  packages: number;
  goBinaries: number;
}

interface Entry {
  format: string;
  digest: string;
  platform: string;
  /** sha256 of JSON.stringify(reading). */
  sha256: string;
  reading: ImageReading;
}

function entryName(digest: string, platform: string): string | undefined {
  const hex = SHA256_DIGEST.exec(digest)?.[1];
  return hex ? `${hex}.${platform.replaceAll('/', '-')}.json` : undefined;
}

function entryPath(dir: string, digest: string, platform: string): string | undefined {
  const name = entryName(digest, platform);
  return name ? join(dir, name) : undefined;
}

function checksum(reading: ImageReading): string {
  return createHash('sha256').update(JSON.stringify(reading)).digest('hex');
}

/** The kept reading of `digest` for `platform`, or undefined when there is no sound entry. */
export function loadReading(dir: string, digest: string, platform: string): ImageReading | undefined {
  const path = entryPath(dir, digest, platform);
  if (!path) return undefined;
  let entry: unknown;
  try {
    if (statSync(path).size > MAX_ENTRY_BYTES) return undefined;
    entry = parseJsonText(readFileSync(path, 'utf8'));
  } catch {
    return undefined; // absent, unreadable or not JSON: read the image again
  }
  if (typeof entry !== 'object' || entry === null) return undefined;
  const e = entry as Partial<Entry>;
  if (e.format !== IMAGE_CACHE_FORMAT || e.digest !== digest || e.platform !== platform) return undefined;
  const r = e.reading;
  if (typeof r !== 'object' || r === null || r.digest !== digest || r.platform !== platform) return undefined;
  if (!Array.isArray(r.findings) || typeof r.packages !== 'number' || typeof r.goBinaries !== 'number')
    return undefined;
  if (e.sha256 !== checksum(r)) return undefined;
  return r;
}

/**
 * Keep `reading`. A cache that cannot be written costs a re-read at the next check, not this
 * check: write failures are returned, not thrown.
 */
export function storeReading(dir: string, reading: ImageReading): string | undefined {
  const path = entryPath(dir, reading.digest, reading.platform);
  if (!path) return `${reading.digest} is not a sha256 digest`;
  const entry: Entry = {
    format: IMAGE_CACHE_FORMAT,
    digest: reading.digest,
    platform: reading.platform,
    sha256: checksum(reading),
    reading,
  };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileDurably(path, JSON.stringify(entry));
    return undefined;
  } catch (e) {
    return `${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

/** An entry's file name (`<hex>.<platform>.json`), or a temp file one left behind (`....json.<pid>.<hex>.tmp`). */
const ENTRY_FILE = /^[0-9a-f]{64}\.([a-z0-9-]+)\.json(?:\.\d+\.[0-9a-f]+\.tmp)?$/;

/**
 * Remove the entries of `platform` for images no longer held (every digest not in `keep`), and
 * temp files of writes that were cut short, so the cache follows the node's images instead of
 * growing with every image it ever had. Files that are not entries are left alone.
 */
export function pruneReadings(dir: string, platform: string, keep: Iterable<string>): number {
  const kept = new Set<string>();
  for (const digest of keep) {
    const name = entryName(digest, platform);
    if (name) kept.add(name);
  }
  const suffix = platform.replaceAll('/', '-');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if (typeof (e as NodeJS.ErrnoException).code !== 'string') throw e;
    return 0; // no cache yet, or none readable: nothing to prune
  }
  let removed = 0;
  for (const name of names) {
    const m = ENTRY_FILE.exec(name);
    if (!m || m[1] !== suffix || kept.has(name)) continue;
    if (name.endsWith(`.${process.pid}.tmp`)) continue; // being written by this process
    rmSync(join(dir, name), { force: true });
    removed++;
  }
  return removed;
}
