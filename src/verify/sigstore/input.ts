// The inputs of a Sigstore verification that can be unreadable (exit 2): the artifact, given
// as a file or as `sha256:<hex>`, and the bundle file. What the bundle SAYS is judged later,
// and a bundle that says nonsense is a failed verification, not an input error.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fsError } from '../../io/fs-error.ts';
import { parseJsonText } from '../../io/json-text.ts';
import { fileTypeName, readOptionText } from '../../io/option-file.ts';
import { InputError } from '../../model/errors.ts';
import type { DigestAlgorithm } from './prehashed.ts';

export type ArtifactRef = { kind: 'file'; path: string } | { kind: 'digest'; sha256: Buffer };

/** The digests of the artifact that are known: all requested ones for a file, sha256 for a digest. */
export type Digests = Partial<Record<DigestAlgorithm, Buffer>>;

const DIGEST_REF = /^sha256:([0-9a-fA-F]{64})$/;
/** Real bundles are around 10 KB; a 1 GB "bundle" is a mistake, not something to parse. */

/**
 * `sha256:<64 hex>` is a digest (as in cosign and the conformance suite); anything else is a
 * path. A file really named like a digest can be given as `./sha256:...`.
 */
export function parseArtifactRef(artifact: string): ArtifactRef {
  const m = DIGEST_REF.exec(artifact);
  if (m?.[1]) return { kind: 'digest', sha256: Buffer.from(m[1], 'hex') };
  if (/^sha\d+:/i.test(artifact)) {
    throw new InputError('USAGE', artifact, 'a digest is given as sha256:<64 hex digits>');
  }
  return { kind: 'file', path: artifact };
}

/** Fails early (exit 2) on a missing or unreadable artifact, before any bundle is judged. */
export async function checkArtifactReadable(ref: ArtifactRef): Promise<void> {
  if (ref.kind === 'digest') return;
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(ref.path);
  } catch (e) {
    throw ioError(ref.path, e);
  }
  if (!st.isFile()) throw new InputError('UNREADABLE', ref.path, `${fileTypeName(st)}, not a regular file`);
}

/** One pass over the file for every digest asked for: memory stays flat at any size. */
export function hashFile(path: string, algorithms: Iterable<DigestAlgorithm>): Digests {
  const hashes = [...new Set(algorithms)].map((a) => [a, createHash(a)] as const);
  forEachChunk(path, (chunk) => {
    for (const [, h] of hashes) h.update(chunk);
  });
  return Object.fromEntries(hashes.map(([a, h]) => [a, h.digest()]));
}

const CHUNK = 1 << 20;
let chunkBuffer: Buffer | undefined;

/**
 * Feeds the file to `consume` in 1 MiB pieces of one reused buffer (as src/io/hashing.ts
 * does, and for the same reason: a fresh buffer per read piles up garbage and page faults,
 * and RSS with it). `consume` must not keep the chunk.
 */
export function forEachChunk(path: string, consume: (chunk: Buffer) => void): void {
  let fd: number;
  try {
    // Non-blocking and checked on the descriptor: a FIFO in the file's place cannot hang the read.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw ioError(path, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InputError('UNREADABLE', path, `${fileTypeName(st)}, not a regular file`);
    chunkBuffer ??= Buffer.allocUnsafe(CHUNK);
    for (let pos = 0; ; ) {
      let n: number;
      try {
        n = readSync(fd, chunkBuffer, 0, CHUNK, pos);
      } catch (e) {
        throw ioError(path, e);
      }
      if (n === 0) break;
      consume(n === CHUNK ? chunkBuffer : chunkBuffer.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The bundle as a JSON object; unreadable, not JSON, or JSON that is not an object (`null`,
 * `[]`, `1`, `"x"`: not a bundle of any version) is an InputError. What an object says is
 * judged later.
 */
export async function readBundleJSON(path: string): Promise<Record<string, unknown>> {
  const text = readOptionText(path, 'bundle');
  let json: unknown;
  try {
    json = parseJsonText(text);
  } catch (e) {
    throw new InputError('BAD_JSON', path, `the bundle is not JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    const what = json === null ? 'null' : Array.isArray(json) ? 'an array' : `a ${typeof json}`;
    throw new InputError('BAD_JSON', path, `the bundle is JSON ${what}, not an object: not a Sigstore bundle`);
  }
  return json as Record<string, unknown>;
}

function ioError(path: string, e: unknown): InputError {
  return fsError(e, path, { doing: 'cannot read the file' });
}
