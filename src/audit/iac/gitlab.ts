// GitLab CI (.gitlab-ci.yml and included *.gitlab-ci.yml): `image:` and `services:` (a string
// or `{name:}`) at the top level, in `default:` and in every job; `script`, `before_script`
// and `after_script` are shell scripts with the global and job `variables:` exported.
import type { Node } from 'yaml';
import type { Finding } from '../../model/inventory.ts';
import type { CheckOutput, IacFile, IacOptions } from './context.ts';
import { checkImage } from './images.ts';
import { auditShell } from './shell.ts';
import { joinScripts, type PlaceOf } from './text.ts';
import { entries, get, items, parseYaml, placeOfNode, scriptOf, str, stringMap } from './yaml-doc.ts';

const SCRIPTS = ['before_script', 'script', 'after_script'];

export function checkGitlab(file: IacFile, opts: IacOptions): CheckOutput {
  const { roots, problems } = parseYaml(file);
  const findings: Finding[] = [];
  for (const root of roots) {
    const globals = stringMap(get(root, 'variables'));
    for (const [key, value] of entries(root)) {
      if (key === 'variables' || key === 'stages' || key === 'include' || key === 'workflow') continue;
      if (key === 'image' || key === 'services') {
        images(file, opts, key, value, findings);
        continue;
      }
      // `default:`, jobs and hidden `.templates` share the same shape.
      images(file, opts, 'image', get(value, 'image'), findings);
      images(file, opts, 'services', get(value, 'services'), findings);
      const env = new Map([...globals, ...stringMap(get(value, 'variables'))]);
      // before_script, script and after_script lines run in one shell, in order.
      const parts: Array<{ text: string; placeOf: PlaceOf }> = [];
      for (const s of SCRIPTS) {
        const node = get(value, s);
        for (const line of str(node) !== undefined ? [node] : items(node)) {
          // Nested lists (YAML anchors of script fragments) are flattened one level.
          for (const leaf of str(line) !== undefined ? [line] : items(line)) {
            const script = scriptOf(file, leaf);
            if (script) parts.push(script);
          }
        }
      }
      if (parts.length > 0) {
        const script = joinScripts(parts);
        findings.push(...auditShell(script.text, script.placeOf, { file: file.path, env }));
      }
    }
  }
  return { findings, problems };
}

function images(file: IacFile, opts: IacOptions, key: string, node: Node | undefined, findings: Finding[]): void {
  const list = key === 'services' ? items(node) : node === undefined ? [] : [node];
  for (const entry of list) {
    const ref = str(entry) !== undefined ? entry : get(entry, 'name');
    const text = str(ref);
    if (text !== undefined)
      findings.push(
        ...checkImage(
          text,
          placeOfNode(file, ref as Node),
          file.path,
          opts.policy,
          key === 'image' ? 'CI image' : 'CI service',
        ),
      );
  }
}
