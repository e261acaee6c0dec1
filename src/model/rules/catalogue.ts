// The rule catalogue: every rule of every area in one list, looked up by id, and docs/rules.md
// generated from it (`npm run docs`; a test fails when the file is stale, and another
// when an id written anywhere in src/ is not here). `audit --list-rules` and audit waivers
// deal in the audit areas only: the other areas' findings never reach an audit.
import { BUNDLE_RULES } from './bundle.ts';
import { IAC_RULES } from './iac.ts';
import { IMAGE_RULES } from './image.ts';
import { NODE_RULES } from './node.ts';
import { POLICY_RULES } from './policy.ts';
import { PROCESS_RULES } from './process.ts';
import type { Rule, RuleArea } from './rule.ts';
import { RUNTIME_RULES } from './runtime.ts';

/** Each area, in the order docs/rules.md lists them, with what raises its findings. */
const AREAS: ReadonlyArray<{ area: RuleArea; heading: string; raisedBy: string }> = [
  {
    area: 'bundle',
    heading: 'Bundle (k3s binaries and data dirs)',
    raisedBy: '`k3sguard inspect`, `scan` and `verify` of a k3s binary (its embedded bundle) or an extracted data dir',
  },
  {
    area: 'image',
    heading: 'Image archives',
    raisedBy: '`k3sguard inspect`, `scan` and `verify` of an image archive or OCI layout (and `--images-list`)',
  },
  { area: 'policy', heading: 'Image policy', raisedBy: '`k3sguard verify --policy` of an image archive' },
  { area: 'iac', heading: 'audit iac', raisedBy: '`k3sguard audit iac`' },
  { area: 'node', heading: 'audit node', raisedBy: '`k3sguard audit node`' },
  {
    area: 'runtime',
    heading: 'Runtime (containerd)',
    raisedBy: "`k3sguard agent`'s containerd check: the images and containers of containerd's namespace k8s.io",
  },
  {
    area: 'process',
    heading: 'Processes (agent)',
    raisedBy: '`k3sguard agent`, from /proc/<pid>/exe of k3s, containerd, the shims and runc',
  },
];

/** The areas whose findings an audit raises (and its waivers may name). */
export const AUDIT_AREAS: readonly RuleArea[] = ['iac', 'node'];

const ALL: readonly Rule[] = [
  ...Object.values(BUNDLE_RULES),
  ...Object.values(IMAGE_RULES),
  ...Object.values(POLICY_RULES),
  ...IAC_RULES,
  ...NODE_RULES,
  ...Object.values(RUNTIME_RULES),
  ...PROCESS_RULES,
];

let byId: Map<string, Rule> | undefined;

/** The catalogue by id; throws on an id listed twice (two checks must never share one). */
function index(): Map<string, Rule> {
  if (!byId) {
    const map = new Map<string, Rule>();
    for (const rule of ALL) {
      if (map.has(rule.id)) throw new Error(`duplicate rule id ${rule.id}`);
      map.set(rule.id, rule);
    }
    byId = map;
  }
  return byId;
}

/** Every rule, area by area (the order of docs/rules.md), each area in its table's order. */
export function allRules(): readonly Rule[] {
  index();
  return ALL;
}

/** The rules `audit --list-rules` prints and audit waivers may name: iac, then node. */
export function auditRules(): readonly Rule[] {
  return allRules().filter((r) => AUDIT_AREAS.includes(r.area));
}

export function findRule(id: string): Rule | undefined {
  return index().get(id);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** docs/rules.md: per area an index table, then one section per rule. Deterministic (no dates). */
export function rulesMarkdown(rules: readonly Rule[] = allRules()): string {
  const out: string[] = [
    '# Rules',
    '',
    '<!-- Generated from src/model/rules/ (bundle.ts, image.ts, policy.ts, iac.ts, node.ts, runtime.ts, process.ts) by `npm run docs`; do not edit. -->',
    '',
    'Every finding k3sguard reports carries one of these ids (vulnerabilities found by `scan` carry',
    'their advisory ids instead). Reports, SARIF rules and waivers key on them; an id is never reused',
    'for another check. `k3sguard audit --list-rules` prints the audit rules; waive an audit finding',
    'with `# k3sguard:ignore <ID> <reason>` or in the policy file (docs/audit.md).',
    '',
  ];
  for (const { area, heading, raisedBy } of AREAS) {
    const list = rules.filter((r) => r.area === area);
    out.push(`## ${heading}`, '', `Raised by ${raisedBy}.`, '');
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
export function rulesText(rules: readonly Rule[] = auditRules()): string {
  const width = Math.max(...rules.map((r) => r.id.length));
  return `${rules.map((r) => `${r.id.padEnd(width)}  ${r.severity.padEnd(8)}  ${r.title}`).join('\n')}\n`;
}
