// Every way a Sigstore verification can fail, as a stable code, a one-line reason and what to
// do next. @sigstore/verify throws VerificationError / PolicyError with its own codes, and on
// some malformed bundles a plain TypeError: all of them end here, none escapes as a crash.
import { ValidationError } from '@sigstore/bundle';
import { PolicyError, VerificationError } from '@sigstore/verify';

/** Failures k3sguard finds itself, before or after the library's verification. */
export type SigstoreCheckCode =
  | 'BUNDLE_INVALID' // not a well-formed bundle
  | 'KEY_MATERIAL_MISMATCH' // key bundle with an identity policy, or a certificate with --key
  | 'DIGEST_MISMATCH' // the bundle's message digest is not the artifact's
  | 'SUBJECT_MISMATCH' // the DSSE statement is about something else
  | 'NEEDS_FILE' // the signature cannot be checked from a digest alone
  | 'FILE_CHANGED' // the file changed while it was being verified
  | 'UNTRUSTED_SIGNER'; // our own re-check of the identity the library accepted

export class SigstoreCheckError extends Error {
  readonly code: SigstoreCheckCode;
  constructor(code: SigstoreCheckCode, message: string) {
    super(message);
    this.name = 'SigstoreCheckError';
    this.code = code;
  }
}

export interface Failure {
  /** Ours (SigstoreCheckCode), the library's (e.g. TLOG_BODY_ERROR), or INTERNAL_ERROR. */
  code: string;
  reason: string;
  hint: string;
}

const TAMPERED = 'do not deploy: fetch the file and its bundle again from the release, and compare';
const HINTS: Record<string, string> = {
  BUNDLE_INVALID: 'not a usable Sigstore bundle: fetch the .sigstore.json again from the release',
  KEY_MATERIAL_MISMATCH: 'verify a key-signed bundle with --key, a certificate-signed one with --certificate-identity',
  DIGEST_MISMATCH: `the bundle was made for another file: ${TAMPERED}`,
  SUBJECT_MISMATCH: `the attestation is about another artifact: ${TAMPERED}`,
  NEEDS_FILE: 'give the file itself instead of its sha256 digest',
  FILE_CHANGED: 'something is writing the file: verify again once it is stable',
  UNTRUSTED_SIGNER:
    'signed, but not by the expected signer: check --certificate-identity/--certificate-oidc-issuer against the project docs',
  SIGNATURE_ERROR: `the signature does not match: ${TAMPERED}`,
  TLOG_BODY_ERROR: `the transparency-log entry does not match this signature or file: ${TAMPERED}`,
  TLOG_ERROR: 'the bundle lacks the transparency-log evidence this policy requires',
  TLOG_INCLUSION_PROOF_ERROR:
    'the transparency-log proof does not verify: the bundle is altered, or the log is not in the trusted root (k3sguard trust update)',
  TLOG_INCLUSION_PROMISE_ERROR:
    'the transparency-log promise does not verify: the bundle is altered, or the log is not in the trusted root (k3sguard trust update)',
  TLOG_MISSING_INCLUSION_ERROR: 'the bundle has a log entry with neither proof nor promise: fetch it again',
  CERTIFICATE_ERROR:
    'the signing certificate does not chain to the trusted root at signing time: check --trusted-root, or run `k3sguard trust update`',
  PUBLIC_KEY_ERROR: 'the bundle was signed with a key: verify it with --key PUBKEY.pem',
  TIMESTAMP_ERROR:
    'no trusted timestamp vouches for the signing time: check --trusted-root, or run `k3sguard trust update`',
  UNTRUSTED_SIGNER_ERROR:
    'signed, but not by the expected signer: check --certificate-identity/--certificate-oidc-issuer against the project docs',
  NOT_IMPLEMENTED_ERROR: 'the bundle uses a feature this verifier does not support',
  INTERNAL_ERROR: 'the verifier could not process this bundle (malformed): fetch it again; do not deploy meanwhile',
};

/** Maps anything thrown during verification to a Failure. */
export function describeFailure(e: unknown): Failure {
  if (e instanceof SigstoreCheckError) return failure(e.code, e.message);
  const message = oneLine(e instanceof Error ? e.message : String(e));
  if (e instanceof ValidationError) {
    // @sigstore/bundle: lists the missing or empty fields.
    return failure('BUNDLE_INVALID', `${message}: ${e.fields.join(', ')}`);
  }
  if (e instanceof VerificationError || e instanceof PolicyError) return failure(e.code, message);
  // A TypeError or RangeError from deep inside the library: the bundle had a shape it did
  // not expect. Still a clean failure; the message says where.
  const name = e instanceof Error ? e.name : 'Error';
  return failure('INTERNAL_ERROR', `could not process the bundle (${name}: ${message})`);
}

function failure(code: string, reason: string): Failure {
  return { code, reason, hint: HINTS[code] ?? HINTS.INTERNAL_ERROR ?? '' };
}

function oneLine(s: string): string {
  const t = s.replace(/\s*\n\s*/g, ' ').trim();
  return t.length > 300 ? `${t.slice(0, 297)}...` : t;
}
