// A private PostgreSQL for the server tests, from Debian's `postgresql` package: initdb in a
// temp dir, the server started on a Unix socket in that dir only (no TCP: listen_addresses=''),
// stopped by its PID. PostgreSQL refuses to run as root, so as root it runs as the `postgres`
// user (setpriv execs it: the PID we hold is the server's own). Every wait is bounded.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PrivatePostgres {
  /** A new, empty database; its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

/** Where Debian installs the server binaries (the newest major version there). */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const majors = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(base, majors[0], 'bin') : undefined;
}

function asUser(): { uid: number; gid: number; prefix: string[] } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid, prefix: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'] };
}

let databases = 0;

export async function startPostgres(): Promise<PrivatePostgres | { skip: string }> {
  const bin = postgresBinDir();
  if (!bin) return { skip: 'PostgreSQL is not installed (apt-get install postgresql)' };
  const dir = mkdtempSync(join(tmpdir(), 'k3sguard-pg-'));
  const user = asUser();
  if (user) chownSync(dir, user.uid, user.gid);
  const run = (cmd: string, args: string[]) =>
    user ? { file: user.prefix[0] as string, args: [...user.prefix.slice(1), cmd, ...args] } : { file: cmd, args };
  const data = join(dir, 'data');
  const init = run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  execFileSync(init.file, init.args, { stdio: 'pipe', timeout: 120_000 });
  const start = run(join(bin, 'postgres'), ['-D', data, '-k', dir, '-c', 'listen_addresses=', '-c', 'fsync=on']);
  const child: ChildProcess = spawn(start.file, start.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`PostgreSQL did not start within 60 s: ${log}`)), 60_000);
    child.stderr?.on('data', (d: Buffer) => {
      log += d.toString('utf8');
      if (log.includes('ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL exited ${code}: ${log}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGINT'); // fast shutdown
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await ready;
  } catch (e) {
    await stop();
    throw e;
  }
  const url = (db: string) => `postgres://postgres@${encodeURIComponent(dir)}/${db}`;
  return {
    async createDatabase() {
      databases += 1;
      const name = `k3sguard_${process.pid}_${databases}`;
      const admin = new pg.Client({ connectionString: url('postgres') });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    stop,
  };
}
