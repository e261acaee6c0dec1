// Who must have signed, and how much evidence k3sguard demands, for each kind of Sigstore
// verification. Thresholds (docs/signing.md repeats them for operators):
//
//   keyless (certificate identity + issuer): at least 1 transparency-log entry, 1 SCT from a
//     trusted CT log, 1 verified timestamp (a Rekor v1 integrated time or an RFC 3161
//     timestamp): the Sigstore public-good policy, @sigstore/verify's defaults.
//   keyed (--key): 0 / - / 0. An organisation's own signature (`k3sguard sign`) has no log
//     entry and no timestamp: the key is the whole trust, so nothing more can be required.
//     Whatever the bundle does carry (log entries, timestamps) must still verify. `requireTlog`
//     raises the log threshold to 1 for keys that always log (e.g. the npm registry's).
import type { KeyObject } from 'node:crypto';
import type { VerificationPolicy, VerifierOptions } from '@sigstore/verify';
import { InputError } from '../../model/errors.ts';
import { describeKey, keyId, loadPublicKey } from './keys.ts';

/** Keyless: the Fulcio certificate's SAN and OIDC issuer. Exactly one of identity / identityRegexp. */
export interface KeylessPolicy {
  identity?: string;
  /** A regular expression the WHOLE identity must match (anchored, unlike cosign's). */
  identityRegexp?: string;
  issuer: string;
}

/** Keyed: a PEM public key (ECDSA P-256/P-384/P-521, Ed25519, RSA). */
export interface KeyPolicy {
  keyPath: string;
  /** Demand at least one transparency-log entry (default false: org-signed bundles have none). */
  requireTlog?: boolean;
}

export type SigstorePolicy = KeylessPolicy | KeyPolicy;

export type ResolvedPolicy =
  | { kind: 'keyless'; san: string | RegExp; issuer: string; text: string }
  | { kind: 'key'; key: KeyObject; keyId: string; requireTlog: boolean; text: string };

export function isKeyPolicy(p: SigstorePolicy): p is KeyPolicy {
  return typeof (p as KeyPolicy).keyPath === 'string';
}

/** Checks the policy and reads its key; throws InputError (USAGE, BAD_KEY, NOT_FOUND). */
export async function resolvePolicy(p: SigstorePolicy): Promise<ResolvedPolicy> {
  if (isKeyPolicy(p)) {
    const k = p as KeyPolicy & Partial<KeylessPolicy>;
    if (k.issuer !== undefined || k.identity !== undefined || k.identityRegexp !== undefined) {
      throw new InputError('USAGE', undefined, 'give either --key or a certificate identity, not both');
    }
    const key = await loadPublicKey(p.keyPath);
    const id = keyId(key);
    return { kind: 'key', key, keyId: id, requireTlog: p.requireTlog ?? false, text: `${describeKey(key)} key ${id}` };
  }
  const { identity, identityRegexp, issuer } = p;
  if ((identity === undefined) === (identityRegexp === undefined)) {
    throw new InputError(
      'USAGE',
      undefined,
      'give exactly one of --certificate-identity or --certificate-identity-regexp (or --key)',
    );
  }
  if (!issuer)
    throw new InputError('USAGE', undefined, '--certificate-oidc-issuer is required with a certificate identity');
  if (identity !== undefined) {
    if (!identity) throw new InputError('USAGE', undefined, '--certificate-identity is empty');
    return { kind: 'keyless', san: identity, issuer, text: `identity ${identity}, issuer ${issuer}` };
  }
  return {
    kind: 'keyless',
    san: anchored(identityRegexp ?? ''),
    issuer,
    text: `identity ~ /${identityRegexp}/, issuer ${issuer}`,
  };
}

// Anchored because an unanchored pattern such as `https://github.com/acme/` also matches
// `https://evil.example/?https://github.com/acme/`; write `.*` where a prefix is meant.
function anchored(source: string): RegExp {
  if (!source) throw new InputError('USAGE', undefined, '--certificate-identity-regexp is empty');
  try {
    return new RegExp(`^(?:${source})$`, 'u');
  } catch (e) {
    throw new InputError('USAGE', undefined, `--certificate-identity-regexp: ${(e as Error).message}`);
  }
}

export function verifierOptions(p: ResolvedPolicy): VerifierOptions {
  if (p.kind === 'keyless') return { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 };
  return { tlogThreshold: p.requireTlog ? 1 : 0, ctlogThreshold: 0, timestampThreshold: 0 };
}

/**
 * The identity check @sigstore/verify applies to the certificate (none for a key). The
 * library runs `san.match(identity)`, which makes a string a regular expression, unanchored:
 * `https://github.com/acme` would match `https://github.com/acme-evil/...`. So an exact
 * identity goes in escaped and anchored, and signerMatches() checks the result again.
 */
export function libraryPolicy(p: ResolvedPolicy): VerificationPolicy | undefined {
  if (p.kind === 'key') return undefined;
  const san = typeof p.san === 'string' ? new RegExp(`^${escapeRegExp(p.san)}$`, 'u') : p.san;
  return { subjectAlternativeName: san, extensions: { issuer: p.issuer } };
}

/** Our own check of the signer the library accepted: exact SAN (or whole-match regexp) and issuer. */
export function signerMatches(p: ResolvedPolicy, san: string | undefined, issuer: string | undefined): boolean {
  if (p.kind === 'key') return true;
  if (san === undefined || issuer !== p.issuer) return false;
  return typeof p.san === 'string' ? san === p.san : p.san.test(san);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
