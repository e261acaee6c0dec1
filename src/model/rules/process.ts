// The rules of the agent's process check: the executables K3s really runs (k3s, containerd,
// the containerd shims, runc), read through /proc/<pid>/exe, against the bundle they came from.
// The check is in src/audit/runtime/processes.ts.
import { type Rule, type RuleText, ruleTable } from './rule.ts';

const APPLIES = ['running process (/proc/<pid>/exe)'];

const RESTART =
  'Find out what replaced it (package manager, system-upgrade-controller, or an intruder); then restart K3s ' +
  '(`systemctl restart k3s`) from a verified binary so every process runs what is on disk, and run ' +
  '`k3sguard audit node` on the result.';

const texts = {
  'K3SG-PROCESS-EXE-DELETED': {
    severity: 'high',
    title: 'A K3s process runs an executable that was deleted or replaced',
    explanation:
      'The kernel shows `(deleted)` after `/proc/<pid>/exe` when the file the process was started from is no ' +
      'longer at its path: removed, or replaced by another file. What runs can then no longer be checked ' +
      'against anything on disk, and a tampered binary that removed itself after starting looks exactly like this.',
    fix: RESTART,
    appliesTo: APPLIES,
  },
  'K3SG-PROCESS-EXE-MODIFIED': {
    severity: 'critical',
    title: "A K3s process runs an executable whose digest is not the one in its bundle's sums",
    explanation:
      'containerd, the shims and runc run from the extracted bundle (`data/<hash>/bin`). K3s checks the bundle ' +
      'against its `bin/.sha256sums` once, when it extracts it; a process whose executable no longer hashes to ' +
      'the listed digest runs code that was changed afterwards, as root.',
    fix: `Treat the node as possibly compromised. ${RESTART}`,
    appliesTo: APPLIES,
  },
  'K3SG-PROCESS-EXE-UNLISTED': {
    severity: 'high',
    title: "A process runs an executable from K3s's data dir that its bundle does not list",
    explanation:
      "Every regular file K3s extracts into `data/<hash>/bin` is listed in that bundle's `bin/.sha256sums`. An " +
      'executable there that the sums do not list was put in after extraction, and runs with the trust K3s gives ' +
      'its own tools.',
    fix: `Remove the file after keeping a copy for analysis. ${RESTART}`,
    appliesTo: APPLIES,
  },
} as const satisfies Record<string, RuleText>;

export type ProcessRuleId = keyof typeof texts;

const PROCESS = ruleTable<ProcessRuleId>('process', texts);

export const PROCESS_RULES: readonly Rule[] = Object.values(PROCESS);

/** The rule record of a process check. */
export function processRule(id: ProcessRuleId): Rule {
  return PROCESS[id];
}
