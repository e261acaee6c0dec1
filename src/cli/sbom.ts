import { buildInventory } from '../inventory/build.ts';
import { toCycloneDxJson } from '../report/cyclonedx.ts';
import { toSpdxJson } from '../report/spdx.ts';
import { renderFindings } from '../report/table.ts';
import { EXIT_CLEAN, EXIT_FINDINGS } from './exit.ts';
import { writeOutput } from './output.ts';
import { terminalProgress } from './progress.ts';

export interface SbomOptions {
  format: 'cyclonedx-json' | 'spdx-json';
  output?: string;
  progress: boolean;
  maxBundleSize: number;
}

export async function runSbom(target: string, opts: SbomOptions): Promise<number> {
  const progress = terminalProgress(opts.progress);
  const inv = await buildInventory(target, { maxBundleBytes: opts.maxBundleSize, progress: progress.update });
  progress.done();
  writeOutput(opts.format === 'spdx-json' ? toSpdxJson(inv) : toCycloneDxJson(inv), opts.output);
  // The SBOM lists components; tampering findings are not components, so say them on stderr
  // and let the exit code carry them to the pipeline.
  if (inv.findings.length > 0) {
    process.stderr.write(renderFindings(inv.findings, false));
    return EXIT_FINDINGS;
  }
  return EXIT_CLEAN;
}
