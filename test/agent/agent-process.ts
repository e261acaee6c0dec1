// `k3sguard agent` as a real child process for the scenario tests: its stdout read as JSON
// lines, its stderr kept, the metrics address taken from its start line. Stopped by its PID
// (SIGTERM, or SIGKILL to test a crash); every wait is bounded.
import { type ChildProcess, spawn } from 'node:child_process';
import { CLI } from '../cli/run.ts';
import { Condition } from './condition.ts';

export type AgentLine = Record<string, unknown> & { type: string };

export interface AgentProcess {
  readonly pid: number;
  readonly lines: AgentLine[];
  readonly stderr: () => string;
  /** `host:port` of /metrics, once the agent said it. */
  metricsAddress(): Promise<string>;
  /** Resolves with the first line (from index `from`) that `match` accepts. */
  waitLine(
    match: (l: AgentLine) => boolean,
    what: string,
    opts?: { from?: number; timeoutMs?: number },
  ): Promise<AgentLine>;
  /** The check lines so far. */
  checks(): AgentLine[];
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash or an OOM kill would end it. */
  kill9(): Promise<void>;
}

export function startAgentProcess(args: string[]): AgentProcess {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'agent', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (child.pid === undefined) throw new Error('agent did not start');
  const pid = child.pid;
  const lines: AgentLine[] = [];
  let err = '';
  let out = '';
  const changed = new Condition();
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (line.trim() !== '') lines.push(JSON.parse(line) as AgentLine);
    }
    changed.notify();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString('utf8');
    changed.notify();
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      changed.notify();
      resolve(code);
    }),
  );
  const alive = () => exitCode === undefined;
  return {
    pid,
    lines,
    stderr: () => err,
    async metricsAddress() {
      const re = /metrics and health on http:\/\/(\S+)/;
      await changed.until(() => re.test(err) || !alive(), 'the agent names its metrics address', 60_000);
      const m = re.exec(err);
      if (!m) throw new Error(`agent exited ${exitCode}: ${err}`);
      return m[1] as string;
    },
    async waitLine(match, what, opts = {}) {
      const from = opts.from ?? 0;
      const find = () => lines.slice(from).find(match);
      await changed.until(
        () => find() !== undefined || !alive(),
        `${what} (stderr: ${err.slice(-500)})`,
        opts.timeoutMs ?? 120_000,
      );
      const found = find();
      if (!found) throw new Error(`agent exited ${exitCode} before ${what}: ${err}`);
      return found;
    },
    checks: () => lines.filter((l) => l.type === 'check'),
    async stop() {
      if (alive()) process.kill(pid, 'SIGTERM');
      return exited;
    },
    async kill9() {
      if (alive()) process.kill(pid, 'SIGKILL');
      await exited;
    },
  };
}
