import { buildInventory } from '../inventory/build.ts';
import { inventoryJson } from '../report/json.ts';
import { renderInventoryTable } from '../report/table.ts';
import { EXIT_CLEAN, EXIT_FINDINGS } from './exit.ts';
import { type TargetCliOptions, targetBuildOptions } from './options.ts';
import { planOutput } from './output.ts';
import { terminalProgress } from './progress.ts';
import { colorWanted } from './terminal.ts';

export interface InspectOptions extends TargetCliOptions {
  json?: boolean;
  output?: string;
  modules: boolean;
  progress: boolean;
}

export async function runInspect(target: string, opts: InspectOptions): Promise<number> {
  const output = planOutput(opts.output, [target, opts.imagesList]);
  const progress = terminalProgress(opts.progress);
  const inv = await buildInventory(target, targetBuildOptions(opts, progress));
  progress.done();
  const color = !opts.json && colorWanted(opts.output);
  output.write(opts.json ? inventoryJson(inv) : renderInventoryTable(inv, { modules: opts.modules, color }));
  return inv.findings.length > 0 ? EXIT_FINDINGS : EXIT_CLEAN;
}
