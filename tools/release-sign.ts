// Signing a release with `k3sguard sign` itself, the command users are told to trust: a bundle
// beside each file, and the provenance as a DSSE attestation about all of them. The key is read
// by the child process only (path and passphrase from the environment), never by this script.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ReleaseError } from './release-error.ts';

export interface Signer {
  /** `<file>.sigstore.json` beside the file. */
  signFile(file: string): string;
  /** A DSSE in-toto attestation with `predicate` (a file) about `subjects`, written to `out`. */
  attest(subjects: readonly string[], predicate: string, predicateType: string, out: string): void;
}

export function k3sguardSigner(root: string, keyPath: string, env: NodeJS.ProcessEnv): Signer {
  const cli = join(root, 'bin', 'k3sguard.js');
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [cli, 'sign', '--key', keyPath, ...args], {
      encoding: 'utf8',
      env: { ...env, NO_COLOR: '1' },
    });
    if (r.status !== 0) {
      // The CLI's own line already names the file and the problem (a wrong passphrase, say).
      const why = (r.stderr || r.error?.message || '').trim().replace(/^k3sguard: /, '');
      throw new ReleaseError(`k3sguard sign failed: ${why}`);
    }
  };
  return {
    signFile(file) {
      const out = `${file}.sigstore.json`;
      run(['-o', out, file]);
      return out;
    },
    attest(subjects, predicate, predicateType, out) {
      run(['--predicate', predicate, '--predicate-type', predicateType, '-o', out, ...subjects]);
    },
  };
}
