// Reporting an AuditResult: the exit code (`--fail-on`), the table for people and the JSON for
// programs. SARIF is audit-sarif.ts. Shared by `audit iac` and `audit node`.

import type { AuditResult } from '../audit/result.ts';
import type { Finding, Severity } from '../model/inventory.ts';
import { quoteControls } from '../model/quote.ts';
import { atLeast, compareSeverity } from '../model/severity.ts';

export type FailOn = Exclude<Severity, 'unknown'>;

export const AUDIT_JSON_SCHEMA = 'k3sguard/audit@1';

/** Exit 1 when a finding not waived is at or above `failOn` (default: any finding). */
export function auditFails(result: AuditResult, failOn: FailOn = 'info'): boolean {
  return result.findings.some((f) => atLeast(f.severity, failOn));
}

/** Nothing could be audited at all (every path missing, unreadable, ...): exit 2. */
export function nothingAudited(result: AuditResult): boolean {
  return result.filesAudited.length === 0 && result.problems.length > 0;
}

function where(f: Finding): string {
  const r = f.region;
  return r ? `${r.file}:${r.line}:${r.column}` : f.location.join(' > ');
}

export function auditTable(result: AuditResult): string {
  const lines: string[] = [];
  const counts = new Map<Severity, number>();
  for (const f of result.findings) counts.set(f.severity, (counts.get(f.severity) ?? 0) + 1);
  for (const f of result.findings) {
    lines.push(`${where(f)}  ${f.severity.toUpperCase()}  ${f.id}  ${f.message}`);
    if (f.region?.snippet) lines.push(`    ${f.region.snippet}`);
  }
  if (result.waived.length > 0) {
    lines.push('', `Waived (${result.waived.length}, not counted):`);
    for (const { finding, waiver } of result.waived) {
      lines.push(
        `${where(finding)}  ${finding.id}  waived (${waiver.source} ${waiver.file}:${waiver.line}): ${waiver.reason}`,
      );
    }
  }
  if (result.problems.length > 0) {
    lines.push('', `Not audited (${result.problems.length}):`);
    for (const p of result.problems) lines.push(`${p.file}  ${p.kind}: ${p.message}`);
  }
  const bySeverity = [...counts].sort((a, b) => compareSeverity(a[0], b[0]));
  const summary = bySeverity.map(([s, n]) => `${n} ${s}`).join(', ') || 'no findings';
  lines.push(
    '',
    `audit ${result.area}: ${result.filesAudited.length} file(s) audited, ${summary}` +
      `${result.waived.length ? `, ${result.waived.length} waived` : ''}` +
      `${result.problems.length ? `, ${result.problems.length} not audited` : ''}`,
  );
  // Messages and snippets quote the audited files, and paths name them: every line is shown
  // with its control characters quoted (no colour here, so none of them is ours).
  return `${lines.map(quoteControls).join('\n').replace(/^\n/, '')}\n`;
}

/** docs/audit.md documents this shape. */
export function auditJson(result: AuditResult, toolVersion: string): string {
  const doc = {
    schema: AUDIT_JSON_SCHEMA,
    tool: { name: 'k3sguard', version: toolVersion },
    area: result.area,
    root: result.root,
    findings: result.findings,
    waived: result.waived,
    filesAudited: result.filesAudited,
    problems: result.problems,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
