// What the installed K3s binary is made of, for the report (model/report-components.ts): read
// with the inventory code `inspect` uses, once per binary digest, and kept in the state dir
// (`components/<sha256>.json`), because reading a K3s binary decompresses its whole bundle and
// the binary changes only on an upgrade. A check on an unchanged binary reads the small file.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildInventory } from '../inventory/build.ts';
import { summarizeComponents } from '../inventory/report-components.ts';
import { writeFileDurably } from '../io/durable-file.ts';
import { isInputError } from '../model/errors.ts';
import type { ReportComponents } from '../model/report-components.ts';

const CACHE_SCHEMA = 'k3sguard/agent-components@1';

interface CacheFile {
  schema: typeof CACHE_SCHEMA;
  sha256: string;
  components: ReportComponents;
}

export type ComponentsResult =
  | { kind: 'read'; components: ReportComponents; problem?: string }
  | { kind: 'problem'; message: string };

function cached(file: string, sha256: string): ReportComponents | undefined {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    if (json?.schema === CACHE_SCHEMA && json.sha256 === sha256 && Array.isArray(json.components?.binaries))
      return json.components;
  } catch {
    // Absent or damaged: read the binary again.
  }
  return undefined;
}

/**
 * The components of the binary at `hostPath`, whose audit found `sha256`. A binary replaced
 * between the audit and this read (its inventory hashes otherwise) is not cached: the next
 * check, which audits the new one, reads it.
 */
export async function binaryComponents(stateDir: string, hostPath: string, sha256: string): Promise<ComponentsResult> {
  const dir = join(stateDir, 'components');
  const file = join(dir, `${sha256}.json`);
  const known = cached(file, sha256);
  if (known) return { kind: 'read', components: known };
  let components: ReportComponents;
  try {
    const inventory = await buildInventory(hostPath);
    const root = inventory.root;
    if (root.type !== 'file' || root.sha256 !== sha256)
      return { kind: 'problem', message: 'the binary changed while it was read: its components are sent next check' };
    components = summarizeComponents(root);
  } catch (e) {
    // The report goes without them: the audit has said what is wrong with the binary.
    const why = isInputError(e) ? e.message : ((e as NodeJS.ErrnoException).code ?? String(e));
    return { kind: 'problem', message: `components not read: ${why}` };
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Only the installed binary's: an upgrade replaces the entry, the directory does not grow.
    for (const old of readdirSync(dir)) if (old !== `${sha256}.json`) rmSync(join(dir, old), { force: true });
    const doc: CacheFile = { schema: CACHE_SCHEMA, sha256, components };
    writeFileDurably(file, `${JSON.stringify(doc)}\n`);
  } catch (e) {
    // Not kept: the next check reads the binary again, and says why.
    return {
      kind: 'read',
      components,
      problem: `components not kept in ${dir} (${(e as NodeJS.ErrnoException).code ?? String(e)}): the binary is read at every check`,
    };
  }
  return { kind: 'read', components };
}
