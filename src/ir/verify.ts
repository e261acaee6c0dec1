// `ir verify`: proves an evidence archive is what `ir collect` wrote. The signature over
// manifest.json must verify with the organisation's public key, and every member must be in
// the manifest with the sha256 it lists: a changed byte, a removed member and an added member
// are each named. The archive may be hostile: archive.ts reads it within bounds.
import { createHash, verify as verifySignature } from 'node:crypto';
import { parseJsonText } from '../io/json-text.ts';
import { keyId, loadPublicKey } from '../verify/sigstore/keys.ts';
import { manifestProblems, parseManifest, readEvidenceArchive } from './archive.ts';
import { BUNDLE_NAME, MANIFEST_NAME } from './manifest.ts';

export interface EvidenceVerification {
  /** Empty when the archive is intact; else one line per problem. */
  problems: string[];
  items: number;
  keyId: string;
  collectedAt?: string;
  host?: string;
}

export async function verifyEvidence(file: string, publicKeyPath: string): Promise<EvidenceVerification> {
  const key = await loadPublicKey(publicKeyPath);
  const id = keyId(key);
  const { members, kept } = await readEvidenceArchive(file);
  const manifestBytes = kept.get(MANIFEST_NAME);
  const bundleBytes = kept.get(BUNDLE_NAME);
  if (!manifestBytes || !bundleBytes) {
    return { problems: [`${manifestBytes ? BUNDLE_NAME : MANIFEST_NAME} is missing`], items: 0, keyId: id };
  }
  const problems: string[] = [];
  if (!signatureHolds(manifestBytes, bundleBytes, key)) {
    problems.push(`${MANIFEST_NAME}: the signature in ${BUNDLE_NAME} does not verify with key ${id}`);
  }
  const manifest = parseManifest(file, manifestBytes);
  problems.push(...manifestProblems(manifest, members));
  return { problems, items: manifest.items.length, keyId: id, collectedAt: manifest.collectedAt, host: manifest.host };
}

function signatureHolds(manifest: Buffer, bundleBytes: Buffer, key: Parameters<typeof verifySignature>[2]): boolean {
  try {
    const bundle = parseJsonText(bundleBytes.toString('utf8')) as {
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
