// `k3sguard db import|update|status`: the offline OSV vulnerability database.

import { isInputError } from '../model/errors.ts';
import { quoteControls } from '../model/quote.ts';
import { openVulnDb } from '../vulndb/db.ts';
import { type ImportWarning, importOsv } from '../vulndb/import.ts';
import type { VulnDbStatus } from '../vulndb/status.ts';
import { UPDATE_ECOSYSTEMS, updateDb } from '../vulndb/update.ts';
import { EXIT_CLEAN } from './exit.ts';
import { terminalProgress } from './progress.ts';
import { warn as warnLine } from './stderr.ts';

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
  warnLine(`${w.where}${w.id ? ` (${w.id})` : ''}: ${w.message}`);
}

/**
 * Warnings as they come, but the first held back until a second one or the import's end: when
 * the only record is invalid, the import's NO_RECORDS error gives the reason, in one line.
 */
function holdFirstWarning() {
  let first = true;
  let held: ImportWarning | undefined;
  const flush = () => {
    if (held) warn(held);
    held = undefined;
  };
  return {
    onWarning(w: ImportWarning): void {
      if (first) held = w;
      else {
        flush();
        warn(w);
      }
      first = false;
    },
    /** The import failed: the held warning, unless the error already says it (NO_RECORDS). */
    failed(e: unknown): void {
      if (isInputError(e) && e.code === 'NO_RECORDS') held = undefined;
      flush();
    },
    done: flush,
  };
}

export async function runDbImport(paths: string[], opts: DbOptions): Promise<number> {
  const progress = terminalProgress(opts.progress !== false);
  const warnings = holdFirstWarning();
  let r: Awaited<ReturnType<typeof importOsv>>;
  try {
    r = await importOsv(opts.db, paths, {
      onWarning: warnings.onWarning,
      progress: (p) =>
        progress.update(
          p.phase === 'read' ? `importing ${p.source}: ${p.done}/${p.total}` : `${p.phase}: ${p.records} records`,
        ),
    });
  } catch (e) {
    progress.done();
    warnings.failed(e);
    throw e;
  }
  progress.done();
  warnings.done();
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
  // Sources are the paths and URLs imports were given: shown quoted (quoteControls).
  return `${lines.map(quoteControls).join('\n')}\n`;
}

export async function runDbStatus(opts: DbOptions): Promise<number> {
  const db = openVulnDb(opts.db, { readonly: true });
  try {
    const s = db.status();
    process.stdout.write(opts.json ? `${JSON.stringify(s, null, 2)}\n` : statusTable(s));
    for (const w of opts.json ? s.warnings : []) warnLine(w);
  } finally {
    db.close();
  }
  return EXIT_CLEAN;
}
