// `k3sguard inspect TARGET...`: one inventory per target, in the order named. The table shows
// them one after another; JSON is the inventory document for one target and an array of them
// for several, so a one-target pipeline reads what it always read.
import { buildInventory } from '../inventory/build.ts';
import { detectTarget } from '../io/target.ts';
import type { Inventory } from '../model/inventory.ts';
import { inventoryJson, inventoryListJson } from '../report/json.ts';
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
  verbose?: boolean;
  progress: boolean;
}

export async function runInspect(targets: readonly string[], opts: InspectOptions): Promise<number> {
  const output = planOutput(opts.output, [...targets, opts.imagesList]);
  // A missing or unreadable second target is reported before the first is read.
  for (const target of targets) detectTarget(target);
  const progress = terminalProgress(opts.progress);
  const build = targetBuildOptions(opts, progress);
  const inventories: Inventory[] = [];
  for (const target of targets) inventories.push(await buildInventory(target, build));
  progress.done();
  const color = !opts.json && colorWanted(opts.output);
  const table = { modules: opts.modules, verbose: opts.verbose === true, color };
  const [first, ...more] = inventories;
  if (!opts.json) output.write(inventories.map((inv) => renderInventoryTable(inv, table)).join('\n'));
  else output.write(first && more.length === 0 ? inventoryJson(first) : inventoryListJson(inventories));
  return inventories.some((inv) => inv.findings.length > 0) ? EXIT_FINDINGS : EXIT_CLEAN;
}
