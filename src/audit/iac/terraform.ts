// Terraform (.tf): scripts reach nodes through heredocs (`user_data = <<-EOF`, `content`,
// templates inlined) and `remote-exec` provisioners' `inline = [...]` lists. A heredoc body
// is shell, or cloud-config when it starts with `#cloud-config` (then parsed as YAML and its
// positions shifted back into the .tf file). HCL is not parsed in full: only these two
// shapes are looked for, line by line.
import type { Finding } from '../../model/inventory.ts';
import type { FileProblem } from '../result.ts';
import { checkCloudInit } from './cloudinit.ts';
import type { CheckOutput, IacFile, IacOptions } from './context.ts';
import { auditShell } from './shell.ts';
import { embeddedPlaces, joinScripts, LineIndex, type PlaceOf, slicePlaces } from './text.ts';

const HEREDOC = /<<(-?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\r?$/;

export function checkTerraform(file: IacFile, opts: IacOptions): CheckOutput {
  const findings: Finding[] = [];
  const problems: FileProblem[] = [];
  const lines = file.text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n] as string;
    const heredoc = HEREDOC.exec(line);
    if (heredoc) {
      const delimiter = heredoc[2] as string;
      let end = n + 1;
      while (end < lines.length && (lines[end] as string).trim() !== delimiter) end++;
      const bodyStart = file.index.lineStart(n + 2);
      const body = lines.slice(n + 1, end).join('\n');
      checkBody(file, opts, body, bodyStart, heredoc[1] === '-', findings, problems);
      n = end;
      continue;
    }
    if (/^\s*inline\s*=\s*\[/.test(line)) {
      // Collect the quoted strings up to the closing bracket.
      const start = file.index.lineStart(n + 1);
      const close = file.text.indexOf(']', start);
      const block = file.text.slice(start, close < 0 ? file.text.length : close);
      const parts: Array<{ text: string; placeOf: PlaceOf }> = [];
      for (const m of block.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
        const text = JSON.parse(`"${m[1]}"`) as string;
        parts.push({ text, placeOf: embeddedPlaces(text, file.index, start + (m.index ?? 0) + 1) });
      }
      const script = joinScripts(parts);
      findings.push(...auditShell(script.text, script.placeOf, { file: file.path }));
    }
  }
  return { findings, problems };
}

function checkBody(
  file: IacFile,
  opts: IacOptions,
  body: string,
  bodyStart: number,
  indented: boolean,
  findings: Finding[],
  problems: FileProblem[],
): void {
  const firstLine = file.index.place(bodyStart).line;
  if (body.trimStart().startsWith('#cloud-config')) {
    // `<<-` strips the common indentation; YAML needs it stripped too.
    const indent = indented
      ? Math.min(
          ...body
            .split('\n')
            .filter((l) => l.trim() !== '')
            .map((l) => /^[ \t]*/.exec(l)?.[0].length ?? 0),
        )
      : 0;
    const text = body
      .split('\n')
      .map((l) => l.slice(indent))
      .join('\n');
    const inner = checkCloudInit({ path: file.path, text, index: new LineIndex(text) }, opts);
    for (const f of inner.findings) {
      if (f.region) f.region = { ...f.region, line: f.region.line + firstLine - 1, column: f.region.column + indent };
      findings.push(f);
    }
    for (const p of inner.problems)
      problems.push({ ...p, message: `cloud-config heredoc at line ${firstLine}: ${p.message}` });
    return;
  }
  findings.push(...auditShell(body, slicePlaces(file.index, bodyStart), { file: file.path }));
}
