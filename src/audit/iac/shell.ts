// Shell rules: how a script installs K3s. The script is lexed (shell-lex.ts), then walked in
// order, tracking which variables are exported, which files were fetched from the K3s
// installer URL, and which checksum or signature checks ran, so that at each run of
// install.sh we know the environment it actually gets (a variable assigned on `curl` in
// `INSTALL_K3S_VERSION=v1 curl .. | sh` is not in sh's environment) and what was checked.
import { basename } from 'node:path';
import type { Finding } from '../../model/inventory.ts';
import { LIMITS } from '../../model/limits.ts';
import {
  INSTALL_CHANNEL,
  INSTALL_SCRIPT_UNVERIFIED,
  INSTALL_UNPINNED,
  SKIP_DOWNLOAD_UNVERIFIED,
} from '../../model/rules/iac.ts';
import { ruleFinding } from '../../model/rules/rule.ts';
import { AuditLimitError } from './context.ts';
import { lexShell, type SimpleCommand, type Word } from './shell-lex.ts';
import type { Place, PlaceOf } from './text.ts';

export interface ShellContext {
  /** The audited file, relative to the audit root. */
  file: string;
  /** Variables the surrounding tool exports to the script (Actions `env:`, Ansible `environment:`, ...). */
  env?: ReadonlyMap<string, string>;
  /** Files another step fetched from the installer URL (Ansible `get_url` dest), by basename. */
  installerFiles?: ReadonlySet<string>;
  /** Another step of the same file verified the K3s binary (e.g. a `get_url` with `checksum:`). */
  binaryVerified?: boolean;
}

const INSTALLER_URL = /get\.k3s\.io|\/k3s-io\/k3s\/\S*install\.sh|k3s-install\.sh/;
const INSTALLER_NAME = /^(?:k3s[-_.]?install|install[-_.]?k3s|get[-_.]?k3s)[\w.-]*$/i;
const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'busybox']);
const WRAPPERS = new Set(['sudo', 'doas', 'exec', 'nohup', 'time', 'command', 'env', 'eval']);

export function isInstallerUrl(text: string): boolean {
  return INSTALLER_URL.test(text);
}

interface State {
  exported: Map<string, string>;
  local: Map<string, string>;
  allexport: boolean;
  installerFiles: Map<string, { at: Place; verified: boolean }>;
  /** A checksum/signature check ran (anywhere before this point). */
  verified: boolean;
}

class ShellAudit {
  readonly findings: Finding[] = [];
  private readonly ctx: ShellContext;
  /** Scripts being walked, the outermost included: `$(...)`, `sh -c` and heredocs nest. */
  private depth = 0;

  constructor(ctx: ShellContext) {
    this.ctx = ctx;
  }

  script(text: string, placeOf: PlaceOf, state: State): void {
    // Every nesting re-lexes its text and takes stack: bounded, and past the bound the file is
    // not audited (a shell runs 1,300 nested `$(` fine; an audit that stops looking must say so).
    if (this.depth >= LIMITS.auditScriptNesting) {
      const at = placeOf(0);
      throw new AuditLimitError(
        `${at.line}:${at.column}: scripts nested more than ${LIMITS.auditScriptNesting} deep ($(...), backticks, sh -c, heredocs read by a shell): not followed`,
      );
    }
    this.depth++;
    try {
      this.walk(text, placeOf, state);
    } finally {
      this.depth--;
    }
  }

  private walk(text: string, placeOf: PlaceOf, state: State): void {
    const pipelines = lexShell(text);
    for (const { commands } of pipelines) {
      const said = commands.flatMap((c) => c.words.map((w) => w.text)).join(' ');
      commands.forEach((cmd, i) => {
        const next = commands[i + 1];
        this.command(text, said, cmd, placeOf, state, next);
        for (const w of [...cmd.assignments, ...cmd.words]) {
          for (const sub of w.substitutions) {
            this.script(sub.text, (o) => placeOf(sub.offset + o), state);
          }
        }
      });
    }
  }

  private command(
    text: string,
    pipelineText: string,
    cmd: SimpleCommand,
    placeOf: PlaceOf,
    state: State,
    next: SimpleCommand | undefined,
  ): void {
    const env = new Map<string, string>();
    for (const a of cmd.assignments) env.set(...splitAssignment(a.text));
    const words = unwrap(cmd.words, env);
    const name = words[0] ? basename(words[0].text) : '';
    if (words.length === 0) {
      for (const [k, v] of env) (state.allexport ? state.exported : state.local).set(k, v);
      return;
    }
    if (name === 'export' || (name === 'declare' && words[1]?.text === '-x')) {
      for (const w of words.slice(1)) {
        if (w.text.startsWith('-')) continue;
        const [k, v] = splitAssignment(w.text);
        state.exported.set(k, w.text.includes('=') ? v : (state.local.get(k) ?? ''));
      }
      return;
    }
    if (
      name === 'set' &&
      words.some((w, i) => w.text === '-a' || (w.text === '-o' && words[i + 1]?.text === 'allexport'))
    ) {
      state.allexport = true;
    }
    if (isVerification(name, words)) {
      // A check that names a fetched install script verifies that script; any other, the binary.
      const scripts = [...state.installerFiles].filter(([base]) => pipelineText.includes(base));
      for (const [, f] of scripts) f.verified = true;
      if (scripts.length === 0) state.verified = true;
      return;
    }
    const fetched = installerFetch(name, words);
    if (fetched) {
      const at = placeOf(fetched.url.offset);
      const target = fetched.output ?? cmd.redirects.find((r) => r.op === '>' || r.op === '>>')?.target.text;
      if (target !== undefined && target !== '-') {
        state.installerFiles.set(basename(target), { at, verified: false });
        return;
      }
      // Fetched to stdout: a shell reading the pipe runs it unseen.
      if (next && isShell(next, env)) this.install(next, placeOf, state, { how: 'pipe', fetchAt: at });
      return;
    }
    if (SHELLS.has(name)) {
      const c = words.findIndex((w) => w.text === '-c');
      const script = c >= 0 ? words[c + 1] : undefined;
      if (script) {
        const quoted = /['"]/.test(text[script.offset] ?? '') ? 1 : 0;
        if (INSTALLER_URL.test(script.text) && /\b(?:curl|wget)\b/.test(script.text)) {
          this.install(cmd, placeOf, state, { how: 'pipe', fetchAt: placeOf(script.offset + quoted) });
        } else this.script(script.text, (o) => placeOf(script.offset + quoted + o), { ...state, local: new Map() });
        return;
      }
      for (const h of cmd.heredocs) this.script(h.body, (o) => placeOf(h.offset + o), state);
      const file = words.slice(1).find((w) => !w.text.startsWith('-'));
      if (file && this.isInstallerFile(file.text, state))
        this.install(cmd, placeOf, state, { how: 'file', file: file.text });
      return;
    }
    // `ssh host <<EOF`: the remote shell reads the body as a script.
    if (name === 'ssh') for (const h of cmd.heredocs) this.script(h.body, (o) => placeOf(h.offset + o), state);
    if (this.isInstallerFile(words[0]?.text ?? '', state)) {
      this.install(cmd, placeOf, state, { how: 'file', file: words[0]?.text ?? '' });
    }
  }

  private isInstallerFile(path: string, state: State): boolean {
    const base = basename(path);
    return state.installerFiles.has(base) || this.ctx.installerFiles?.has(base) === true || INSTALLER_NAME.test(base);
  }

  /** One run of install.sh: check its environment and what was verified before it. */
  private install(
    cmd: SimpleCommand,
    placeOf: PlaceOf,
    state: State,
    run: { how: 'pipe'; fetchAt: Place } | { how: 'file'; file: string },
  ): void {
    const local = new Map<string, string>();
    for (const a of cmd.assignments) local.set(...splitAssignment(a.text));
    unwrap(cmd.words, local);
    const envOf = (k: string): string | undefined => local.get(k) ?? state.exported.get(k) ?? this.ctx.env?.get(k);
    const first = cmd.words[0] ?? cmd.assignments[0];
    const at = first ? placeOf(first.offset) : { line: 1, column: 1 };
    const region = (p: Place) => ({ file: this.ctx.file, line: p.line, column: p.column });
    const version = envOf('INSTALL_K3S_VERSION');
    const channel = envOf('INSTALL_K3S_CHANNEL');
    if (version === undefined || version === '') {
      if (channel) {
        this.findings.push(
          ruleFinding(
            INSTALL_CHANNEL,
            `install.sh runs with INSTALL_K3S_CHANNEL=${channel} and no INSTALL_K3S_VERSION`,
            region(at),
          ),
        );
      } else {
        const why = state.local.has('INSTALL_K3S_VERSION')
          ? 'INSTALL_K3S_VERSION is assigned in the script but never exported, so install.sh does not see it'
          : version === ''
            ? 'INSTALL_K3S_VERSION is empty'
            : 'install.sh runs without INSTALL_K3S_VERSION: it installs whatever the channel names at the time';
        this.findings.push(ruleFinding(INSTALL_UNPINNED, why, region(at)));
      }
    }
    if (run.how === 'pipe') {
      this.findings.push(
        ruleFinding(
          INSTALL_SCRIPT_UNVERIFIED,
          'the K3s install script is piped from the network into a shell: no hash check is possible',
          region(run.fetchAt),
        ),
      );
    } else {
      const fetched = state.installerFiles.get(basename(run.file));
      if (fetched && !fetched.verified) {
        this.findings.push(
          ruleFinding(
            INSTALL_SCRIPT_UNVERIFIED,
            `${run.file} is downloaded from the K3s installer URL and run without a checksum check`,
            region(fetched.at),
          ),
        );
      }
    }
    const skip = envOf('INSTALL_K3S_SKIP_DOWNLOAD');
    if (skip !== undefined && skip !== '' && skip !== 'false' && !state.verified && !this.ctx.binaryVerified) {
      this.findings.push(
        ruleFinding(
          SKIP_DOWNLOAD_UNVERIFIED,
          `INSTALL_K3S_SKIP_DOWNLOAD=${skip}: install.sh trusts the k3s binary already in place, and nothing before it verifies that binary`,
          region(at),
        ),
      );
    }
  }
}

function splitAssignment(text: string): [string, string] {
  const eq = text.indexOf('=');
  return eq < 0 ? [text, ''] : [text.slice(0, eq), stripQuotes(text.slice(eq + 1))];
}

function stripQuotes(v: string): string {
  return v.replace(/^(['"])(.*)\1$/, '$2');
}

/** Skip `sudo -E`, `env A=b`, `exec`, ...: the words of the command that really runs; env gets their assignments. */
function unwrap(words: Word[], env: Map<string, string>): Word[] {
  let i = 0;
  while (i < words.length) {
    const w = (words[i] as Word).text;
    if (WRAPPERS.has(basename(w))) {
      i++;
      while (i < words.length) {
        const t = (words[i] as Word).text;
        if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(t)) env.set(...splitAssignment(t));
        else if (!t.startsWith('-')) break;
        i++;
      }
      continue;
    }
    break;
  }
  return words.slice(i);
}

function isShell(cmd: SimpleCommand, env: Map<string, string>): boolean {
  const words = unwrap(cmd.words, new Map(env));
  return SHELLS.has(basename(words[0]?.text ?? ''));
}

function isVerification(name: string, words: Word[]): boolean {
  const args = words.slice(1).map((w) => w.text);
  if (/^(?:sha256sum|sha512sum|sha1sum|b2sum)$/.test(name))
    return args.some((a) => a === '-c' || a.startsWith('--check'));
  if (name === 'shasum') return args.some((a) => a === '-c' || a === '--check');
  if (name === 'cosign') return args[0] === 'verify-blob' || args[0] === 'verify';
  if (name === 'gpg' || name === 'gpg2') return args.includes('--verify');
  if (name === 'gpgv' || name === 'minisign') return name === 'gpgv' || args.includes('-V');
  if (name === 'k3sguard') return args[0] === 'verify';
  // `[ "$(sha256sum k3s | cut -d' ' -f1)" = "$EXPECTED" ]`
  if (name === '[' || name === '[[' || name === 'test') return args.some((a) => /sha(?:256|512)sum|shasum/.test(a));
  return false;
}

/** A curl/wget of the installer URL: the URL word and the output file, if any. */
function installerFetch(name: string, words: Word[]): { url: Word; output?: string } | undefined {
  if (name !== 'curl' && name !== 'wget') return undefined;
  const url = words.find((w) => INSTALLER_URL.test(w.text) && !w.text.startsWith('-'));
  if (!url) return undefined;
  const args = words.map((w) => w.text);
  for (let i = 1; i < args.length; i++) {
    const a = args[i] as string;
    if (name === 'curl') {
      if (a === '-o' || a === '--output') return { url, output: args[i + 1] ?? '-' };
      if (/^-[a-zA-Z]*o/.test(a) && !a.startsWith('--')) {
        const rest = a.slice(a.indexOf('o') + 1);
        return { url, output: rest === '' ? (args[i + 1] ?? '-') : rest };
      }
      if (a === '-O' || a === '--remote-name') return { url, output: basename(url.text) || 'index.html' };
    } else {
      if (a === '-O' || a === '--output-document') return { url, output: args[i + 1] ?? '-' };
      if (a.startsWith('--output-document=')) return { url, output: a.slice(18) };
      if (/^-[a-zA-Z]*O/.test(a) && !a.startsWith('--')) {
        const rest = a.slice(a.indexOf('O') + 1);
        return { url, output: rest === '' ? (args[i + 1] ?? '-') : rest };
      }
    }
  }
  // wget writes to a file named after the URL by default; curl to stdout.
  return name === 'wget' ? { url, output: basename(url.text.replace(/\/$/, '')) || 'index.html' } : { url };
}

/** Findings of one shell text (a script file, or a script embedded in another file). */
export function auditShell(text: string, placeOf: PlaceOf, ctx: ShellContext): Finding[] {
  const audit = new ShellAudit(ctx);
  audit.script(text, placeOf, {
    exported: new Map(),
    local: new Map(),
    allexport: false,
    installerFiles: new Map(),
    verified: false,
  });
  return audit.findings;
}
