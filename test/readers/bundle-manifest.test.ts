// The manifest parsers: what package-cli's commands write parses cleanly; anything K3s would
// read differently, or not at all, is reported line by line.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseLinks, parseSha256sums } from '../../src/readers/bundle/manifest.ts';
import { K3S_LIKE, sh, stageBin, tempDir, toolsSkip } from './bundle-fixtures.ts';

test("manifests written by package-cli's commands parse with no problems", { skip: toolsSkip() }, () => {
  const dir = tempDir('k3sg-manifest-');
  try {
    stageBin(dir, K3S_LIKE);
    const sums = parseSha256sums(sh('cat bin/.sha256sums', dir));
    assert.deepEqual(sums.problems, []);
    assert.deepEqual([...sums.entries.keys()].sort(), ['aux/wg-add.sh', 'check-config', 'containerd', 'k3s']);
    assert.equal(sums.entries.get('k3s'), sh('sha256sum bin/k3s', dir).slice(0, 64));
    const links = parseLinks(sh('cat bin/.links', dir));
    assert.deepEqual(links.problems, []);
    assert.deepEqual(Object.fromEntries(links.entries), {
      'aux/wg': 'wg-add.sh',
      crictl: 'k3s',
      ctr: 'k3s',
      kubectl: 'k3s',
    });
    // sha256sum's binary-mode marker is accepted too.
    assert.deepEqual(parseSha256sums(sh('sha256sum -b bin/k3s | sed "s|bin/||"', join(dir))).problems, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed .sha256sums lines are problems; good lines still count', () => {
  const h = 'a'.repeat(64);
  const text = [
    `${h}  k3s`,
    `${h.toUpperCase()}  runc`, // K3s compares lowercase hex
    `${h} containerd`, // one space
    `${h}  ../etc/passwd`,
    `${h}  /abs`,
    `${h}  k3s`, // twice
    `${h}  has space`,
    '',
    `${h}  ctr\r`,
  ].join('\n');
  const r = parseSha256sums(text);
  assert.deepEqual([...r.entries.keys()], ['k3s']);
  assert.equal(r.problems.length, 9);
  assert.match(
    r.problems.join('|'),
    /line 2: not .*line 3: not .*line 4: path "\.\.\/etc\/passwd".*line 5: path "\/abs".*line 6: k3s listed twice.*line 7: not.*line 8: empty line.*line 9: carriage return.*last line has no newline/,
  );
  assert.deepEqual(parseSha256sums('').problems, ['no entries (K3s refuses to extract such a bundle)']);
});

test('malformed .links lines are problems', () => {
  const r = parseLinks('kubectl k3s\nkubectl k3s\ncrictl\n../x k3s\nctr  k3s\n');
  assert.deepEqual(Object.fromEntries(r.entries), { kubectl: 'k3s' });
  assert.deepEqual(r.problems, [
    'line 2: kubectl listed twice',
    'line 3: not "<name> <target>"',
    'line 4: name "../x" is not a clean relative path',
    'line 5: not "<name> <target>"',
  ]);
});
