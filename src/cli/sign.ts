// `k3sguard sign`: the organisation's own signature, for air-gapped and internal pipelines.
import { InputError } from '../model/errors.ts';
import { generateSigningKey, signFile } from '../verify/sigstore/sign.ts';
import { EXIT_CLEAN } from './exit.ts';
import { planOutput } from './output.ts';

export interface SignCliOptions {
  key?: string;
  output?: string;
  generateKey?: string;
}

export async function runSign(file: string | undefined, opts: SignCliOptions): Promise<number> {
  if (opts.generateKey) {
    if (file !== undefined || opts.key)
      throw new InputError('USAGE', undefined, '--generate-key takes only the key path');
    const k = await generateSigningKey(opts.generateKey);
    process.stdout.write(
      `private key: ${k.privateKeyPath} (mode 0600${k.encrypted ? ', encrypted' : ''})\npublic key:  ${k.publicKeyPath}\nkey id:      ${k.keyId}\n`,
    );
    return EXIT_CLEAN;
  }
  if (file === undefined || !opts.key)
    throw new InputError('USAGE', undefined, 'sign needs FILE and --key KEY.pem (or --generate-key KEY.pem)');
  const out = opts.output ?? `${file}.sigstore.json`;
  const output = planOutput(out, [file, opts.key]);
  const r = await signFile(file, opts.key);
  output.write(r.bundle);
  // With `-o -` the bundle is stdout: the summary goes to stderr, out of its way.
  const summary = out === '-' ? process.stderr : process.stdout;
  summary.write(`${out === '-' ? 'bundle' : out}: signed sha256:${r.sha256} with key ${r.keyId}\n`);
  return EXIT_CLEAN;
}
