// VerifyReport as a table for people and JSON for pipelines.
import { quoteControls as q } from '../model/quote.ts';
import { passed, type VerifyReport } from '../verify/model.ts';
import { painter } from './paint.ts';

export const VERIFY_SCHEMA = 'k3sguard/verify@1';

export function verifyJson(report: VerifyReport): string {
  const failed = report.checks.filter((c) => !passed(c)).length;
  return `${JSON.stringify({ schema: VERIFY_SCHEMA, verified: failed === 0, failed, checks: report.checks }, null, 2)}\n`;
}

const STATUS_TEXT: Record<string, string> = {
  ok: 'OK',
  mismatch: 'MISMATCH',
  'not-listed': 'NOT LISTED',
  missing: 'MISSING',
  unexpected: 'UNEXPECTED',
  invalid: 'INVALID',
};

export function verifyTable(report: VerifyReport, color: boolean): string {
  const style = painter(color);
  const paint = (ok: boolean, s: string) => style(ok ? 'green' : 'bold-red', s);
  // Subjects are file names and details quote the inputs: both are shown quoted (quoteControls).
  const rows = report.checks.map((c) => ({
    c,
    status: STATUS_TEXT[c.status] ?? c.status.toUpperCase(),
    subject: q(c.subject),
  }));
  const subjectWidth = Math.min(48, Math.max(7, ...rows.map((r) => r.subject.length)));
  const kindWidth = Math.max(4, ...rows.map((r) => r.c.kind.length));
  const lines = [`${'STATUS'.padEnd(11)} ${'KIND'.padEnd(kindWidth)} ${'SUBJECT'.padEnd(subjectWidth)} DETAIL`];
  for (const { c, status, subject } of rows) {
    lines.push(
      `${paint(passed(c), status.padEnd(11))} ${c.kind.padEnd(kindWidth)} ${subject.padEnd(subjectWidth)} ${q(c.detail)}`,
    );
    if (!passed(c)) {
      if (c.expected !== undefined) lines.push(`${' '.repeat(13 + kindWidth)}expected ${q(c.expected)}`);
      if (c.actual !== undefined) lines.push(`${' '.repeat(13 + kindWidth)}found    ${q(c.actual)}`);
      if (c.hint) lines.push(`${' '.repeat(13 + kindWidth)}-> ${q(c.hint)}`);
    }
  }
  const failed = rows.filter((r) => !passed(r.c)).length;
  lines.push(
    '',
    failed === 0
      ? paint(true, rows.length === 1 ? 'verified: the one check passed' : `verified: all ${rows.length} checks passed`)
      : paint(
          false,
          rows.length === 1
            ? 'NOT VERIFIED: the one check failed'
            : `NOT VERIFIED: ${failed} of ${rows.length} checks failed`,
        ),
  );
  return `${lines.join('\n')}\n`;
}
