import { buildInventory } from '../inventory/build.ts';
import { InputError } from '../model/errors.ts';
import { toCycloneDxJson } from '../report/cyclonedx.ts';
import { toSpdxJson } from '../report/spdx.ts';
import { renderFindings } from '../report/table.ts';
import { EXIT_CLEAN, EXIT_FINDINGS } from './exit.ts';
import { type TargetCliOptions, targetBuildOptions } from './options.ts';
import { planOutput, writeOutput } from './output.ts';
import { terminalProgress } from './progress.ts';

export interface SbomOptions extends TargetCliOptions {
  format: 'cyclonedx-json' | 'spdx-json';
  self?: boolean;
  output?: string;
  progress: boolean;
}

export async function runSbom(targets: readonly string[], opts: SbomOptions): Promise<number> {
  if (targets.length > 1)
    throw new InputError(
      'USAGE',
      undefined,
      `sbom takes one target, not ${targets.length}: an SBOM describes one thing; run sbom once per target (inspect takes several)`,
    );
  const target = targets[0];
  if (opts.self) {
    if (target !== undefined) throw new InputError('USAGE', target, 'give a target or --self, not both');
    const { selfCycloneDxJson, selfSpdxJson } = await import('../report/self-sbom.ts');
    writeOutput(opts.format === 'spdx-json' ? selfSpdxJson() : selfCycloneDxJson(), opts.output, []);
    return EXIT_CLEAN;
  }
  if (target === undefined)
    throw new InputError('USAGE', undefined, 'sbom needs a target (a file, a folder, a data dir) or --self');
  const output = planOutput(opts.output, [target, opts.imagesList]);
  const progress = terminalProgress(opts.progress);
  const inv = await buildInventory(target, targetBuildOptions(opts, progress));
  progress.done();
  output.write(opts.format === 'spdx-json' ? toSpdxJson(inv) : toCycloneDxJson(inv));
  // The SBOM lists components; tampering findings are not components, so say them on stderr
  // and let the exit code carry them to the pipeline.
  if (inv.findings.length > 0) {
    process.stderr.write(renderFindings(inv.findings, false));
    return EXIT_FINDINGS;
  }
  return EXIT_CLEAN;
}
