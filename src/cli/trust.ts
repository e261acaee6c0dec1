// `k3sguard trust update`: refresh the Sigstore public-good trusted root over TUF. A failure
// keeps the root in use and exits 1; the next verify still works offline.
import { trustUpdate } from '../verify/sigstore/trust-update.ts';
import { EXIT_CLEAN, EXIT_FINDINGS } from './exit.ts';
import { errorLine } from './stderr.ts';

export interface TrustUpdateOptions {
  mirror?: string;
}

export async function runTrustUpdate(opts: TrustUpdateOptions): Promise<number> {
  const r = await trustUpdate(opts.mirror ? { mirrorURL: opts.mirror } : {});
  if (r.outcome === 'failed') {
    errorLine(`trust update failed: ${r.message}; kept ${r.kept}. ${r.hint}`);
    return EXIT_FINDINGS;
  }
  process.stdout.write(`trusted root ${r.outcome}: ${r.path} (sha256 ${r.sha256}) from ${r.mirrorURL}\n`);
  return EXIT_CLEAN;
}
