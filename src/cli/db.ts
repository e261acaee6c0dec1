// `k3sguard db import|update|status`: the offline OSV vulnerability database.
import { openVulnDb } from '../vulndb/db.ts';
import { importOsv } from '../vulndb/import.ts';
import type { VulnDbStatus } from '../vulndb/status.ts';
import { UPDATE_ECOSYSTEMS, updateDb } from '../vulndb/update.ts';
import { EXIT_CLEAN } from './exit.ts';
import { terminalProgress } from './progress.ts';

export interface DbOptions {
  db?: string;
  json?: boolean;
  progress?: boolean;
  source?: string;
  /** `db update --ecosystem Go,Debian` or `all`. */
  ecosystem?: string;
}

/** `Go,Debian` -> the list; `all` -> every ecosystem `db update` knows. */
function ecosystemList(text: string): string[] {
  if (text.trim() === 'all') return [...UPDATE_ECOSYSTEMS];
  return text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
}

function warn(w: { where: string; id?: string; message: string }): void {
  process.stderr.write(`k3sguard: warning: ${w.where}${w.id ? ` (${w.id})` : ''}: ${w.message}; skipped\n`);
}

export async function runDbImport(paths: string[], opts: DbOptions): Promise<number> {
  const progress = terminalProgress(opts.progress !== false);
  const r = await importOsv(opts.db, paths, {
    onWarning: warn,
    progress: (p) =>
      progress.update(
        p.phase === 'read' ? `importing ${p.source}: ${p.done}/${p.total}` : `${p.phase}: ${p.records} records`,
      ),
  });
  progress.done();
  process.stdout.write(
    `${r.path}: ${r.records} records (${r.added} added, ${r.replaced} replaced, ${r.kept} kept, ${r.skipped} skipped)\n`,
  );
  return EXIT_CLEAN;
}

export async function runDbUpdate(opts: DbOptions): Promise<number> {
  const progress = terminalProgress(opts.progress !== false);
  const r = await updateDb(opts.db, {
    ...(opts.source ? { source: opts.source } : {}),
    ...(opts.ecosystem ? { ecosystems: ecosystemList(opts.ecosystem) } : {}),
    onWarning: warn,
    progress: (p) => {
      if (p.phase === 'download') {
        const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
        const pct = p.total ? ` ${Math.floor((100 * p.bytes) / p.total)}%` : '';
        const width = 30;
        const bar = p.total ? `[${'#'.repeat(Math.floor((width * p.bytes) / p.total)).padEnd(width)}]` : '';
        progress.update(`downloading ${bar}${pct} ${mb(p.bytes)}${p.total ? `/${mb(p.total)}` : ''} MiB`);
      } else progress.update(`${p.phase}: ${p.records} records`);
    },
  });
  progress.done();
  process.stdout.write(`${r.path}: ${r.records} records from ${r.source} (${r.added} added, ${r.replaced} replaced)\n`);
  return EXIT_CLEAN;
}

function statusTable(s: VulnDbStatus): string {
  const lines = [
    `database   ${s.path}`,
    `records    ${s.records} (${s.withdrawn} withdrawn), ${s.packages} packages, ${s.aliases} aliases`,
    `ecosystems ${Object.entries(s.ecosystems)
      .map(([e, n]) => `${e} ${n}`)
      .join(', ')}`,
    `newest     ${s.newestModified ?? 'no dated record'}`,
    `imported   ${s.lastImportAt ?? 'never'}${s.ageDays !== null ? ` (${s.ageDays.toFixed(1)} days ago)` : ''}`,
  ];
  for (const i of s.imports.slice(0, 5))
    lines.push(`  ${i.importedAt}  ${i.kind.padEnd(6)} ${i.count} records  ${i.source}`);
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

export async function runDbStatus(opts: DbOptions): Promise<number> {
  const db = openVulnDb(opts.db, { readonly: true });
  try {
    const s = db.status();
    process.stdout.write(opts.json ? `${JSON.stringify(s, null, 2)}\n` : statusTable(s));
    for (const w of opts.json ? s.warnings : []) process.stderr.write(`k3sguard: warning: ${w}\n`);
  } finally {
    db.close();
  }
  return EXIT_CLEAN;
}
