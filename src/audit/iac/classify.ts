// Which checker a file gets, from its path first (cheap: most files of a repository are
// never read) and, for YAML and extension-less files, from its first bytes.
import { checkActions } from './actions.ts';
import { checkAnsible, isAnsible } from './ansible.ts';
import { checkCloudInit } from './cloudinit.ts';
import type { Checker, IacFile, IacOptions } from './context.ts';
import { checkDockerfile } from './dockerfile.ts';
import { checkGitlab } from './gitlab.ts';
import { checkKubernetes, isManifest } from './kubernetes.ts';
import { auditShell } from './shell.ts';
import { checkTerraform } from './terraform.ts';
import { parseYaml } from './yaml-doc.ts';

export type FileKind =
  | 'shell'
  | 'cloud-init'
  | 'dockerfile'
  | 'ansible'
  | 'terraform'
  | 'github-actions'
  | 'gitlab-ci'
  | 'kubernetes'
  | 'yaml' // YAML of no kind we check: read, nothing to say
  | 'template'; // .tftpl/.tpl/user-data: decided by content

/** The kind by path alone; undefined: not a file `audit iac` reads. */
export function kindByPath(path: string): FileKind | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const lower = base.toLowerCase();
  if (/(^|\/)\.github\/workflows\/[^/]+\.ya?ml$/.test(path)) return 'github-actions';
  if (/^action\.ya?ml$/.test(lower)) return 'github-actions';
  if (
    lower === '.gitlab-ci.yml' ||
    lower.endsWith('.gitlab-ci.yml') ||
    /(^|\/)\.gitlab\/ci\/[^/]+\.ya?ml$/.test(path)
  ) {
    return 'gitlab-ci';
  }
  if (
    lower === 'dockerfile' ||
    lower === 'containerfile' ||
    lower.startsWith('dockerfile.') ||
    lower.endsWith('.dockerfile')
  ) {
    return 'dockerfile';
  }
  if (lower.endsWith('.tf')) return 'terraform';
  if (/\.(?:sh|bash|ksh|zsh)$/.test(lower)) return 'shell';
  if (/\.ya?ml$/.test(lower)) return 'yaml';
  if (/\.(?:tftpl|tpl|cfg)$/.test(lower) || /^(?:user-data|userdata|cloud-init|cloud-config)(?:\.|$)/.test(lower)) {
    return 'template';
  }
  if (!lower.includes('.')) return 'template'; // extension-less: a script only if it has a shebang
  return undefined;
}

const SHEBANG = /^#!\s*\S*(?:\/|\s)(?:ba|da|z|k)?sh\b/;

/** The checker for a file of a path kind, once its text is known; undefined: nothing to check. */
export function checkerFor(kind: FileKind, file: IacFile): { kind: FileKind; check: Checker } | undefined {
  const head = file.text.slice(0, 256);
  switch (kind) {
    case 'shell':
      return { kind, check: checkShellFile };
    case 'dockerfile':
      return { kind, check: checkDockerfile };
    case 'terraform':
      return { kind, check: checkTerraform };
    case 'github-actions':
      return { kind, check: checkActions };
    case 'gitlab-ci':
      return { kind, check: checkGitlab };
    case 'template':
      if (head.startsWith('#cloud-config')) return { kind: 'cloud-init', check: checkCloudInit };
      if (SHEBANG.test(head)) return { kind: 'shell', check: checkShellFile };
      return undefined;
    default:
      return yamlChecker(file);
  }
}

function yamlChecker(file: IacFile): { kind: FileKind; check: Checker } {
  if (file.text.startsWith('#cloud-config') || /^(?:runcmd|bootcmd|write_files):/m.test(file.text)) {
    return { kind: 'cloud-init', check: checkCloudInit };
  }
  // Kubernetes and Ansible are told apart by the first document's shape; parsing twice is
  // avoided only for files that name neither (the common YAML of a repository).
  if (/^(?:apiVersion|kind):/m.test(file.text)) return { kind: 'kubernetes', check: checkKubernetes };
  if (/^-\s/m.test(file.text)) {
    const first = parseYaml(file).roots[0];
    if (isAnsible(first)) return { kind: 'ansible', check: checkAnsible };
    if (isManifest(first)) return { kind: 'kubernetes', check: checkKubernetes };
  }
  return { kind: 'yaml', check: checkPlainYaml };
}

function checkShellFile(file: IacFile, _opts: IacOptions) {
  return { findings: auditShell(file.text, (o) => file.index.place(o), { file: file.path }), problems: [] };
}

/** YAML of no known kind is still parsed, so invalid YAML is reported. */
function checkPlainYaml(file: IacFile, _opts: IacOptions) {
  return { findings: [], problems: parseYaml(file).problems };
}
