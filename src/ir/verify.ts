// `ir verify`: proves an evidence archive is what `ir collect` wrote. The signature over
// manifest.json must verify with the organisation's public key, and every member must be in
// the manifest with the sha256 it lists: a changed byte, a removed member and an added member
// are each named. The archive may be hostile (it travelled): it is read with the streaming tar
// reader behind a zstd window limit and a cap on the decompressed bytes, and any member name
// that is absolute, climbs out with `..`, or is not a regular file is an error.
import { createHash, type Hash, verify as verifySignature } from 'node:crypto';
import { open } from 'node:fs/promises';
import { normalizeMemberPath } from '../io/member-paths.ts';
import { TarReader } from '../io/tar.ts';
import { decompressFrame } from '../io/zstd-stream.ts';
import { InputError } from '../model/errors.ts';
import { formatLimit, LIMITS } from '../model/limits.ts';
import { keyId, loadPublicKey } from '../verify/sigstore/keys.ts';
import { BUNDLE_NAME, EVIDENCE_SCHEMA, type EvidenceManifest, MANIFEST_NAME } from './manifest.ts';

export interface EvidenceVerification {
  /** Empty when the archive is intact; else one line per problem. */
  problems: string[];
  items: number;
  keyId: string;
  collectedAt?: string;
  host?: string;
}

/**
 * Decompressed bytes an evidence archive may hold: collect archives at most 256 MiB of files,
 * plus its JSON members; past this it is a bomb, not evidence.
 */
const MAX_EVIDENCE_BYTES = 1024 * 1024 * 1024;
/** The manifest and its bundle are held whole: bounded. */
const MAX_META_BYTES = 64 * 1024 * 1024;

interface Member {
  sha256: string;
  size: number;
}

async function readMembers(file: string): Promise<{ members: Map<string, Member>; meta: Map<string, Buffer> }> {
  const fh = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new InputError(
      e.code === 'ENOENT' ? 'NOT_FOUND' : 'UNREADABLE',
      file,
      e.code === 'ENOENT' ? 'no such file' : `cannot read: ${e.code ?? e}`,
    );
  });
  const members = new Map<string, Member>();
  const meta = new Map<string, Buffer>();
  const tar = new TarReader(file, undefined, 'evidence tar');
  let total = 0;
  let current: { name: string; hash: Hash; size: number; parts?: Buffer[] } | undefined;
  // A member ends at its end-entry event, or (an empty file has none) at the next header.
  const finish = () => {
    if (!current) return;
    members.set(current.name, { sha256: current.hash.digest('hex'), size: current.size });
    if (current.parts) meta.set(current.name, Buffer.concat(current.parts));
    current = undefined;
  };
  try {
    const { size } = await fh.stat();
    await decompressFrame(fh, 0, size, { file, maxWindowLog: LIMITS.zstdWindowLog }, (chunk) => {
      total += chunk.length;
      if (total > MAX_EVIDENCE_BYTES) {
        throw new InputError(
          'ZSTD_LIMIT',
          file,
          `evidence: decompresses past ${formatLimit(MAX_EVIDENCE_BYTES)} (a zstd bomb)`,
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
          if (isMeta && e.size > MAX_META_BYTES)
            throw new InputError('TAR_LIMIT', file, `evidence: ${e.name} too large`);
          current = { name: e.name, hash: createHash('sha256'), size: e.size, ...(isMeta ? { parts: [] } : {}) };
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
  return { members, meta };
}

export async function verifyEvidence(file: string, publicKeyPath: string): Promise<EvidenceVerification> {
  const key = await loadPublicKey(publicKeyPath);
  const id = keyId(key);
  const { members, meta } = await readMembers(file);
  const manifestBytes = meta.get(MANIFEST_NAME);
  const bundleBytes = meta.get(BUNDLE_NAME);
  if (!manifestBytes || !bundleBytes) {
    return { problems: [`${manifestBytes ? BUNDLE_NAME : MANIFEST_NAME} is missing`], items: 0, keyId: id };
  }
  const problems: string[] = [];
  if (!signatureHolds(manifestBytes, bundleBytes, key)) {
    problems.push(`${MANIFEST_NAME}: the signature in ${BUNDLE_NAME} does not verify with key ${id}`);
  }
  const manifest = parseManifest(file, manifestBytes);
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
  return { problems, items: manifest.items.length, keyId: id, collectedAt: manifest.collectedAt, host: manifest.host };
}

function signatureHolds(manifest: Buffer, bundleBytes: Buffer, key: Parameters<typeof verifySignature>[2]): boolean {
  try {
    const bundle = JSON.parse(bundleBytes.toString('utf8')) as {
      messageSignature?: { messageDigest?: { digest?: string }; signature?: string };
    };
    const sig = bundle.messageSignature;
    if (typeof sig?.signature !== 'string' || typeof sig.messageDigest?.digest !== 'string') return false;
    const digest = createHash('sha256').update(manifest).digest('base64');
    if (digest !== sig.messageDigest.digest) return false;
    return verifySignature(
      'sha256',
      manifest,
      { key, dsaEncoding: 'der' } as never,
      Buffer.from(sig.signature, 'base64'),
    );
  } catch {
    return false;
  }
}

function parseManifest(file: string, bytes: Buffer): EvidenceManifest {
  let m: EvidenceManifest;
  try {
    m = JSON.parse(bytes.toString('utf8')) as EvidenceManifest;
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
