// Reading an evidence archive, for `ir verify` and `ir diff`. The archive may be hostile (it
// travelled): it is read with the streaming tar reader behind the zstd window limit and a cap on
// the decompressed bytes, and any member name that is absolute, climbs out with `..`, or is not
// a regular file is an error. Every member is hashed as it streams; only those the caller asks
// for (and the manifest and its bundle) are held, each up to a bound.
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { parseJsonText } from '../io/json-text.ts';
import { normalizeMemberPath } from '../io/member-paths.ts';
import { TarReader } from '../io/tar.ts';
import { decompressFrame } from '../io/zstd-stream.ts';
import { InputError } from '../model/errors.ts';
import { formatLimit, LIMITS } from '../model/limits.ts';
import { BUNDLE_NAME, EVIDENCE_SCHEMA, type EvidenceManifest, MANIFEST_NAME } from './manifest.ts';

export interface ArchiveMember {
  sha256: string;
  size: number;
}

export interface EvidenceArchive {
  /** Every member, by name, with the sha256 of its bytes as read. */
  members: Map<string, ArchiveMember>;
  /** The bytes of the members asked for, the manifest and its bundle. */
  kept: Map<string, Buffer>;
}

/** The members of `file`, holding those `keep` names (each up to LIMITS.evidenceMemberBytes). */
export async function readEvidenceArchive(
  file: string,
  keep: (name: string) => boolean = () => false,
): Promise<EvidenceArchive> {
  const fh = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new InputError(
      e.code === 'ENOENT' ? 'NOT_FOUND' : 'UNREADABLE',
      file,
      e.code === 'ENOENT' ? 'no such file' : `cannot read: ${e.code ?? e}`,
    );
  });
  const members = new Map<string, ArchiveMember>();
  const kept = new Map<string, Buffer>();
  const tar = new TarReader(file, undefined, 'evidence tar');
  let total = 0;
  let current: { name: string; hash: Hash; size: number; parts?: Buffer[] } | undefined;
  // A member ends at its end-entry event, or (an empty file has none) at the next header.
  const finish = () => {
    if (!current) return;
    members.set(current.name, { sha256: current.hash.digest('hex'), size: current.size });
    if (current.parts) kept.set(current.name, Buffer.concat(current.parts));
    current = undefined;
  };
  try {
    const { size } = await fh.stat();
    await decompressFrame(fh, 0, size, { file, what: 'evidence', maxWindowLog: LIMITS.zstdWindowLog }, (chunk) => {
      total += chunk.length;
      if (total > LIMITS.evidenceBytes) {
        throw new InputError(
          'ZSTD_LIMIT',
          file,
          `evidence: decompresses past ${formatLimit(LIMITS.evidenceBytes)} (a zstd bomb)`,
        );
      }
      for (const ev of tar.feed(chunk)) {
        if (ev.type === 'entry') {
          finish();
          const e = ev.entry;
          if (e.type !== 'file') throw new InputError('UNSAFE_PATH', file, `evidence: member ${e.name} is a ${e.type}`);
          const p = normalizeMemberPath(e.name);
          if (!p.ok || p.path !== e.name) {
            throw new InputError('UNSAFE_PATH', file, `evidence: unsafe member name ${JSON.stringify(e.name)}`);
          }
          if (members.has(e.name))
            throw new InputError('TAR_CORRUPT', file, `evidence: member ${e.name} appears twice`);
          const isMeta = e.name === MANIFEST_NAME || e.name === BUNDLE_NAME;
          if (isMeta && e.size > LIMITS.evidenceMemberBytes)
            throw new InputError('TAR_LIMIT', file, `evidence: ${e.name} too large`);
          // A wanted member past the bound is hashed, not held: the reader says it is too large.
          const hold = isMeta || (keep(e.name) && e.size <= LIMITS.evidenceMemberBytes);
          current = { name: e.name, hash: createHash('sha256'), size: e.size, ...(hold ? { parts: [] } : {}) };
        } else if (ev.type === 'data' && current) {
          current.hash.update(ev.data);
          current.parts?.push(Buffer.from(ev.data));
        } else if (ev.type === 'end-entry') {
          finish();
        }
      }
    });
    finish();
    if (!tar.ended) throw new InputError('TAR_CORRUPT', file, 'evidence: the tar ends early (truncated)');
  } finally {
    await fh.close();
  }
  return { members, kept };
}

export function parseManifest(file: string, bytes: Buffer): EvidenceManifest {
  let m: EvidenceManifest;
  try {
    m = parseJsonText(bytes.toString('utf8')) as EvidenceManifest;
  } catch {
    throw new InputError('BAD_JSON', file, `evidence: ${MANIFEST_NAME} is not JSON`);
  }
  const ok =
    m?.schema === EVIDENCE_SCHEMA &&
    Array.isArray(m.items) &&
    m.items.every((i) => typeof i?.name === 'string' && typeof i.sha256 === 'string');
  if (!ok) throw new InputError('BAD_JSON', file, `evidence: ${MANIFEST_NAME} is not a ${EVIDENCE_SCHEMA} manifest`);
  return m;
}

/** What differs between the manifest and the members read: empty when they agree. */
export function manifestProblems(manifest: EvidenceManifest, members: Map<string, ArchiveMember>): string[] {
  const problems: string[] = [];
  const listed = new Set<string>();
  for (const item of manifest.items) {
    listed.add(item.name);
    const m = members.get(item.name);
    if (!m) problems.push(`removed: ${item.name} (listed in the manifest, not in the archive)`);
    else if (m.sha256 !== item.sha256)
      problems.push(`changed: ${item.name} (sha256 ${m.sha256}, manifest ${item.sha256})`);
  }
  for (const name of members.keys()) {
    if (name !== MANIFEST_NAME && name !== BUNDLE_NAME && !listed.has(name)) {
      problems.push(`added: ${name} (in the archive, not in the manifest)`);
    }
  }
  return problems;
}
