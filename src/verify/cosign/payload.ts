// The cosign simple-signing payload: what a signature actually vouches for. The signature only
// proves someone signed these bytes; the bytes must then name THIS image's digest (a valid
// signature copied next to another image must fail) and be a cosign image signature (not some
// other document the same key happened to sign).

import { parseJsonText } from '../../io/json-text.ts';

export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

export type PayloadVerdict =
  | { ok: true; dockerReference?: string }
  | { ok: false; code: 'PAYLOAD_INVALID' | 'SIGNED_OTHER_IMAGE'; reason: string };

/** Checks a (signature-verified) payload against the digest its `.sig` tag names. */
export function checkPayload(bytes: Buffer, subject: string): PayloadVerdict {
  let doc: unknown;
  try {
    doc = parseJsonText(bytes.toString('utf8'));
  } catch {
    return { ok: false, code: 'PAYLOAD_INVALID', reason: 'the signed payload is not JSON' };
  }
  const critical = field(doc, 'critical');
  const type = field(critical, 'type');
  if (type !== COSIGN_SIGNATURE_TYPE) {
    return {
      ok: false,
      code: 'PAYLOAD_INVALID',
      reason: `the signed payload is not a cosign image signature (critical.type ${JSON.stringify(type ?? null)})`,
    };
  }
  const digest = field(field(critical, 'image'), 'docker-manifest-digest');
  if (typeof digest !== 'string') {
    return { ok: false, code: 'PAYLOAD_INVALID', reason: 'the signed payload names no critical.image digest' };
  }
  if (digest !== subject) {
    return {
      ok: false,
      code: 'SIGNED_OTHER_IMAGE',
      reason: `the signature is for ${digest}, not this image (${subject})`,
    };
  }
  const ref = field(field(critical, 'identity'), 'docker-reference');
  return typeof ref === 'string' && ref !== '' ? { ok: true, dockerReference: ref } : { ok: true };
}

function field(v: unknown, key: string): unknown {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined;
}
