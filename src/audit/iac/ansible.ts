// Ansible playbooks, roles' task files and handlers (k3s-ansible style): shell/command/script
// tasks are shell scripts run with the task's (and play's) `environment:`; `get_url` of the
// K3s installer without `checksum:` is an unverified install script, and the file it writes
// is known as an installer for later tasks; a `get_url`/`copy` of the k3s binary with a
// checksum counts as verifying the binary (for INSTALL_K3S_SKIP_DOWNLOAD).
import type { Node } from 'yaml';
import type { Finding } from '../../model/inventory.ts';
import { INSTALL_SCRIPT_UNVERIFIED } from '../../model/rules/iac.ts';
import { ruleFinding } from '../../model/rules/rule.ts';
import type { CheckOutput, IacFile, IacOptions } from './context.ts';
import { auditShell, isInstallerUrl } from './shell.ts';
import { entries, get, items, parseYaml, placeOfNode, scriptOf, str, stringMap } from './yaml-doc.ts';

const SHELL_MODULES = /^(?:ansible\.builtin\.|ansible\.legacy\.)?(?:shell|command|raw)$/;
const GET_URL = /^(?:ansible\.builtin\.|ansible\.legacy\.)?get_url$/;
const BLOCKS = ['tasks', 'pre_tasks', 'post_tasks', 'handlers', 'block', 'rescue', 'always'];

interface Task {
  node: Node;
  env: Map<string, string>;
}

/** Does this YAML look like Ansible (a list of plays or tasks)? */
export function isAnsible(root: unknown): boolean {
  const first = items(root)[0];
  if (first === undefined) return false;
  return entries(first).some(
    ([k]) =>
      k === 'hosts' ||
      k === 'import_playbook' ||
      k === 'tasks' ||
      k === 'roles' ||
      SHELL_MODULES.test(k) ||
      GET_URL.test(k) ||
      /^ansible\.builtin\./.test(k) ||
      k === 'block',
  );
}

export function checkAnsible(file: IacFile, _opts: IacOptions): CheckOutput {
  const { roots, problems } = parseYaml(file);
  const findings: Finding[] = [];
  const tasks: Task[] = [];
  for (const root of roots) collect(items(root), new Map(), tasks);
  // First pass: what the file downloads and verifies, whatever the task order.
  const installerFiles = new Set<string>();
  let binaryVerified = false;
  for (const { node } of tasks) {
    const [module, args] = moduleOf(node);
    if (!GET_URL.test(module) && !/copy$/.test(module)) continue;
    const url = str(get(args, 'url')) ?? '';
    const dest = str(get(args, 'dest')) ?? '';
    const checksum = str(get(args, 'checksum'));
    if (GET_URL.test(module) && isInstallerUrl(url)) {
      installerFiles.add(dest.split('/').pop() ?? dest);
      if (!checksum) {
        const at = placeOfNode(file, get(args, 'url'));
        findings.push(
          ruleFinding(INSTALL_SCRIPT_UNVERIFIED, `get_url fetches the K3s install script (${url}) with no checksum:`, {
            file: file.path,
            line: at.line,
            column: at.column,
          }),
        );
      }
    } else if (checksum && /k3s/.test(`${url} ${dest}`)) binaryVerified = true;
  }
  for (const { node, env } of tasks) {
    const [module, args] = moduleOf(node);
    if (!SHELL_MODULES.test(module)) continue;
    const script = scriptOf(file, str(args) !== undefined ? args : get(args, 'cmd'));
    if (!script) continue;
    // Jinja is rendered before the shell runs: `{{ x }}` is one word, kept the same length so offsets hold.
    const text = script.text.replace(/\{\{.*?\}\}/g, (m) => m.replace(/\s/g, '_'));
    findings.push(...auditShell(text, script.placeOf, { file: file.path, env, installerFiles, binaryVerified }));
  }
  return { findings, problems };
}

function collect(list: Node[], env: Map<string, string>, out: Task[]): void {
  for (const node of list) {
    const own = new Map([...env, ...stringMap(get(node, 'environment'))]);
    let nested = false;
    for (const key of BLOCKS) {
      const sub = get(node, key);
      if (sub !== undefined) {
        nested = true;
        collect(items(sub), own, out);
      }
    }
    if (!nested) out.push({ node, env: own });
  }
}

/** The task's module name and its arguments (free-form string or mapping). */
function moduleOf(task: Node): [string, Node | undefined] {
  for (const [key, value] of entries(task)) {
    if (SHELL_MODULES.test(key) || GET_URL.test(key) || /(?:^|\.)copy$/.test(key)) return [key, value];
  }
  return ['', undefined];
}
