// `ir diff` output: a table for the terminal, JSON for programs (schema k3sguard/ir-diff@1),
// Markdown for an incident ticket. Every group is listed in its order, even when nothing in it
// changed, so "no change to the binary" is said, not implied.
import { quoteControls } from '../model/quote.ts';
import { escapeMarkdown } from '../report/escape.ts';
import { type Change, DIFF_GROUPS, type DiffResult, GROUP_TITLES } from './diff.ts';

export const DIFF_SCHEMA = 'k3sguard/ir-diff@1';
export type DiffFormat = 'table' | 'json' | 'markdown';

const label = (r: DiffResult['baseline'] | DiffResult['evidence']) =>
  'host' in r && r.host ? `${r.file} (host ${r.host}, collected ${r.collectedAt})` : `${r.file} (lock)`;

const arrow = (c: Change): string =>
  c.before !== undefined && c.after !== undefined ? `${c.before} -> ${c.after}` : (c.after ?? c.before ?? '');

export function formatDiff(r: DiffResult, format: DiffFormat): string {
  if (format === 'json') return `${JSON.stringify({ schema: DIFF_SCHEMA, ...r }, null, 2)}\n`;
  return format === 'markdown' ? markdown(r) : table(r);
}

function table(r: DiffResult): string {
  const q = quoteControls;
  const lines = [`baseline: ${q(label(r.baseline))}`, `evidence: ${q(label(r.evidence))}`, ''];
  for (const g of DIFF_GROUPS) {
    const cs = r.changes.filter((c) => c.group === g);
    lines.push(
      `${GROUP_TITLES[g]}: ${cs.length === 0 ? 'no change' : `${cs.length} change${cs.length > 1 ? 's' : ''}`}`,
    );
    for (const c of cs) {
      lines.push(`  ${c.change.padEnd(11)} ${q(c.subject)}`);
      const what = arrow(c);
      if (what) lines.push(`              ${q(what)}`);
      if (c.why) lines.push(`              why: ${q(c.why)}`);
    }
  }
  lines.push('', summary(r));
  for (const n of r.notes) lines.push(`note: ${q(n)}`);
  return `${lines.join('\n')}\n`;
}

function markdown(r: DiffResult): string {
  const e = escapeMarkdown;
  const lines = [
    '# What changed on the node',
    '',
    `- baseline: ${e(label(r.baseline))}`,
    `- evidence: ${e(label(r.evidence))}`,
    `- ${summary(r)}`,
    '',
  ];
  for (const g of DIFF_GROUPS) {
    const cs = r.changes.filter((c) => c.group === g);
    lines.push(`## ${GROUP_TITLES[g]}`, '');
    if (cs.length === 0) {
      lines.push('No change.', '');
      continue;
    }
    lines.push('| change | what | before | after | why |', '| --- | --- | --- | --- | --- |');
    for (const c of cs) {
      lines.push(`| ${c.change} | ${e(c.subject)} | ${e(c.before ?? '')} | ${e(c.after ?? '')} | ${e(c.why ?? '')} |`);
    }
    lines.push('');
  }
  if (r.notes.length > 0) lines.push('## Notes', '', ...r.notes.map((n) => `- ${e(n)}`), '');
  return lines.join('\n');
}

function summary(r: DiffResult): string {
  const n = r.changes.length;
  if (n === 0) return 'nothing changed';
  const groups = DIFF_GROUPS.filter((g) => r.changes.some((c) => c.group === g));
  return `${n} change${n > 1 ? 's' : ''} in ${groups.length} group${groups.length > 1 ? 's' : ''}: ${groups.join(', ')}`;
}
