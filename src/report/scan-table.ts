// Scan findings for people, compact as trivy's table: one row per vulnerability of a package
// version (package, installed, fixed, id, severity, and whether the vulnerable code is in the
// binary), shown once under the places it was found in. A folder of binaries built with the
// same Go repeats the same stdlib findings in every one: they become one section naming every
// binary, not one copy per binary. JSON, SARIF and CycloneDX keep one finding per component.
// Suppressed (VEX) findings are listed apart, with the reason.
import type { Finding, Inventory } from '../model/inventory.ts';
import { quoteControls as q } from '../model/quote.ts';
import { compareSeverity, SEVERITIES } from '../model/severity.ts';
import { painter, SEVERITY_STYLE } from './paint.ts';

/** One vulnerability of one package version, with every finding of it (one per place). */
interface Row {
  pkg: string;
  installed: string;
  fixed: string;
  first: Finding;
  findings: Finding[];
}

const HEADER = ['PACKAGE', 'INSTALLED', 'FIXED', 'ID', 'SEVERITY', 'REACHABILITY'] as const;

function packageLabel(f: Finding): string {
  const v = f.vulnerability;
  if (!v) return '';
  // An OS package is matched on its source package, a fork as its upstream module: say so,
  // or `bash 5.2.15-2` reads as the binary package's version.
  if (v.via === 'os-package') return `${v.module} (source)`;
  if (v.via === 'upstream') return `${v.module} (upstream)`;
  return v.module;
}

/** Reachability over the row's places: one word when they agree, else how many have the symbols. */
function reachability(row: Row): string {
  if (row.first.vulnerability?.via === 'os-package') return '-'; // records name no symbols
  const values = row.findings.map((f) => f.vulnerability?.reachability ?? 'unknown');
  const present = values.filter((r) => r === 'present').length;
  if (values.every((r) => r === values[0])) return values[0] === 'unknown' ? 'not known' : (values[0] as string);
  return `present in ${present} of ${values.length}`;
}

/** Rows keyed by package version and vulnerability, then grouped by the places they were found in. */
function sections(findings: readonly Finding[]): Map<string, { places: string; rows: Row[] }> {
  const rows = new Map<string, Row>();
  for (const f of findings) {
    const v = f.vulnerability;
    const pkg = packageLabel(f);
    const key = [pkg, v?.version ?? '', f.id].join('\0');
    const row = rows.get(key);
    if (row) row.findings.push(f);
    else rows.set(key, { pkg, installed: v?.version ?? '', fixed: v?.fixed ?? '-', first: f, findings: [f] });
  }
  const out = new Map<string, { places: string; rows: Row[] }>();
  for (const row of rows.values()) {
    const locations = new Map(row.findings.map((f) => [f.location.join('\0'), f.location]));
    const key = [...locations.keys()].join('\0\0');
    const section = out.get(key);
    if (section) section.rows.push(row);
    else out.set(key, { places: placesLine([...locations.values()]), rows: [row] });
  }
  return out;
}

/**
 * The places a section's rows were found in: `dir › runc` alone; `dir: etcd, runc` for several
 * with a common start (a folder, a bundle), so each name is read without its folder again.
 */
function placesLine(locations: readonly (readonly string[])[]): string {
  const [first, ...others] = locations;
  if (!first) return '';
  if (others.length === 0) return first.join(' › ');
  let common = 0;
  while (common < first.length - 1 && locations.every((l) => common < l.length - 1 && l[common] === first[common]))
    common++;
  const rest = locations.map((l) => l.slice(common).join(' › ')).join(', ');
  return common > 0 ? `${first.slice(0, common).join(' › ')}: ${rest}` : rest;
}

const byRow = (a: Row, b: Row): number =>
  compareSeverity(a.first.severity, b.first.severity) ||
  (a.pkg < b.pkg ? -1 : a.pkg > b.pkg ? 1 : 0) ||
  (a.first.id < b.first.id ? -1 : a.first.id > b.first.id ? 1 : 0);

export function renderScanTable(inv: Inventory, findings: readonly Finding[], color: boolean): string {
  const paint = painter(color);
  const active = findings.filter((f) => !f.vulnerability?.suppressed);
  const suppressed = findings.filter((f) => f.vulnerability?.suppressed);
  const out: string[] = [`${paint('bold', 'TARGET')} ${q(inv.target)}`];
  if (active.length === 0) out.push('', 'No vulnerabilities found.');
  const grouped = [...sections(active).values()];
  // Every cell may come from an input (a module path, an advisory id): quoted before it is
  // measured, so the columns line up on what the terminal shows.
  const cells = (row: Row): string[] =>
    [row.pkg, row.installed, row.fixed, row.first.id, row.first.severity.toUpperCase(), reachability(row)].map((c) =>
      q(c),
    );
  const widths = HEADER.map((h) => h.length);
  for (const { rows } of grouped)
    for (const row of rows) for (const [i, c] of cells(row).entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  const line = (texts: readonly string[], styleSeverity?: Finding['severity']): string =>
    `  ${texts
      .map((t, i) => {
        const padded = i === texts.length - 1 ? t : t.padEnd(widths[i] ?? 0);
        return i === 4 && styleSeverity ? paint(SEVERITY_STYLE[styleSeverity], padded) : padded;
      })
      .join('  ')}`;
  for (const { places, rows } of grouped) {
    out.push('', paint('bold', q(places)), paint('dim', line(HEADER)));
    rows.sort(byRow);
    for (const row of rows) out.push(line(cells(row), row.first.severity));
  }
  if (suppressed.length > 0) {
    out.push('', paint('bold', `SUPPRESSED BY VEX (${suppressed.length})`));
    for (const f of suppressed) {
      const s = f.vulnerability?.suppressed;
      out.push(
        `  ${q(`${f.id} ${f.location.join(' › ')}: ${s?.justification ?? 'not_affected'}${s?.statement ? ` — ${s.statement}` : ''}`)}`,
      );
    }
  }
  const rowsOf = grouped.flatMap((g) => g.rows);
  const rowCount = rowsOf.length;
  const counts = SEVERITIES.map((s) => [s, rowsOf.filter((r) => r.first.severity === s).length] as const).filter(
    ([, n]) => n > 0,
  );
  const places = new Set(active.map((f) => f.location.join(' › '))).size;
  const spread =
    active.length > rowCount ? `; ${active.length} findings in ${places} place${places === 1 ? '' : 's'}` : '';
  out.push(
    '',
    `Summary: ${rowCount} vulnerabilit${rowCount === 1 ? 'y' : 'ies'}${counts.length ? ` (${counts.map(([s, n]) => `${n} ${s}`).join(', ')})` : ''}${spread}${suppressed.length ? `, ${suppressed.length} suppressed` : ''}`,
  );
  return `${out.join('\n')}\n`;
}
