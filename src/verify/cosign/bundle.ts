// A cosign `.sig` layer re-expressed as a Sigstore bundle (media type v0.1, the version made
// for exactly this material), so @sigstore/verify checks it like any bundle: a message
// signature over the payload; the key (keyed) or the Fulcio certificate and chain (keyless);
// the Rekor entry from the `bundle` annotation, whose signed entry timestamp covers the same
// fields a v0.1 inclusion promise does; and an RFC 3161 timestamp when cosign attached one.
// Every annotation is untrusted text: anything malformed is a CosignFormatError (a failed
// signature with a clear reason), never an exception from deep inside a decoder.
import { createHash, X509Certificate } from 'node:crypto';
import { parseJsonText } from '../../io/json-text.ts';
import { COSIGN_ANNOTATIONS } from '../../readers/images/cosign-layout.ts';

export class CosignFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CosignFormatError';
  }
}

const BUNDLE_V01 = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const PEM_CERT = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g;

/** The bundle JSON for one signature layer; `keyHint` for keyed verification, else the certificate. */
export function cosignBundleJSON(
  annotations: Record<string, string>,
  payload: Buffer,
  keyHint: string | undefined,
): Record<string, unknown> {
  const signature = annotations[COSIGN_ANNOTATIONS.signature];
  if (signature === undefined) throw new CosignFormatError(`no ${COSIGN_ANNOTATIONS.signature} annotation`);
  const sig = strictBase64(signature, 'the signature annotation');
  const material: Record<string, unknown> = { tlogEntries: [] };
  if (keyHint !== undefined) {
    material.publicKey = { hint: keyHint };
  } else {
    const leaf = annotations[COSIGN_ANNOTATIONS.certificate];
    if (leaf === undefined) {
      throw new CosignFormatError('no certificate annotation: the image was signed with a key, not keyless');
    }
    const certs = [...pemCertificates(leaf, 'certificate').slice(0, 1)];
    const chain = annotations[COSIGN_ANNOTATIONS.chain];
    if (chain !== undefined) certs.push(...pemCertificates(chain, 'chain'));
    material.x509CertificateChain = { certificates: certs.map((der) => ({ rawBytes: der.toString('base64') })) };
  }
  const rekor = annotations[COSIGN_ANNOTATIONS.bundle];
  if (rekor !== undefined) material.tlogEntries = [tlogEntry(rekor)];
  const tsa = annotations[COSIGN_ANNOTATIONS.rfc3161];
  if (tsa !== undefined) {
    material.timestampVerificationData = { rfc3161Timestamps: [{ signedTimestamp: rfc3161(tsa) }] };
  }
  return {
    mediaType: BUNDLE_V01,
    verificationMaterial: material,
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(payload).digest('base64') },
      signature: sig.toString('base64'),
    },
  };
}

function strictBase64(text: string, what: string): Buffer {
  const t = text.trim();
  if (t === '' || !BASE64.test(t)) throw new CosignFormatError(`${what} is not base64`);
  return Buffer.from(t, 'base64');
}

/** The DER of each PEM certificate in `text`; at least one, each a parsable X.509 certificate. */
function pemCertificates(text: string, what: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of text.matchAll(PEM_CERT)) {
    const der = strictBase64((m[1] ?? '').replace(/\s+/g, ''), `a PEM block of the ${what} annotation`);
    try {
      new X509Certificate(der);
    } catch {
      throw new CosignFormatError(`the ${what} annotation holds something that is not an X.509 certificate`);
    }
    out.push(der);
  }
  if (out.length === 0) throw new CosignFormatError(`the ${what} annotation holds no PEM certificate`);
  return out;
}

/**
 * cosign's `bundle` annotation: `{SignedEntryTimestamp, Payload: {body, integratedTime,
 * logIndex, logID}}`, the Rekor v1 response fields the SET signs, as a bundle's log entry.
 */
function tlogEntry(text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseJsonText(text);
  } catch {
    throw new CosignFormatError('the Rekor bundle annotation is not JSON');
  }
  const o = asObject(doc);
  const p = asObject(o?.Payload);
  const set = o?.SignedEntryTimestamp;
  const { body, integratedTime, logIndex, logID } = p ?? {};
  if (
    typeof set !== 'string' ||
    typeof body !== 'string' ||
    !Number.isSafeInteger(integratedTime) ||
    !Number.isSafeInteger(logIndex) ||
    typeof logID !== 'string' ||
    !/^[0-9a-f]{64}$/.test(logID)
  ) {
    throw new CosignFormatError(
      'the Rekor bundle annotation lacks SignedEntryTimestamp or Payload {body, integratedTime, logIndex, logID}',
    );
  }
  const bodyBytes = strictBase64(body, 'the Rekor entry body');
  let kind: unknown;
  let version: unknown;
  try {
    const entry = parseJsonText(bodyBytes.toString('utf8')) as { kind?: unknown; apiVersion?: unknown };
    kind = entry.kind;
    version = entry.apiVersion;
  } catch {
    throw new CosignFormatError('the Rekor entry body is not JSON');
  }
  if (typeof kind !== 'string' || typeof version !== 'string') {
    throw new CosignFormatError('the Rekor entry body names no kind and apiVersion');
  }
  return {
    logIndex: String(logIndex),
    logId: { keyId: Buffer.from(logID, 'hex').toString('base64') },
    kindVersion: { kind, version },
    integratedTime: String(integratedTime),
    inclusionPromise: { signedEntryTimestamp: strictBase64(set, 'the signed entry timestamp').toString('base64') },
    canonicalizedBody: bodyBytes.toString('base64'),
  };
}

/** cosign's `rfc3161timestamp` annotation: `{SignedRFC3161Timestamp: <base64 DER>}`. */
function rfc3161(text: string): string {
  let doc: unknown;
  try {
    doc = parseJsonText(text);
  } catch {
    throw new CosignFormatError('the RFC 3161 timestamp annotation is not JSON');
  }
  const ts = asObject(doc)?.SignedRFC3161Timestamp;
  if (typeof ts !== 'string')
    throw new CosignFormatError('the RFC 3161 timestamp annotation has no SignedRFC3161Timestamp');
  return strictBase64(ts, 'the RFC 3161 timestamp').toString('base64');
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
