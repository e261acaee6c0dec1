// `k3sguard sign FILE --key KEY.pem`: the organisation's own signature, for air-gapped and
// internal pipelines where nothing can reach Fulcio or Rekor. The output is a standard
// Sigstore bundle (v0.3, messageSignature over the file's SHA-256, ECDSA P-256, the key id as
// `publicKey.hint`, no log entry), so `k3sguard verify --key` and other Sigstore verifiers
// (cosign verify-blob --key, sigstore-js) can check it.
import { createHash, createPublicKey, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { BUNDLE_V03_MEDIA_TYPE, bundleFromJSON } from '@sigstore/bundle';
import { InputError } from '../../model/errors.ts';
import { forEachChunk } from './input.ts';
import { keyId, loadSigningKey, PASSPHRASE_ENV } from './keys.ts';
import { verifyPrehashed } from './prehashed.ts';

export interface SignResult {
  /** The bundle, JSON text; the CLI writes it (to FILE.sigstore.json by default). */
  bundle: string;
  /** The file's SHA-256, hex: what the bundle signs. */
  sha256: string;
  keyId: string;
}

/** Signs `file` with the P-256 key at `keyPath`: the bundle, not yet written anywhere. */
export async function signFile(
  file: string,
  keyPath: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SignResult> {
  const key = await loadSigningKey(keyPath, env);
  const { digest, signature } = signChunks(file, key);
  const id = keyId(key);
  // Check our own output before anyone relies on it: a bad key or a library change would
  // otherwise surface only at deploy time.
  if (!verifyPrehashed(createPublicKey(key), 'sha256', digest, signature)) {
    throw new Error('the signature just made does not verify: the key is unusable');
  }
  const bundle = keyedBundleText(id, {
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') },
      signature: signature.toString('base64'),
    },
  });
  return { bundle, sha256: digest.toString('hex'), keyId: id };
}

/**
 * A v0.3 bundle signed by the key `id` names (no certificate, no log entry) around `content`
 * (a messageSignature or a dsseEnvelope), as JSON text. Written out field by field (the
 * library's serializer drops the empty tlogEntries, which stricter readers require), then read
 * back with the library as a check of the shape.
 */
export function keyedBundleText(id: string, content: Record<string, unknown>): string {
  const json = {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: id }, tlogEntries: [] },
    ...content,
  };
  bundleFromJSON(json);
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** Hash and signature in one pass: memory stays flat whatever the file's size. */
function signChunks(file: string, key: KeyObject): { digest: Buffer; signature: Buffer } {
  const hash = createHash('sha256');
  const signer = createSign('sha256');
  forEachChunk(file, (chunk) => {
    hash.update(chunk);
    signer.update(chunk);
  });
  return { digest: hash.digest(), signature: signer.sign({ key, dsaEncoding: 'der' }) };
}

export interface GeneratedKey {
  privateKeyPath: string;
  publicKeyPath: string;
  keyId: string;
  encrypted: boolean;
}

/**
 * A new ECDSA P-256 key pair: the private key (PKCS#8 PEM, mode 0600, encrypted with
 * AES-256-CBC when $K3SGUARD_KEY_PASSPHRASE is set) and the public key (SPKI PEM) that
 * deploy hosts get. Refuses to overwrite an existing file: losing a signing key is worse than
 * an error.
 */
export async function generateSigningKey(
  privateKeyPath: string,
  publicKeyPath: string = `${privateKeyPath.replace(/\.(pem|key)$/, '')}.pub`,
  env: NodeJS.ProcessEnv = process.env,
): Promise<GeneratedKey> {
  const passphrase = env[PASSPHRASE_ENV] || undefined;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export(
    passphrase ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase } : { type: 'pkcs8', format: 'pem' },
  );
  await writeNew(privateKeyPath, pem, 0o600);
  await writeNew(publicKeyPath, publicKey.export({ type: 'spki', format: 'pem' }), 0o644);
  return { privateKeyPath, publicKeyPath, keyId: keyId(publicKey), encrypted: passphrase !== undefined };
}

async function writeNew(path: string, data: string | Buffer, mode: number): Promise<void> {
  try {
    await writeFile(path, data, { flag: 'wx', mode });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' ? 'already exists: not overwriting a key' : `cannot write: ${code ?? e}`;
    throw new InputError('OUTPUT', path, why);
  }
}
