// What ties a bundle to THE artifact. @sigstore/verify checks a message signature over the
// artifact's bytes and never looks at a DSSE envelope's subject; k3sguard works from digests
// (streamed, or given as sha256:<hex>), so it supplies the message-signature content itself
// and checks the in-toto subject itself.
import { createHash, type KeyObject, timingSafeEqual, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Bundle, Envelope, MessageSignature } from '@sigstore/bundle';
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import type { SignedEntity } from '@sigstore/verify';
import { parseJsonText } from '../../io/json-text.ts';
import { SigstoreCheckError } from './failure.ts';
import type { Digests } from './input.ts';
import { describeKey } from './keys.ts';
import { canVerifyPrehashed, type DigestAlgorithm, verifyPrehashed } from './prehashed.ts';

type SignatureContent = SignedEntity['signature'];

/** The DSSE payload type of an in-toto statement. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const SUBJECT_ALGORITHMS: DigestAlgorithm[] = ['sha256', 'sha384', 'sha512'];

/** The message signature's digest algorithm (unspecified means SHA-256, as in the library). */
export function messageAlgorithm(ms: MessageSignature): DigestAlgorithm {
  const alg = ms.messageDigest?.algorithm ?? HashAlgorithm.HASH_ALGORITHM_UNSPECIFIED;
  switch (alg) {
    case HashAlgorithm.HASH_ALGORITHM_UNSPECIFIED:
    case HashAlgorithm.SHA2_256:
      return 'sha256';
    case HashAlgorithm.SHA2_384:
      return 'sha384';
    case HashAlgorithm.SHA2_512:
      return 'sha512';
    default:
      throw new SigstoreCheckError('BUNDLE_INVALID', `unsupported message digest algorithm ${HashAlgorithm[alg]}`);
  }
}

/** The digests of the file needed to judge this bundle (sha256 always). */
export function neededAlgorithms(bundle: Bundle): DigestAlgorithm[] {
  const algs = new Set<DigestAlgorithm>(['sha256']);
  if (bundle.content.$case === 'messageSignature') {
    algs.add(messageAlgorithm(bundle.content.messageSignature));
  } else {
    for (const s of statementSubjects(bundle.content.dsseEnvelope) ?? []) {
      for (const a of SUBJECT_ALGORITHMS) if (s.digest[a]) algs.add(a);
    }
  }
  return [...algs];
}

/**
 * What every signed content compares the same way: the signature and the digest it covers
 * (in constant time). How the signature itself is checked is each kind's own.
 */
export abstract class DigestedContent implements SignatureContent {
  readonly signature: Buffer;
  protected readonly digest: Buffer;

  constructor(signature: Buffer, digest: Buffer) {
    this.signature = signature;
    this.digest = digest;
  }
  compareSignature(signature: Buffer): boolean {
    return equal(signature, this.signature);
  }
  compareDigest(digest: Buffer): boolean {
    return equal(digest, this.digest);
  }
  compareSignedDigest(digest: Buffer): boolean {
    return equal(digest, this.digest);
  }
  abstract verifySignature(key: KeyObject): boolean;
}

/**
 * A message signature checked against the artifact's digest: the signature over the digest
 * (prehashed ECDSA / RSA), and the log entry's digest against the artifact's, not against
 * the bundle's own (unauthenticated) copy. Keys that sign the whole message (Ed25519,
 * RSA-PSS) need the file, read once more and checked to be the bytes that were hashed.
 */
export class MessageDigestContent extends DigestedContent {
  readonly #algorithm: DigestAlgorithm;
  readonly #file: string | undefined;

  constructor(ms: MessageSignature, algorithm: DigestAlgorithm, digest: Buffer, file: string | undefined) {
    super(ms.signature, digest);
    this.#algorithm = algorithm;
    this.#file = file;
  }

  verifySignature(key: KeyObject): boolean {
    if (canVerifyPrehashed(key)) return verifyPrehashed(key, this.#algorithm, this.digest, this.signature);
    if (!this.#file) {
      throw new SigstoreCheckError(
        'NEEDS_FILE',
        `a ${describeKey(key)} signature covers the whole file, not its digest`,
      );
    }
    const data = readFileSync(this.#file);
    if (!createHash(this.#algorithm).update(data).digest().equals(this.digest)) {
      throw new SigstoreCheckError('FILE_CHANGED', 'the file changed while it was being verified');
    }
    // EdDSA takes no digest name; RSA-PSS and others hash with the bundle's algorithm.
    const alg = key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448' ? null : this.#algorithm;
    try {
      return verify(alg, data, key, this.signature);
    } catch {
      return false;
    }
  }
}

/** The bundle's message digest must be the artifact's (conformance message-digest-mismatch_fail). */
export function checkMessageDigest(ms: MessageSignature, algorithm: DigestAlgorithm, digests: Digests): Buffer {
  const actual = digests[algorithm];
  if (!actual) {
    throw new SigstoreCheckError('NEEDS_FILE', `the bundle signs the ${algorithm} digest; only the sha256 is known`);
  }
  const claimed = ms.messageDigest?.digest ?? Buffer.alloc(0);
  if (!equal(claimed, actual)) {
    throw new SigstoreCheckError(
      'DIGEST_MISMATCH',
      `the bundle is for ${algorithm}:${claimed.toString('hex')}, not this artifact (${algorithm}:${actual.toString('hex')})`,
    );
  }
  return actual;
}

interface Subject {
  name: string;
  digest: Partial<Record<string, string>>;
}

/** The subjects of an in-toto statement, or undefined when the payload is not one. */
function statementSubjects(env: Envelope): Subject[] | undefined {
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) return undefined;
  let st: { _type?: unknown; subject?: unknown };
  try {
    st = parseJsonText(env.payload.toString('utf8')) as typeof st;
  } catch {
    throw new SigstoreCheckError('BUNDLE_INVALID', 'the DSSE payload is not JSON, though its type says in-toto');
  }
  if (typeof st?._type !== 'string' || !st._type.startsWith('https://in-toto.io/Statement/')) {
    throw new SigstoreCheckError('BUNDLE_INVALID', 'the DSSE payload is not an in-toto statement');
  }
  if (!Array.isArray(st.subject))
    throw new SigstoreCheckError('BUNDLE_INVALID', 'the in-toto statement has no subject');
  return st.subject.map((s: { name?: unknown; digest?: unknown }) => ({
    name: typeof s?.name === 'string' ? s.name : '',
    digest: typeof s?.digest === 'object' && s.digest !== null ? (s.digest as Record<string, string>) : {},
  }));
}

/**
 * An in-toto statement must name the artifact as a subject: every algorithm both sides know
 * agrees, and there is at least one. Any other payload must be the artifact itself.
 */
export function checkDsseSubject(env: Envelope, digests: Digests): void {
  const subjects = statementSubjects(env);
  const sha256 = digests.sha256 ?? Buffer.alloc(0);
  if (!subjects) {
    if (!equal(createHash('sha256').update(env.payload).digest(), sha256)) {
      throw new SigstoreCheckError('SUBJECT_MISMATCH', `the signed ${env.payloadType} payload is not this artifact`);
    }
    return;
  }
  let comparable = false;
  for (const s of subjects) {
    const common = SUBJECT_ALGORITHMS.filter((a) => digests[a] && typeof s.digest[a] === 'string');
    if (common.length === 0) continue;
    comparable = true;
    if (common.every((a) => s.digest[a]?.toLowerCase() === digests[a]?.toString('hex'))) return;
  }
  if (!comparable) {
    const algs = [...new Set(subjects.flatMap((s) => Object.keys(s.digest)))].join(', ') || 'no digest';
    throw new SigstoreCheckError('NEEDS_FILE', `the statement names its subjects by ${algs} only`);
  }
  const names = subjects.map((s) => s.name || '(unnamed)').join(', ');
  throw new SigstoreCheckError('SUBJECT_MISMATCH', `the artifact is not a subject of the in-toto statement (${names})`);
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
