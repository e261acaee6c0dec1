// cloud-init `#cloud-config` user data: `runcmd` (cloud-init writes its entries into one shell
// script, so exports carry from one entry to the next), `bootcmd`, and `write_files` entries
// that are scripts (a `.sh` path or a `#!` first line). A list entry is an argv: only
// `[sh, -c, "..."]` style entries carry a script. Also used for cloud-config embedded in
// Terraform heredocs, via checkCloudConfigText.
import type { Finding } from '../../model/inventory.ts';
import type { CheckOutput, IacFile, IacOptions } from './context.ts';
import { auditShell } from './shell.ts';
import { joinScripts, type PlaceOf } from './text.ts';
import { get, items, parseYaml, scriptOf, str } from './yaml-doc.ts';

const SHELLS = /^(?:\/(?:usr\/)?bin\/)?(?:ba|da|z|k)?sh$/;

export function checkCloudInit(file: IacFile, _opts: IacOptions): CheckOutput {
  const { roots, problems } = parseYaml(file);
  const findings: Finding[] = [];
  for (const root of roots) {
    for (const key of ['bootcmd', 'runcmd']) {
      const parts: Array<{ text: string; placeOf: PlaceOf }> = [];
      for (const entry of items(get(root, key))) {
        const direct = scriptOf(file, entry);
        if (direct) {
          parts.push(direct);
          continue;
        }
        const argv = items(entry);
        const c = argv.findIndex((a) => str(a) === '-c');
        if (c === 1 && SHELLS.test(str(argv[0]) ?? '')) {
          const script = scriptOf(file, argv[2]);
          if (script) parts.push(script);
        }
      }
      if (parts.length > 0) {
        const script = joinScripts(parts);
        findings.push(...auditShell(script.text, script.placeOf, { file: file.path }));
      }
    }
    for (const wf of items(get(root, 'write_files'))) {
      if (/b64|base64|gz/.test(str(get(wf, 'encoding')) ?? '')) continue;
      const content = scriptOf(file, get(wf, 'content'));
      const path = str(get(wf, 'path')) ?? '';
      if (content && (path.endsWith('.sh') || content.text.startsWith('#!'))) {
        findings.push(...auditShell(content.text, content.placeOf, { file: file.path }));
      }
    }
  }
  return { findings, problems };
}
