// The rule catalogue: every audit rule (iac and node) in one list, looked up by id, and
// docs/rules.md generated from it (`npm run docs:rules`; a test fails when the file is stale).
import type { Severity } from '../inventory.ts';
import { IAC_RULES } from './iac.ts';
import { NODE_RULES } from './node.ts';
import type { AuditRule } from './rule.ts';

const SEVERITY_ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info', 'unknown'];

/** Every rule, iac first, each area in the order its table lists. */
export function allRules(): readonly AuditRule[] {
  return [...IAC_RULES, ...NODE_RULES];
}

let byId: Map<string, AuditRule> | undefined;

export function findRule(id: string): AuditRule | undefined {
  if (!byId) {
    byId = new Map();
    for (const rule of allRules()) {
      if (byId.has(rule.id)) throw new Error(`duplicate audit rule id ${rule.id}`);
      byId.set(rule.id, rule);
    }
  }
  return byId.get(id);
}

/** Severities from most to least severe (for `--fail-on` and sorting). */
export function severityRank(s: Severity): number {
  return SEVERITY_ORDER.indexOf(s);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** docs/rules.md: an index table, then one section per rule. Deterministic (no dates). */
export function rulesMarkdown(rules: readonly AuditRule[] = allRules()): string {
  const out: string[] = [
    '# Audit rules',
    '',
    '<!-- Generated from src/model/rules/iac.ts and src/model/rules/node.ts by `npm run docs:rules`; do not edit. -->',
    '',
    'Every finding of `k3sguard audit iac` and `k3sguard audit node` carries one of these ids.',
    '`k3sguard audit --list-rules` prints the same list; waive a finding with',
    '`# k3sguard:ignore <ID> <reason>` or in the policy file (docs/audit.md).',
    '',
  ];
  for (const area of ['iac', 'node'] as const) {
    const list = rules.filter((r) => r.area === area);
    out.push(`## audit ${area}`, '');
    if (list.length === 0) {
      out.push('(no rules yet)', '');
      continue;
    }
    out.push('| Id | Severity | Title |', '| --- | --- | --- |');
    for (const r of list) out.push(`| [${r.id}](#${r.id.toLowerCase()}) | ${r.severity} | ${cell(r.title)} |`);
    out.push('');
    for (const r of list) {
      out.push(
        `### ${r.id}`,
        '',
        `**${r.title}** (severity: ${r.severity})`,
        '',
        `Applies to: ${r.appliesTo.join('; ')}.`,
        '',
        r.explanation,
        '',
        `Fix: ${r.fix}`,
        '',
      );
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** `audit --list-rules`: one line a rule. */
export function rulesText(rules: readonly AuditRule[] = allRules()): string {
  const width = Math.max(...rules.map((r) => r.id.length));
  return `${rules.map((r) => `${r.id.padEnd(width)}  ${r.severity.padEnd(8)}  ${r.title}`).join('\n')}\n`;
}
