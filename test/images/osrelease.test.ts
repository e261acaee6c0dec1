import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseOsRelease, unquoteOsReleaseValue } from '../../src/readers/images/osrelease.ts';

const KEYS = ['ID', 'ID_LIKE', 'VERSION_ID', 'VERSION_CODENAME', 'PRETTY_NAME', 'NAME', 'HOME_URL'];

/** The shell's reading of the file (the spec says it is shell-compatible): our oracle, on files we trust. */
function shellValues(path: string): Record<string, string> {
  const script = `. "$1"; for k in ${KEYS.join(' ')}; do eval "printf '%s\\0' \\"\\$$k\\""; done`;
  const out = execFileSync('sh', ['-c', script, 'sh', path], { encoding: 'utf8' }).split('\0');
  return Object.fromEntries(KEYS.map((k, i) => [k, out[i] ?? '']));
}

for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
  test(`real ${path} reads as the shell reads it`, { skip: existsSync(path) ? undefined : `${path} absent` }, () => {
    const os = parseOsRelease(readFileSync(path));
    const shell = shellValues(path);
    for (const k of KEYS) assert.equal(os.fields[k] ?? '', shell[k], k);
    assert.equal(os.id, shell.ID);
    assert.equal(os.versionId, shell.VERSION_ID || undefined);
    assert.equal(os.prettyName, shell.PRETTY_NAME || undefined);
    if (shell.ID === 'debian') assert.equal(os.versionCodename, shell.VERSION_CODENAME);
  });
}

test('quoting rules agree with the shell on tricky values', () => {
  const dir = mkdtempSync(join(tmpdir(), 'osrel-'));
  try {
    const file = join(dir, 'os-release');
    const text = [
      '# comment',
      'ID=debian',
      `ID_LIKE='ubuntu  debian'`,
      'VERSION_ID="12"',
      'VERSION_CODENAME=book\\ worm',
      'PRETTY_NAME="A \\"quoted\\" \\$name with \\\\ and \\x"',
      `NAME="two"'parts'`,
      'HOME_URL=https://example.org/a#b',
    ].join('\n');
    writeFileSync(file, text);
    const shell = shellValues(file);
    const os = parseOsRelease(text);
    for (const k of KEYS) assert.equal(os.fields[k] ?? '', shell[k], k);
    assert.deepEqual(os.idLike, ['ubuntu', 'debian']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed lines are skipped, ID defaults to linux and is lower-cased', () => {
  const os = parseOsRelease('ID="Unterminated\nbad line\n=x\n1A=2\nVERSION_ID=1 2\nNAME=ok # note\r\n');
  assert.equal(os.id, 'linux');
  assert.deepEqual(os.fields, { NAME: 'ok' });
  assert.equal(parseOsRelease('ID=Wolfi\n').id, 'wolfi');
  assert.equal(unquoteOsReleaseValue('a\\'), undefined);
  assert.equal(unquoteOsReleaseValue("'x"), undefined);
});
