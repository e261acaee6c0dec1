// Scan findings for people: grouped by the component they were found in (with its path inside
// the bundle), each with its ids, installed and fixed version, and whether the vulnerable code
// is in the binary. Suppressed (VEX) findings are listed apart, with the reason.
import type { Finding, Inventory } from '../model/inventory.ts';
import { quoteControls as q } from '../model/quote.ts';
import { compareSeverity, SEVERITIES } from '../model/severity.ts';
import { painter, SEVERITY_STYLE } from './paint.ts';

const REACH: Record<string, string> = { present: 'symbol present', absent: 'symbol absent', unknown: 'not known' };

/** Findings by where they were found (a file, maybe inside the bundle), then by module. */
function byComponent(findings: readonly Finding[]): Map<string, Map<string, Finding[]>> {
  const groups = new Map<string, Map<string, Finding[]>>();
  for (const f of findings) {
    const where = f.location.join(' › ');
    const v = f.vulnerability;
    // An OS package is matched on its source package: say so, or `bash 5.2.15-2` reads as the binary's version.
    const module =
      v?.via === 'os-package' ? `source package ${v.module} ${v.version}` : `${v?.module ?? ''} ${v?.version ?? ''}`;
    const modules = groups.get(where) ?? new Map<string, Finding[]>();
    modules.set(module, [...(modules.get(module) ?? []), f]);
    groups.set(where, modules);
  }
  return groups;
}

export function renderScanTable(inv: Inventory, findings: readonly Finding[], color: boolean): string {
  const paint = painter(color);
  const active = findings.filter((f) => !f.vulnerability?.suppressed);
  const suppressed = findings.filter((f) => f.vulnerability?.suppressed);
  const out: string[] = [`${paint('bold', 'TARGET')} ${q(inv.target)}`];
  if (active.length === 0) out.push('', 'No vulnerabilities found.');
  for (const [where, modules] of byComponent(active)) {
    out.push('', paint('bold', q(where)));
    for (const [module, group] of modules) {
      out.push(`  ${paint('cyan', q(module))}`);
      group.sort((a, b) => compareSeverity(a.severity, b.severity));
      for (const f of group) {
        const v = f.vulnerability;
        const ids = v?.ids.join(', ') ?? f.id;
        const fixed = v?.fixed ? `fixed in ${v.fixed}` : 'no fix recorded';
        const via = v?.via === 'upstream' ? ' (as upstream of a fork)' : '';
        // Reachability is a Go function-table fact: nothing to say for an OS package.
        const reach =
          v?.via === 'os-package'
            ? ''
            : ` · ${REACH[v?.reachability ?? 'unknown']}${v?.symbols?.length ? ` (${v.symbols.slice(0, 3).join(', ')}${v.symbols.length > 3 ? ', …' : ''})` : ''}`;
        out.push(
          `  ${paint(SEVERITY_STYLE[f.severity], f.severity.toUpperCase().padEnd(8))} ${q(ids)}`,
          `           ${q(f.title)}`,
          `           ${q(`${fixed}${via}${reach}`)}`,
        );
      }
    }
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
  const counts = SEVERITIES.map((s) => [s, active.filter((f) => f.severity === s).length] as const).filter(
    ([, n]) => n > 0,
  );
  out.push(
    '',
    `Summary: ${active.length} vulnerabilit${active.length === 1 ? 'y' : 'ies'}${counts.length ? ` (${counts.map(([s, n]) => `${n} ${s}`).join(', ')})` : ''}${suppressed.length ? `, ${suppressed.length} suppressed` : ''}`,
  );
  return `${out.join('\n')}\n`;
}
