// A shell lexer for auditing, not for running: it splits POSIX sh/bash text into pipelines of
// simple commands with each word's offset in the text, and is honest about the things that
// change what a line means: backslash-newline continuations (joined), quotes (a `|` inside
// quotes is no pipe), comments, heredocs (the body is data, not commands, unless a shell
// reads it) and command substitutions (kept for a nested look). It never expands anything.

export interface Word {
  /** Quotes removed, escapes applied; `$VAR`, `${..}`, `$(..)` kept as written. */
  text: string;
  /** Offset of the word's first character in the lexed text. */
  offset: number;
  /** `$(...)`, backtick and `<(...)` bodies inside the word, with their offsets, for nested analysis. */
  substitutions: Array<{ text: string; offset: number }>;
}

export interface Heredoc {
  body: string;
  /** Offset of the body's first character. */
  offset: number;
  /** `<<'EOF'`: no expansion in the body. */
  quoted: boolean;
}

export interface SimpleCommand {
  /** `NAME=value` words before the command name. */
  assignments: Word[];
  /** The command name and its arguments. */
  words: Word[];
  /** Redirection targets (`> file`, `-o` is an argument, not here). */
  redirects: Array<{ op: string; target: Word }>;
  heredocs: Heredoc[];
}

export interface Pipeline {
  commands: SimpleCommand[];
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
const OPERATORS = ['&&', '||', ';;', '|&', '|', ';', '&', '(', ')'];
const REDIRECTS = ['<<<', '<<-', '<<', '>>', '>&', '<&', '&>>', '&>', '>|', '<>', '>', '<'];

class Lexer {
  private readonly s: string;
  private i = 0;
  private readonly pipelines: Pipeline[] = [];
  private pipeline: SimpleCommand[] = [];
  private cmd: SimpleCommand = newCommand();
  private pendingHeredocs: Array<{ delimiter: string; strip: boolean; quoted: boolean; into: SimpleCommand }> = [];

  constructor(s: string) {
    this.s = s;
  }

  run(): Pipeline[] {
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i] as string;
      if (c === '\\' && s[this.i + 1] === '\n') {
        this.i += 2;
      } else if (c === ' ' || c === '\t' || c === '\r') {
        this.i++;
      } else if (c === '\n') {
        this.i++;
        this.endPipeline();
        this.readHeredocBodies();
      } else if (c === '#') {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
      } else {
        const redirect = this.redirectAt();
        if (redirect) {
          this.redirect(redirect);
          continue;
        }
        const op = OPERATORS.find((o) => s.startsWith(o, this.i));
        if (op) {
          this.i += op.length;
          if (op === '|' || op === '|&') this.endCommand();
          else this.endPipeline();
          continue;
        }
        this.addWord(this.word());
      }
    }
    this.endPipeline();
    return this.pipelines;
  }

  /** A redirection operator at the cursor (with an optional fd number before it). */
  private redirectAt(): string | undefined {
    const s = this.s;
    let j = this.i;
    while (j < s.length && /[0-9]/.test(s[j] as string)) j++;
    const op = REDIRECTS.find((o) => s.startsWith(o, j));
    if (!op) return undefined;
    if (j > this.i && op === '&>') return undefined;
    // `<(` is process substitution: part of a word.
    if ((op === '<' || op === '>') && s[j + 1] === '(') return undefined;
    this.i = j;
    return op;
  }

  private redirect(op: string): void {
    this.i += op.length;
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++;
    if ((op === '>&' || op === '<&') && /[0-9-]/.test(this.s[this.i] ?? '')) {
      while (/[0-9-]/.test(this.s[this.i] ?? '')) this.i++;
      return;
    }
    const start = this.i;
    const target = this.word();
    if (op === '<<' || op === '<<-') {
      const raw = this.s.slice(start, this.i);
      this.pendingHeredocs.push({
        delimiter: target.text,
        strip: op === '<<-',
        quoted: /['"\\]/.test(raw),
        into: this.cmd,
      });
    }
    this.cmd.redirects.push({ op, target });
  }

  private readHeredocBodies(): void {
    const s = this.s;
    for (const h of this.pendingHeredocs) {
      const offset = this.i;
      let body = '';
      while (this.i < s.length) {
        const eol = s.indexOf('\n', this.i);
        const end = eol < 0 ? s.length : eol;
        const line = s.slice(this.i, end);
        this.i = eol < 0 ? s.length : eol + 1;
        const compare = h.strip ? line.replace(/^\t+/, '') : line;
        if (compare.replace(/\r$/, '') === h.delimiter) break;
        body += `${line}\n`;
      }
      h.into.heredocs.push({ body, offset, quoted: h.quoted });
    }
    this.pendingHeredocs = [];
  }

  private word(): Word {
    const s = this.s;
    const offset = this.i;
    let text = '';
    const substitutions: Word['substitutions'] = [];
    while (this.i < s.length) {
      const c = s[this.i] as string;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') break;
      if (c === ';' || c === '&' || c === '|' || c === ')' || (c === '(' && text === '')) break;
      if ((c === '<' || c === '>') && s[this.i + 1] !== '(') break;
      if (c === '\\') {
        if (s[this.i + 1] === '\n') this.i += 2;
        else {
          text += s[this.i + 1] ?? '';
          this.i += 2;
        }
      } else if (c === "'") {
        const end = s.indexOf("'", this.i + 1);
        const stop = end < 0 ? s.length : end;
        text += s.slice(this.i + 1, stop);
        this.i = stop + 1;
      } else if (c === '$' && s[this.i + 1] === "'") {
        const end = s.indexOf("'", this.i + 2);
        const stop = end < 0 ? s.length : end;
        text += s.slice(this.i + 2, stop);
        this.i = stop + 1;
      } else if (c === '"') {
        this.i++;
        while (this.i < s.length && s[this.i] !== '"') {
          const d = s[this.i] as string;
          if (d === '\\' && s[this.i + 1] === '\n') this.i += 2;
          else if (d === '\\' && '$`"\\'.includes(s[this.i + 1] ?? '')) {
            text += s[this.i + 1];
            this.i += 2;
          } else if (d === '$' && s[this.i + 1] === '(') text += this.substitution(substitutions, 2);
          else if (d === '`') text += this.backtick(substitutions);
          else {
            text += d;
            this.i++;
          }
        }
        this.i++;
      } else if ((c === '$' || c === '<' || c === '>') && s[this.i + 1] === '(') {
        text += this.substitution(substitutions, 2);
      } else if (c === '$' && s[this.i + 1] === '{') {
        const end = s.indexOf('}', this.i);
        const stop = end < 0 ? s.length : end + 1;
        text += s.slice(this.i, stop);
        this.i = stop;
      } else if (c === '`') {
        text += this.backtick(substitutions);
      } else {
        text += c;
        this.i++;
      }
    }
    return { text, offset, substitutions };
  }

  /** `$(...)` / `<(...)`: balanced parentheses, quotes respected; returns the text as written. */
  private substitution(into: Word['substitutions'], open: number): string {
    const s = this.s;
    const start = this.i;
    let depth = 1;
    let j = this.i + open;
    while (j < s.length && depth > 0) {
      const c = s[j] as string;
      if (c === "'" || c === '"') {
        const end = s.indexOf(c, j + 1);
        j = end < 0 ? s.length : end + 1;
        continue;
      }
      if (c === '\\') j++;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
      j++;
    }
    into.push({ text: s.slice(start + open, depth === 0 ? j - 1 : j), offset: start + open });
    this.i = j;
    return s.slice(start, j);
  }

  private backtick(into: Word['substitutions']): string {
    const s = this.s;
    const start = this.i;
    const end = s.indexOf('`', start + 1);
    const stop = end < 0 ? s.length : end;
    into.push({ text: s.slice(start + 1, stop), offset: start + 1 });
    this.i = stop + 1;
    return s.slice(start, this.i);
  }

  private addWord(w: Word): void {
    if (w.text === '' && w.offset === this.i) {
      this.i++; // a stray character the word reader stops on; never loop on it
      return;
    }
    if (this.cmd.words.length === 0 && ASSIGNMENT.test(w.text)) this.cmd.assignments.push(w);
    else this.cmd.words.push(w);
  }

  private endCommand(): void {
    this.pipeline.push(this.cmd);
    this.cmd = newCommand();
  }

  private endPipeline(): void {
    const c = this.cmd;
    if (c.words.length > 0 || c.assignments.length > 0 || c.redirects.length > 0) this.endCommand();
    else this.cmd = newCommand();
    if (this.pipeline.length > 0) this.pipelines.push({ commands: this.pipeline });
    this.pipeline = [];
    // A heredoc's owner keeps receiving its body after the pipeline ended (bodies come at the newline).
  }
}

function newCommand(): SimpleCommand {
  return { assignments: [], words: [], redirects: [], heredocs: [] };
}

/** The pipelines of a shell text, in order. */
export function lexShell(text: string): Pipeline[] {
  return new Lexer(text).run();
}
