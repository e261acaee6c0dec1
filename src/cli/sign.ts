// `k3sguard sign`: the organisation's own signature, for air-gapped and internal pipelines:
// of one file (a message signature), or, with --predicate, an in-toto attestation about
// several files (a DSSE envelope), each a keyed Sigstore bundle.
import { InputError } from '../model/errors.ts';
import { generateSigningKey, signFile } from '../verify/sigstore/sign.ts';
import { EXIT_CLEAN } from './exit.ts';
import { planOutput } from './output.ts';

export interface SignCliOptions {
  key?: string;
  output?: string;
  generateKey?: string;
  predicate?: string;
  predicateType?: string;
}

export async function runSign(files: readonly string[], opts: SignCliOptions): Promise<number> {
  if (opts.generateKey) {
    if (files.length > 0 || opts.key || opts.predicate || opts.predicateType)
      throw new InputError('USAGE', undefined, '--generate-key takes only the key path');
    const k = await generateSigningKey(opts.generateKey);
    process.stdout.write(
      `private key: ${k.privateKeyPath} (mode 0600${k.encrypted ? ', encrypted' : ''})\npublic key:  ${k.publicKeyPath}\nkey id:      ${k.keyId}\n`,
    );
    return EXIT_CLEAN;
  }
  if (opts.predicate !== undefined || opts.predicateType !== undefined) return runAttest(files, opts);
  const file = files[0];
  if (file === undefined || !opts.key)
    throw new InputError('USAGE', undefined, 'sign needs FILE and --key KEY.pem (or --generate-key KEY.pem)');
  if (files.length > 1)
    throw new InputError('USAGE', files[1], 'sign signs one FILE (with --predicate: an attestation about several)');
  const out = opts.output ?? `${file}.sigstore.json`;
  const output = planOutput(out, [file, opts.key]);
  const r = await signFile(file, opts.key);
  output.write(r.bundle);
  summaryStream(out).write(`${out === '-' ? 'bundle' : out}: signed sha256:${r.sha256} with key ${r.keyId}\n`);
  return EXIT_CLEAN;
}

/** `sign --predicate P --predicate-type URI FILE...`: one DSSE-signed in-toto statement. */
async function runAttest(files: readonly string[], opts: SignCliOptions): Promise<number> {
  if (opts.predicate === undefined || opts.predicateType === undefined)
    throw new InputError('USAGE', undefined, '--predicate FILE and --predicate-type URI go together');
  if (files.length === 0 || !opts.key)
    throw new InputError('USAGE', undefined, 'sign --predicate needs the subject FILEs and --key KEY.pem');
  const first = files[0] as string;
  // One subject has a natural bundle name; several have none, so the caller names it.
  if (opts.output === undefined && files.length > 1)
    throw new InputError('USAGE', undefined, 'an attestation about several files needs -o BUNDLE');
  const out = opts.output ?? `${first}.intoto.sigstore.json`;
  const output = planOutput(out, [...files, opts.key, opts.predicate]);
  const { attestFiles } = await import('../verify/sigstore/attest.ts');
  const r = await attestFiles({
    files,
    predicatePath: opts.predicate,
    predicateType: opts.predicateType,
    keyPath: opts.key,
  });
  output.write(r.bundle);
  const s = r.subjects.length === 1 ? '' : 's';
  summaryStream(out).write(
    `${out === '-' ? 'bundle' : out}: signed an in-toto statement (${opts.predicateType}) about ${r.subjects.length} file${s} with key ${r.keyId}\n`,
  );
  return EXIT_CLEAN;
}

/** With `-o -` the bundle is stdout: the summary goes to stderr, out of its way. */
function summaryStream(out: string): NodeJS.WriteStream {
  return out === '-' ? process.stderr : process.stdout;
}
