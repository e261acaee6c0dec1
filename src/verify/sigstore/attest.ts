// `k3sguard sign --predicate P --predicate-type URI FILE...`: an attestation about files, as
// cosign attest-blob makes one: an in-toto Statement v1 naming the files as its subjects (name
// and sha256) around the caller's predicate (SLSA provenance, an SBOM, a test result...),
// signed as a DSSE envelope and wrapped in the same keyed Sigstore bundle as `sign` writes.
// `verify FILE --bundle B --key PUB` then passes for each subject and nothing else.
import { createPublicKey, createSign, verify } from 'node:crypto';
import { basename } from 'node:path';
import { parseJsonText } from '../../io/json-text.ts';
import { readOptionText } from '../../io/option-file.ts';
import { InputError } from '../../model/errors.ts';
import { IN_TOTO_PAYLOAD_TYPE } from './content.ts';
import { hashFile } from './input.ts';
import { keyId, loadSigningKey } from './keys.ts';
import { keyedBundleText } from './sign.ts';

export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

export interface StatementSubject {
  name: string;
  digest: { sha256: string };
}

export interface AttestResult {
  /** The bundle, JSON text. */
  bundle: string;
  subjects: StatementSubject[];
  keyId: string;
}

export interface AttestRequest {
  files: readonly string[];
  /** Path of the predicate: a JSON object. */
  predicatePath: string;
  predicateType: string;
  keyPath: string;
}

/**
 * DSSE's pre-authentication encoding (DSSE v1 protocol): what is signed is the payload type
 * and the payload together, each length-prefixed, so neither can be swapped for another that
 * happens to share bytes.
 */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    payload,
  ]);
}

/** Signs the statement about `files` with the P-256 key: the bundle, not yet written anywhere. */
export async function attestFiles(req: AttestRequest, env: NodeJS.ProcessEnv = process.env): Promise<AttestResult> {
  checkPredicateType(req.predicateType);
  const predicate = readPredicate(req.predicatePath);
  const subjects = subjectsOf(req.files);
  const key = await loadSigningKey(req.keyPath, env);
  const statement = { _type: STATEMENT_V1, subject: subjects, predicateType: req.predicateType, predicate };
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const signed = pae(IN_TOTO_PAYLOAD_TYPE, payload);
  const signature = createSign('sha256').update(signed).sign({ key, dsaEncoding: 'der' });
  // As in signFile: our own output is checked before anyone relies on it.
  if (!verify('sha256', signed, createPublicKey(key), signature)) {
    throw new Error('the signature just made does not verify: the key is unusable');
  }
  const id = keyId(key);
  const bundle = keyedBundleText(id, {
    dsseEnvelope: {
      payload: payload.toString('base64'),
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: signature.toString('base64'), keyid: '' }],
    },
  });
  return { bundle, subjects, keyId: id };
}

/** in-toto requires a URI; a bare word would be a type no verifier can match on. */
function checkPredicateType(type: string): void {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/.test(type)) {
    throw new InputError(
      'USAGE',
      undefined,
      `--predicate-type must be a URI (e.g. https://slsa.dev/provenance/v1), not '${type}'`,
    );
  }
}

function readPredicate(path: string): Record<string, unknown> {
  const text = readOptionText(path, 'predicate');
  let json: unknown;
  try {
    json = parseJsonText(text);
  } catch (e) {
    throw new InputError('BAD_JSON', path, `--predicate: not JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    const what = json === null ? 'null' : Array.isArray(json) ? 'an array' : `a ${typeof json}`;
    throw new InputError('BAD_JSON', path, `--predicate: the predicate is JSON ${what}, not an object`);
  }
  return json as Record<string, unknown>;
}

/**
 * Each file by its base name and sha256 (streamed). Two files of the same base name would be
 * two subjects a verifier cannot tell apart by name, so they are refused.
 */
function subjectsOf(files: readonly string[]): StatementSubject[] {
  const byName = new Map<string, string>();
  const subjects: StatementSubject[] = [];
  for (const file of files) {
    const name = basename(file);
    const seen = byName.get(name);
    if (seen !== undefined) {
      throw new InputError('USAGE', file, `two subjects named ${name} (also ${seen}): rename one`);
    }
    byName.set(name, file);
    const sha256 = hashFile(file, ['sha256']).sha256 as Buffer;
    subjects.push({ name, digest: { sha256: sha256.toString('hex') } });
  }
  return subjects;
}
