// Dockerfiles and Containerfiles: `FROM` must pin a digest (build stages named with `AS` and
// `scratch` are not images; `${ARG}` is resolved from the ARG defaults above it), and `RUN`
// (shell form, `["sh","-c",...]` exec form and `RUN <<EOF` heredocs) is shell, with the
// file's `ENV` and `ARG` values exported to it. Instructions continue over `\` line ends
// (or the `# escape=` character).
import type { Finding } from '../../model/inventory.ts';
import type { CheckOutput, IacFile, IacOptions } from './context.ts';
import { checkImage } from './images.ts';
import { auditShell } from './shell.ts';
import { joinScripts, type PlaceOf, slicePlaces } from './text.ts';

interface Instruction {
  keyword: string;
  /** Arguments with continuations joined (the escape char and newline removed). */
  args: string;
  /** args offset -> file offset. */
  placeOf: PlaceOf;
  argStart: number;
}

export function checkDockerfile(file: IacFile, opts: IacOptions): CheckOutput {
  const findings: Finding[] = [];
  const stages = new Set<string>();
  const vars = new Map<string, string>();
  const runs: Array<{ text: string; placeOf: PlaceOf }> = [];
  for (const ins of instructions(file)) {
    if (ins.keyword === 'ARG' || ins.keyword === 'ENV') {
      for (const m of ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S*)/g)) {
        vars.set(m[1] as string, (m[2] as string).replace(/^(['"])(.*)\1$/, '$2'));
      }
      const single = /^([A-Za-z_][A-Za-z0-9_]*)\s+(\S.*)$/.exec(ins.args);
      if (ins.keyword === 'ENV' && single && !ins.args.includes('='))
        vars.set(single[1] as string, single[2] as string);
    } else if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const image = words[0] ?? '';
      if (words[1]?.toLowerCase() === 'as' && words[2]) stages.add(words[2].toLowerCase());
      const resolved = image.replace(
        /\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}?/g,
        (whole, name: string) => vars.get(name) ?? whole,
      );
      if (resolved === 'scratch' || stages.has(resolved.toLowerCase())) continue;
      const at = ins.placeOf(Math.max(0, ins.args.indexOf(image)));
      findings.push(...checkImage(resolved, at, file.path, opts.policy, 'base image'));
    } else if (ins.keyword === 'RUN') {
      runs.push(runScript(file, ins));
    }
  }
  // Each RUN is its own shell, but the ENV/ARG values are exported to every one.
  for (const run of runs) {
    findings.push(...auditShell(run.text, run.placeOf, { file: file.path, env: vars }));
  }
  return { findings, problems: [] };
}

function runScript(file: IacFile, ins: Instruction): { text: string; placeOf: PlaceOf } {
  const args = ins.args.replace(/^(?:--\S+\s+)*/, '');
  const skipped = ins.args.length - args.length;
  const heredoc = /^<<-?\s*["']?([A-Za-z_]+)["']?/.exec(args);
  if (heredoc) {
    // `RUN <<EOF` : the body follows the instruction line up to the delimiter.
    const lineEnd = file.text.indexOf('\n', ins.argStart);
    const bodyStart = lineEnd < 0 ? file.text.length : lineEnd + 1;
    const end = file.text.indexOf(`\n${heredoc[1]}\n`, bodyStart - 1);
    const body = file.text.slice(bodyStart, end < 0 ? file.text.length : end + 1);
    return { text: body, placeOf: slicePlaces(file.index, bodyStart) };
  }
  if (args.startsWith('[')) {
    try {
      const argv = JSON.parse(args) as unknown;
      if (Array.isArray(argv) && argv[1] === '-c' && typeof argv[2] === 'string') {
        const at = args.indexOf('-c');
        return { text: argv[2], placeOf: (o) => ins.placeOf(skipped + at + 5 + o) };
      }
    } catch {
      // not JSON: Docker runs it as shell form
    }
  }
  return joinScripts([{ text: args, placeOf: (o) => ins.placeOf(skipped + o) }]);
}

function instructions(file: IacFile): Instruction[] {
  const text = file.text;
  const escapeChar = /^#\s*escape\s*=\s*`/m.test(text.slice(0, 200)) ? '`' : '\\';
  const out: Instruction[] = [];
  let i = 0;
  while (i < text.length) {
    const eol = text.indexOf('\n', i);
    const lineEnd = eol < 0 ? text.length : eol;
    const line = text.slice(i, lineEnd);
    const m = /^\s*([A-Za-z]+)(\s+|$)/.exec(line);
    if (!m || line.trimStart().startsWith('#')) {
      i = lineEnd + 1;
      continue;
    }
    const argStart = i + m[0].length;
    // Join continuation lines, remembering where each kept character came from.
    const map: number[] = [];
    let args = '';
    let p = argStart;
    for (;;) {
      const end = text.indexOf('\n', p);
      const stop = end < 0 ? text.length : end;
      const segment = text.slice(p, stop).replace(/\r$/, '');
      const continued = segment.trimEnd().endsWith(escapeChar);
      const kept = continued ? segment.slice(0, segment.trimEnd().length - 1) : segment;
      for (let k = 0; k < kept.length; k++) map.push(p + k);
      args += kept;
      p = stop + 1;
      if (!continued || end < 0) break;
      // Docker joins the lines with nothing in between, as the shell would.
      // Comment lines inside a continued instruction are dropped by Docker.
      while (p < text.length && /^\s*#/.test(text.slice(p, text.indexOf('\n', p) >>> 0))) {
        const next = text.indexOf('\n', p);
        p = next < 0 ? text.length : next + 1;
      }
    }
    map.push(p);
    out.push({
      keyword: (m[1] as string).toUpperCase(),
      args: args.trim(),
      argStart,
      placeOf: (o) =>
        file.index.place(map[Math.min(o + (args.length - args.trimStart().length), map.length - 1)] as number),
    });
    i = p;
  }
  return out;
}
