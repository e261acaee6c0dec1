// Reading the keys of keyed Sigstore verification and organisation signing. A private key is
// read into a KeyObject and nothing else: the file's bytes are wiped once parsed, and no
// error message quotes the file, so the key cannot end up in a log.
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readOptionFile } from '../../io/option-file.ts';
import { InputError } from '../../model/errors.ts';

/** The environment variable holding the passphrase of an encrypted private key. */
export const PASSPHRASE_ENV = 'K3SGUARD_KEY_PASSPHRASE';

/**
 * The key id k3sguard writes as a bundle's `verificationMaterial.publicKey.hint`: base64 of the
 * SHA-256 of the SubjectPublicKeyInfo DER, the same form as a Rekor log id.
 */
export function keyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(pub.export({ format: 'der', type: 'spki' }))
    .digest('base64');
}

/** One line naming the key type, for messages: "ECDSA P-256", "Ed25519", "RSA 3072". */
export function describeKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      return `ECDSA ${CURVE_NAMES[d.namedCurve ?? ''] ?? d.namedCurve ?? '?'}`;
    case 'ed25519':
      return 'Ed25519';
    case 'rsa':
    case 'rsa-pss':
      return `${key.asymmetricKeyType.toUpperCase()} ${d.modulusLength ?? '?'}`;
    default:
      return key.asymmetricKeyType ?? 'unknown';
  }
}

const CURVE_NAMES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
const VERIFY_KEY_TYPES = new Set(['ec', 'ed25519', 'rsa', 'rsa-pss']);

/** A PEM public key for `verify --key`: ECDSA (P-256/384/521), Ed25519 or RSA. */
export async function loadPublicKey(path: string): Promise<KeyObject> {
  const pem = readOptionFile(path, 'key');
  let key: KeyObject;
  try {
    // createPublicKey would happily derive the public half from a private key: refuse, so a
    // deploy host never needs (and is never encouraged to hold) the signing key.
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem.toString('latin1'))) {
      throw new InputError('BAD_KEY', path, 'this is a private key: give the public key (the .pub file) to --key');
    }
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError('BAD_KEY', path, 'not a PEM public key (expected "-----BEGIN PUBLIC KEY-----")');
  } finally {
    pem.fill(0); // in case it was the private key after all
  }
  if (!VERIFY_KEY_TYPES.has(key.asymmetricKeyType ?? '')) {
    throw new InputError('BAD_KEY', path, `unsupported key type ${describeKey(key)}: use ECDSA, Ed25519 or RSA`);
  }
  return key;
}

/**
 * The organisation's ECDSA P-256 signing key. An encrypted PEM is decrypted with the
 * passphrase from $K3SGUARD_KEY_PASSPHRASE (an argument would show in `ps` and shell history).
 */
export async function loadSigningKey(path: string, env: NodeJS.ProcessEnv = process.env): Promise<KeyObject> {
  const pem = readOptionFile(path, 'key');
  const passphrase = env[PASSPHRASE_ENV] || undefined;
  // Only the PEM armour is looked at, to say what is wrong in terms the user can act on
  // (OpenSSL's own messages, e.g. "interrupted or cancelled" for a missing passphrase, do not).
  const armour = pem.toString('latin1', 0, Math.min(pem.length, 200));
  const encrypted = /ENCRYPTED/.test(armour);
  let key: KeyObject;
  try {
    if (/-----BEGIN PUBLIC KEY-----/.test(armour)) throw new Error('public');
    if (encrypted && !passphrase) throw new Error('no passphrase');
    key = createPrivateKey(passphrase ? { key: pem, format: 'pem', passphrase } : { key: pem, format: 'pem' });
  } catch {
    // No cause attached: OpenSSL errors can carry decoder state.
    throw new InputError('BAD_KEY', path, privateKeyProblem(armour, encrypted, passphrase !== undefined));
  } finally {
    pem.fill(0);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new InputError('BAD_KEY', path, `organisation signing uses ECDSA P-256 keys, this is ${describeKey(key)}`);
  }
  return key;
}

function privateKeyProblem(armour: string, encrypted: boolean, hadPassphrase: boolean): string {
  if (/-----BEGIN PUBLIC KEY-----/.test(armour)) return 'this is a public key: sign with the private key';
  if (encrypted && !hadPassphrase) return `the key is encrypted: set ${PASSPHRASE_ENV} to its passphrase`;
  if (encrypted) return `cannot decrypt the key: check ${PASSPHRASE_ENV}`;
  return 'not a PEM private key (expected "-----BEGIN PRIVATE KEY-----" or "-----BEGIN EC PRIVATE KEY-----")';
}
