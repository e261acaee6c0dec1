// The one re-run for image targets (src/cli/relaunch.ts), counted from outside: every Node
// process the command starts appends a line (its MALLOC_MMAP_THRESHOLD_) to a log through
// NODE_OPTIONS=--import. It is decided on the parsed target, never on an option's value.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { imageFixtures } from '../images/fixtures.ts';
import { bombLayout } from './bomb-layout.ts';
import { CLI, tempDir } from './run.ts';

const img = imageFixtures();
const skip =
  process.platform !== 'linux'
    ? 'the re-run is for glibc on Linux only'
    : process.env.MALLOC_MMAP_THRESHOLD_ !== undefined
      ? 'MALLOC_MMAP_THRESHOLD_ is set here already: there is nothing to re-run for'
      : 'skip' in img
        ? img.skip
        : false;

/** The threshold each Node process of one run started with ('-' when unset). */
function starts(t: { after: (fn: () => void) => void }, args: string[]): { code: number | null; starts: string[] } {
  const dir = tempDir(t);
  const log = join(dir, 'starts.log');
  const probe = join(dir, 'probe.mjs');
  writeFileSync(
    probe,
    `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(log)}, (process.env.MALLOC_MMAP_THRESHOLD_ ?? '-') + '\\n');\n`,
  );
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: `--import=${probe}`, NO_COLOR: '1' },
  });
  return { code: r.status, starts: readFileSync(log, 'utf8').trim().split('\n') };
}

test('an image target runs once more, with the fixed mmap threshold', { skip }, (t) => {
  if ('skip' in img) return;
  const r = starts(t, ['inspect', '--json', '--no-progress', img.airgapTar]);
  assert.equal(r.code, 0);
  assert.deepEqual(r.starts, ['-', '1048576']);
  const layout = starts(t, ['verify', img.layout]);
  assert.deepEqual(layout.starts, ['-', '1048576']);
});

test('an option value that is an archive does not make a target an image', { skip }, (t) => {
  if ('skip' in img) return;
  // `--db` names the archive: the old launcher sniffed every argument and started Node twice.
  const scan = starts(t, ['scan', process.execPath, '--db', img.airgapTar]);
  assert.equal(scan.code, 2);
  assert.deepEqual(scan.starts, ['-']);
  const binary = starts(t, ['inspect', process.execPath]);
  assert.deepEqual(binary.starts, ['-']);
});

/** The pids whose parent is `ppid` (from /proc: field 4 of stat, after the command's parens). */
function childrenOf(ppid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid;
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** Polls `ok` every 50 ms, at most `limitMs`: whether it came true (a bound on a wait, not a speed claim). */
async function within(limitMs: number, ok: () => boolean): Promise<boolean> {
  for (const end = Date.now() + limitMs; Date.now() < end; await sleep(50)) if (ok()) return true;
  return ok();
}

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

/**
 * Starts `inspect -o OUT` of a layout whose layer is 15 GiB of zeros (many seconds of work),
 * and waits for the second process: [the first, the second's pid, OUT].
 */
async function startBusyRerun(t: { after: (fn: () => void) => void }): Promise<[ChildProcess, number, string]> {
  const dir = tempDir(t);
  const layout = bombLayout(dir, 15 * 1024, false);
  const out = join(dir, 'report.json');
  const first = spawn(process.execPath, [CLI, 'inspect', '--json', '-o', out, layout], { stdio: 'ignore' });
  t.after(() => {
    for (const pid of [first.pid, ...childrenOf(first.pid as number)]) {
      try {
        process.kill(pid as number, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  let second: number | undefined;
  t.after(() => {
    try {
      if (second !== undefined) process.kill(second, 'SIGKILL'); // reparented once the first is gone
    } catch {
      // already gone
    }
  });
  assert.ok(
    await within(30_000, () => {
      second = childrenOf(first.pid as number)[0];
      return second !== undefined;
    }),
    'the image target was run again',
  );
  return [first, second as number, out];
}

test('SIGTERM to the pid the user started stops both processes; nothing is written', { skip }, async (t) => {
  const [first, second, out] = await startBusyRerun(t);
  const exited = new Promise<number | null>((resolve) => first.once('exit', (code) => resolve(code)));
  process.kill(first.pid as number, 'SIGTERM');
  assert.equal(await exited, 128 + 15, 'the first exits as the second did: by SIGTERM');
  assert.ok(await within(10_000, () => !alive(second)), 'the second process is gone');
  assert.equal(existsSync(out), false);
});

test('kill -9 of the first process: the second notices and stops; nothing is written', { skip }, async (t) => {
  const [first, second, out] = await startBusyRerun(t);
  process.kill(first.pid as number, 'SIGKILL');
  assert.ok(await within(10_000, () => !alive(second)), 'the second process is gone');
  assert.equal(existsSync(out), false);
});
