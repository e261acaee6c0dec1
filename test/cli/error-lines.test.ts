// The error-line contract (one line `k3sguard: ...` on stderr, exit 2) and the terminal, for
// what a hostile-input review found outside it: names holding escape sequences and newlines,
// usage errors, an unreadable file in a folder, a bundle of `null`, a sums file with a byte
// order mark, an invalid only record, data/current pointing at `/`, and two `lock add` at once.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { assertInputError, CLI, k3sguard, type RunResult, tempDir } from './run.ts';

const CONTROL = /[\p{Cc}\p{Bidi_Control}]/u;
/** A name a hostile archive or folder could hold: colour, a forged line, CR, a bidi override. */
const EVIL = 'red\x1b[31mX\x1b[0m\nFORGED: OK\rz\u202eexe';
const EVIL_SHOWN = 'red\\x1b[31mX\\x1b[0m\\nFORGED: OK\\rz\\u202eexe';

/** Nothing raw reaches the terminal: no control character but the line breaks. */
function assertNoControls(text: string): void {
  assert.doesNotMatch(text.replaceAll('\n', ''), CONTROL, JSON.stringify(text));
}

describe('names with escape sequences and newlines are quoted', () => {
  test('inspect of a folder: file names in the table', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, EVIL), 'not a binary\n');
    writeFileSync(join(dir, 'plain'), 'not a binary\n');
    // --verbose: a folder's table counts files that are not Go binaries unless asked to list them.
    const r = k3sguard(['inspect', '--verbose', dir]);
    assert.equal(r.code, 0, r.stderr);
    assertNoControls(r.stdout);
    assert.ok(r.stdout.includes(EVIL_SHOWN), r.stdout);
    assert.ok(!r.stdout.split('\n').some((l) => l.startsWith('FORGED')), 'no forged line');
    // JSON keeps the name exact.
    const json = JSON.parse(k3sguard(['inspect', '--json', dir]).stdout);
    assert.ok(json.root.children.some((c: { name: string }) => c.name === EVIL));
  });

  test('verify: the SUBJECT column', (t) => {
    const dir = tempDir(t);
    const file = join(dir, EVIL);
    writeFileSync(file, 'x');
    writeFileSync(join(dir, 'sums.txt'), `${'0'.repeat(64)}  other\n`);
    const r = k3sguard(['verify', '--checksums', join(dir, 'sums.txt'), file]);
    assert.equal(r.code, 1, r.stderr);
    assertNoControls(r.stdout);
    assert.ok(r.stdout.includes(EVIL_SHOWN), r.stdout);
  });

  test('the one-line error naming the file', (t) => {
    const missing = join(tempDir(t), EVIL);
    const r = k3sguard(['inspect', missing]);
    assertNoControls(r.stderr);
    assertInputError(r, join(missing, '..', EVIL_SHOWN), /no such file/);
  });

  test('a usage error quoting what was typed', () => {
    const r = k3sguard(['sbom', 'x', '--format', EVIL]);
    assertNoControls(r.stderr);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  });
});

describe('usage errors are one line, k3sguard: first, exit 2', () => {
  for (const [args, problem] of [
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['inspect', '--bogus', 'x'], /unknown option '--bogus'/],
    [['inspect', '--jsn', 'x'], /unknown option '--jsn'.*Did you mean --json\?/],
    [['sbom', 'x', '--format', 'xml'], /argument 'xml' is invalid/],
    [['inspect', 'x', '--max-bundle-size', 'lots'], /--max-bundle-size/],
    [['inspect'], /missing required argument 'targets'/],
  ] as const) {
    test(args.join(' '), () => {
      const r = k3sguard([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] as string, /^k3sguard: /);
      assert.match(lines[0] as string, problem);
      assert.doesNotMatch(lines[0] as string, /^k3sguard: error:/);
    });
  }
});

/**
 * Runs the CLI without root's power to read any file: as root, with CAP_DAC_OVERRIDE and
 * CAP_DAC_READ_SEARCH dropped (the tests run as root, and an unprivileged user could not reach
 * Node under /root); as anyone else, as it is. Undefined when that cannot be arranged here.
 */
function unprivileged(t: { after: (fn: () => void) => void }): ((args: string[]) => RunResult) | undefined {
  const env = { ...process.env, NO_COLOR: '1' };
  if (process.getuid?.() !== 0)
    return (args) => {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
  const probe = join(tempDir(t), 'probe');
  writeFileSync(probe, 'x', { mode: 0o000 });
  const drop = ['--bounding-set', '-dac_override,-dac_read_search'];
  if (spawnSync('setpriv', [...drop, 'cat', probe]).status !== 1) return undefined;
  return (args) => {
    const r = spawnSync('setpriv', [...drop, process.execPath, CLI, ...args], { encoding: 'utf8', env });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
}

test('an unreadable file or folder inside a folder is a note on it; the rest is inspected', (t) => {
  const run = unprivileged(t);
  if (!run) return t.skip('setpriv cannot drop CAP_DAC_OVERRIDE here: every file stays readable to root');
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a-readable'), 'hello\n');
  writeFileSync(join(dir, 'b-secret'), 'secret\n', { mode: 0o000 });
  mkdirSync(join(dir, 'c-locked'));
  writeFileSync(join(dir, 'c-locked', 'inside'), 'x');
  chmodSync(join(dir, 'c-locked'), 0o000);
  writeFileSync(join(dir, 'd-after'), 'world\n');
  let r: RunResult;
  let table: RunResult;
  try {
    r = run(['inspect', '--json', dir]);
    table = run(['inspect', dir]);
  } finally {
    chmodSync(join(dir, 'c-locked'), 0o755); // so the temp dir can be removed by anyone
  }
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const inv = JSON.parse(r.stdout);
  assert.deepEqual(
    inv.root.children.map((c: { name: string }) => c.name),
    ['a-readable', 'd-after'],
  );
  const notes = inv.notes.map((n: { location: string[]; message: string }) => `${n.location.at(-1)}: ${n.message}`);
  assert.deepEqual(notes, [
    'b-secret: not inspected: cannot read (EACCES)',
    'c-locked: not inspected: cannot read (EACCES)',
  ]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /note: .*b-secret: not inspected: cannot read \(EACCES\)/);
});

test('db import of a file whose only record is invalid: one line saying why, exit 2', (t) => {
  const dir = tempDir(t);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ id: 'GO-2099-0001', summary: 'no modified date, no affected' }));
  const r = k3sguard(['db', 'import', '--no-progress', '--db', join(dir, 'db.sqlite'), bad]);
  assertInputError(r, bad, /no valid OSV record found \(the only record.*GO-2099-0001.* is invalid: .+\)/);
  // Two invalid records: each is a warning, then the error.
  writeFileSync(bad, JSON.stringify([{ id: 'GO-2099-0001' }, { id: 'GO-2099-0002' }]));
  const two = k3sguard(['db', 'import', '--no-progress', '--db', join(dir, 'db.sqlite'), bad]);
  assert.equal(two.code, 2);
  const lines = two.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 3, two.stderr);
  assert.match(lines[2] as string, /2 skipped/);
  // Each warning says "skipped" once.
  for (const line of lines.slice(0, 2)) assert.equal(line.match(/skipped/g)?.length, 1, line);
});

describe('JSON inputs that are not objects are coded errors, exit 2', () => {
  const values = ['null', '[]', '1', '"x"'];
  test('--bundle', (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'artifact');
    writeFileSync(file, 'x');
    for (const v of values) {
      const bundle = join(dir, 'b.sigstore.json');
      writeFileSync(bundle, v);
      const r = k3sguard(['verify', '--bundle', bundle, '--key', join(dir, 'none.pem'), file]);
      assertInputError(r, bundle, /not an object: not a Sigstore bundle/);
    }
  });

  test('--lock, --trusted-root, --policy', (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'artifact');
    writeFileSync(file, 'x');
    const key = join(dir, 'key.pem');
    writeFileSync(
      key,
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const bundle = join(dir, 'b.sigstore.json');
    writeFileSync(bundle, '{}');
    for (const v of values) {
      const input = join(dir, 'input.json');
      writeFileSync(input, v);
      assertInputError(k3sguard(['verify', '--lock', input, file]), input, /not a JSON object/);
      assertInputError(
        k3sguard(['verify', '--bundle', bundle, '--key', key, '--trusted-root', input, file]),
        input,
        /not a Sigstore trusted root/,
      );
      assertInputError(k3sguard(['audit', 'iac', '--policy', input, file]), input, /./);
    }
  });
});

test('a sums file starting with a UTF-8 byte order mark is refused, as sha256sum -c does', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'k3s');
  writeFileSync(file, 'x');
  const sums = join(dir, 'sha256sum-amd64.txt');
  const hex = '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881';
  writeFileSync(sums, `\ufeff${hex}  k3s\n`);
  const sha256sum = spawnSync('sha256sum', ['-c', sums], { cwd: dir, encoding: 'utf8' });
  if (!sha256sum.error) assert.notEqual(sha256sum.status, 0, 'coreutils rejects it too');
  assertInputError(k3sguard(['verify', '--checksums', sums, file]), sums, /line 1: .*byte order mark/);
  writeFileSync(sums, `${hex}  k3s\n`);
  assert.equal(k3sguard(['verify', '--checksums', sums, file]).code, 0);
});

test('audit node: data/current pointing at / is a finding that never says to delete /', (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'var/lib/rancher/k3s/data'), { recursive: true });
  // A node file, so the root is taken for a node.
  mkdirSync(join(root, 'etc/rancher/k3s'), { recursive: true });
  writeFileSync(join(root, 'etc/rancher/k3s/config.yaml'), 'node-name: n1\n', { mode: 0o600 });
  for (const target of ['/', '/etc']) {
    const link = join(root, 'var/lib/rancher/k3s/data/current');
    rmSync(link, { force: true });
    symlinkSync(target, link);
    const r = k3sguard(['audit', 'node', '--root', root, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const findings: { id: string; message: string }[] = JSON.parse(r.stdout).findings;
    const current = findings.filter((f) => f.id === 'K3SG-NODE-DATA-CURRENT');
    assert.equal(current.length, 1, r.stdout);
    assert.match(current[0]?.message ?? '', new RegExp(`points at ${target}, not at an extracted bundle`));
    for (const f of findings) assert.doesNotMatch(f.message, /stop K3s, delete \//, f.message);
  }
});

/** Runs the CLI in the background; resolves with its exit code. */
function start(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdout.resume();
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('two lock add runs at once keep both artifacts (or one fails, exit 2): never a silent loss', async (t) => {
  const dir = tempDir(t);
  // Large enough that each run is still hashing when the other reads the lock.
  const a = join(dir, 'a.bin');
  const b = join(dir, 'b.bin');
  writeFileSync(a, Buffer.alloc(48 * 1024 * 1024, 1));
  writeFileSync(b, Buffer.alloc(48 * 1024 * 1024, 2));
  for (let i = 0; i < 5; i++) {
    const lock = join(dir, `k3sguard-${i}.lock`);
    const runs = await Promise.all([
      start(['lock', 'add', '--lock', lock, a]),
      start(['lock', 'add', '--lock', lock, b]),
    ]);
    const names = JSON.parse(readFileSync(lock, 'utf8')).artifacts.map((x: { name: string }) => x.name);
    runs.forEach((r, n) => {
      const name = n === 0 ? 'a.bin' : 'b.bin';
      if (r.code === 0) assert.ok(names.includes(name), `run ${i}: ${name} exited 0 but is not in the lock: ${names}`);
      else assert.equal(r.code, 2, r.stderr);
    });
  }
});

test('a reader that closes stdout early (| head): a quiet stop, exit 141 as for SIGPIPE, no stack trace', (t) => {
  const dir = tempDir(t);
  const stderr = join(tempDir(t), 'stderr');
  // Enough JSON to fill a pipe many times over, so the write fails after head has gone.
  for (let i = 0; i < 2000; i++) writeFileSync(join(dir, `file-${i}`), `${i}\n`);
  const r = spawnSync(
    'bash',
    [
      '-c',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a template
      '"$0" "$1" inspect --json --no-progress "$2" 2>"$3" | head -c 100 >/dev/null; echo "${PIPESTATUS[0]}"',
      process.execPath,
      CLI,
      dir,
      stderr,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.stdout.trim(), '141');
  assert.equal(readFileSync(stderr, 'utf8'), '');
});
