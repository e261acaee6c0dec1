// The one re-run for image targets (src/cli/relaunch.ts), counted from outside: every Node
// process the command starts appends a line (its MALLOC_MMAP_THRESHOLD_) to a log through
// NODE_OPTIONS=--import. It is decided on the parsed target, never on an option's value.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { imageFixtures } from '../images/fixtures.ts';
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
