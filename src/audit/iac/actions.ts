// GitHub Actions workflows and composite actions: `uses:` must pin a full 40-hex commit SHA
// (local `./` actions are in the repository itself; `docker://` images are image references),
// job containers and service images are images, and `run:` steps are shell scripts with the
// workflow's, job's and step's `env:` exported to them.
import type { Node } from 'yaml';
import type { Finding } from '../../model/inventory.ts';
import { ACTION_UNPINNED } from '../../model/rules/iac.ts';
import { ruleFinding } from '../../model/rules/rule.ts';
import type { CheckOutput, IacFile, IacOptions } from './context.ts';
import { checkImage } from './images.ts';
import { auditShell } from './shell.ts';
import { entries, get, items, parseYaml, placeOfNode, scriptOf, str, stringMap } from './yaml-doc.ts';

const SHA = /^[0-9a-f]{40}$/;

export function checkActions(file: IacFile, opts: IacOptions): CheckOutput {
  const { roots, problems } = parseYaml(file);
  const findings: Finding[] = [];
  for (const root of roots) {
    const env = stringMap(get(root, 'env'));
    for (const [, job] of entries(get(root, 'jobs'))) {
      const jobEnv = new Map([...env, ...stringMap(get(job, 'env'))]);
      checkUses(file, get(job, 'uses'), findings); // reusable workflow
      const container = get(job, 'container');
      image(file, opts, str(container) !== undefined ? container : get(container, 'image'), 'job container', findings);
      for (const [name, service] of entries(get(job, 'services'))) {
        image(file, opts, str(service) !== undefined ? service : get(service, 'image'), `service ${name}`, findings);
      }
      steps(file, opts, get(job, 'steps'), jobEnv, findings);
    }
    // A composite action (action.yml).
    steps(file, opts, get(get(root, 'runs'), 'steps'), env, findings);
  }
  return { findings, problems };
}

function steps(file: IacFile, opts: IacOptions, list: unknown, env: Map<string, string>, findings: Finding[]): void {
  for (const step of items(list)) {
    const uses = get(step, 'uses');
    const ref = str(uses);
    if (ref?.startsWith('docker://')) {
      const at = placeOfNode(file, uses);
      findings.push(
        ...checkImage(ref.slice(9), { line: at.line, column: at.column + 9 }, file.path, opts.policy, 'step image'),
      );
    } else checkUses(file, uses, findings);
    const run = scriptOf(file, get(step, 'run'));
    if (run) {
      const stepEnv = new Map([...env, ...stringMap(get(step, 'env'))]);
      findings.push(...auditShell(run.text, run.placeOf, { file: file.path, env: stepEnv }));
    }
  }
}

function checkUses(file: IacFile, node: Node | undefined, findings: Finding[]): void {
  const ref = str(node);
  if (ref === undefined || ref.startsWith('./') || ref.startsWith('docker://')) return;
  const at = ref.lastIndexOf('@');
  const version = at < 0 ? '' : ref.slice(at + 1);
  if (SHA.test(version)) return;
  const where = placeOfNode(file, node);
  const why = at < 0 ? 'names no version at all' : `is pinned to "${version}", which its owner can move`;
  findings.push(
    ruleFinding(ACTION_UNPINNED, `${ref} ${why}`, { file: file.path, line: where.line, column: where.column }),
  );
}

function image(file: IacFile, opts: IacOptions, node: Node | undefined, what: string, findings: Finding[]): void {
  const text = str(node);
  if (text !== undefined) findings.push(...checkImage(text, placeOfNode(file, node), file.path, opts.policy, what));
}
