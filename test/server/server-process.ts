// `k3sguard server` as a real child process: its URL taken from its start line, stopped by its
// PID (SIGTERM, or SIGKILL as a crash or an OOM kill ends it). Every wait is bounded.
import { type ChildProcess, spawn } from 'node:child_process';
import { Condition } from '../agent/condition.ts';
import { CLI } from '../cli/run.ts';

export interface ServerProcess {
  readonly pid: number;
  readonly url: string;
  stderr(): string;
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
}

export async function startServerProcess(args: string[]): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'server', '--listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', K3SGUARD_LOG_LEVEL: 'warn' },
  });
  if (child.pid === undefined) throw new Error('server did not start');
  const pid = child.pid;
  let err = '';
  let exitCode: number | null | undefined;
  const changed = new Condition();
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString('utf8');
    changed.notify();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      changed.notify();
      resolve(code);
    }),
  );
  const re = /listening on (https?:\/\/\S+)/;
  await changed.until(() => re.test(err) || exitCode !== undefined, 'the server names its URL', 60_000);
  const m = re.exec(err);
  if (!m) throw new Error(`server exited ${exitCode}: ${err}`);
  return {
    pid,
    url: m[1] as string,
    stderr: () => err,
    async stop() {
      if (exitCode === undefined) process.kill(pid, 'SIGTERM');
      return exited;
    },
    async kill9() {
      if (exitCode === undefined) process.kill(pid, 'SIGKILL');
      await exited;
    },
  };
}
