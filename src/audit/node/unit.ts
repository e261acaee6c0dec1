// The K3s systemd units (k3s.service, k3s-agent.service, as install.sh writes them, plus their
// `.d/*.conf` drop-ins): the command that really runs, split into words the way systemd splits
// ExecStart (quotes, backslash continuations), each word with its line and column so findings
// point at it. Then the words as K3s flags: `--name value`, `--name=value`, or `--name` alone.
import { basename } from 'node:path';
import type { SourceRegion } from '../../model/inventory.ts';
import { type NodeContext, readNodeText } from './context.ts';

export const UNIT_FILES = ['/etc/systemd/system/k3s.service', '/etc/systemd/system/k3s-agent.service'];

export interface UnitWord {
  text: string;
  region: SourceRegion;
}

export interface K3sFlag {
  /** Without the dashes: `disable`, `system-default-registry`. */
  name: string;
  value: string;
  word: UnitWord;
}

export interface UnitCommand {
  /** The unit file (or drop-in) that set ExecStart, relative to the root. */
  file: string;
  unit: string;
  /** The program, without systemd's `-@:+!` prefixes. */
  exec: UnitWord;
  /** `server` or `agent`, when given. */
  subcommand?: string;
  flags: K3sFlag[];
}

/** The last ExecStart of each K3s unit that exists (drop-ins applied, `ExecStart=` resetting). */
export function readUnits(ctx: NodeContext): UnitCommand[] {
  const out: UnitCommand[] = [];
  for (const path of UNIT_FILES) {
    const files = [path];
    const dropins = ctx.root.list(`${path}.d`);
    if (dropins.kind === 'problem') ctx.problems.push(dropins.problem);
    if (dropins.kind === 'dir')
      files.push(...dropins.names.filter((n) => n.endsWith('.conf')).map((n) => `${path}.d/${n}`));
    let last: UnitWord[] | undefined;
    let lastFile = '';
    for (const f of files) {
      const read = readNodeText(ctx, f);
      if (!read) continue;
      for (const words of execStarts(read.file, read.text)) {
        last = words.length > 0 ? words : undefined;
        lastFile = read.file;
      }
    }
    if (last) out.push(command(lastFile, basename(path), last));
  }
  return out;
}

function command(file: string, unit: string, words: UnitWord[]): UnitCommand {
  const [first, ...args] = words as [UnitWord, ...UnitWord[]];
  const exec = { ...first, text: first.text.replace(/^[-@:+!]+/, '') };
  const cmd: UnitCommand = { file, unit, exec, flags: [] };
  let i = 0;
  for (; i < args.length && !(args[i] as UnitWord).text.startsWith('-'); i++) {
    cmd.subcommand ??= (args[i] as UnitWord).text;
  }
  for (; i < args.length; i++) {
    const word = args[i] as UnitWord;
    if (!word.text.startsWith('-')) continue; // K3s takes no positional arguments after the subcommand
    const body = word.text.replace(/^-+/, '');
    const eq = body.indexOf('=');
    if (eq >= 0) {
      cmd.flags.push({ name: body.slice(0, eq), value: body.slice(eq + 1), word });
      continue;
    }
    const next = args[i + 1];
    if (next && !next.text.startsWith('-')) {
      cmd.flags.push({ name: body, value: next.text, word });
      i++;
    } else {
      cmd.flags.push({ name: body, value: 'true', word });
    }
  }
  return cmd;
}

interface Piece {
  text: string;
  line: number;
  column: number;
}

/** Every `ExecStart=` of the [Service] section, as words (an empty list: `ExecStart=` resets). */
export function execStarts(file: string, text: string): UnitWord[][] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const out: UnitWord[][] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(trimmed);
    if (header) {
      section = header[1] as string;
      continue;
    }
    const m = /^(\s*ExecStart\s*=\s*)(.*)$/.exec(raw);
    if (section !== 'Service' || !m) continue;
    // A line ending in a backslash continues on the next (comment lines in between are skipped).
    const pieces: Piece[] = [];
    let piece: Piece = { text: m[2] as string, line: i + 1, column: (m[1] as string).length + 1 };
    while (/\\\s*$/.test(piece.text) && i + 1 < lines.length) {
      pieces.push({ ...piece, text: `${piece.text.replace(/\\\s*$/, '')} ` });
      i++;
      while (i + 1 < lines.length && /^\s*[#;]/.test(lines[i] as string)) i++;
      piece = { text: lines[i] as string, line: i + 1, column: 1 };
    }
    pieces.push(piece);
    out.push(splitWords(file, pieces, lines));
  }
  return out;
}

/** systemd's word splitting: whitespace separates, "..." and '...' quote, backslash escapes. */
function splitWords(file: string, pieces: Piece[], lines: string[]): UnitWord[] {
  const chars: Array<{ c: string; line: number; column: number }> = [];
  for (const p of pieces) {
    let column = p.column;
    for (const c of p.text) chars.push({ c, line: p.line, column: column++ });
  }
  const words: UnitWord[] = [];
  let k = 0;
  while (k < chars.length) {
    while (k < chars.length && /\s/.test((chars[k] as { c: string }).c)) k++;
    if (k >= chars.length) break;
    const start = chars[k] as { line: number; column: number };
    let text = '';
    let quote: string | undefined;
    for (; k < chars.length; k++) {
      const c = (chars[k] as { c: string }).c;
      if (quote === undefined && /\s/.test(c)) break;
      if (c === '\\' && k + 1 < chars.length) {
        text += (chars[++k] as { c: string }).c;
      } else if (quote === undefined && (c === '"' || c === "'")) {
        quote = c;
      } else if (c === quote) {
        quote = undefined;
      } else {
        text += c;
      }
    }
    const snippet = lines[start.line - 1] ?? '';
    words.push({ text, region: { file, line: start.line, column: start.column, snippet } });
  }
  return words;
}
