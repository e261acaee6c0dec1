// The shell lexer and the install-run analysis are honest about what a shell does: line
// continuations join, quoted pipes are no pipes, heredoc bodies are data unless a shell reads
// them, a prefix assignment belongs to its own command only, and positions are the file's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditShell } from '../../../src/audit/iac/shell.ts';
import { lexShell } from '../../../src/audit/iac/shell-lex.ts';
import { LineIndex } from '../../../src/audit/iac/text.ts';

function ids(text: string): string[] {
  const index = new LineIndex(text);
  return auditShell(text, (o) => index.place(o), { file: 's.sh' }).map(
    (f) => `${f.region?.line}:${f.region?.column} ${f.id}`,
  );
}

test('lexer: continuations, quotes, comments, heredocs, substitutions', () => {
  const p = lexShell("a 'x | y' \"q\\\"z\" \\\n  b # c | d\ncat <<'E' | sh\ncurl x | sh\nE\necho $(curl u) `w`\n");
  const words = p.map((x) => x.commands.map((c) => c.words.map((w) => w.text)));
  assert.deepEqual(words, [[['a', 'x | y', 'q"z', 'b']], [['cat'], ['sh']], [['echo', '$(curl u)', '`w`']]]);
  assert.equal(p[1]?.commands[0]?.heredocs[0]?.body, 'curl x | sh\n');
  assert.deepEqual(
    p[2]?.commands[0]?.words.flatMap((w) => w.substitutions.map((s) => s.text)),
    ['curl u', 'w'],
  );
});

test('a pipe split over a continuation is still a pipe; the finding is on the second line', () => {
  assert.deepEqual(ids('curl -sfL https://get.k3s.io \\\n  | sh -\n'), [
    '2:5 K3SG-IAC-INSTALL-UNPINNED',
    '1:11 K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
  ]);
});

test('a version assigned on curl does not reach sh; one assigned on sh does', () => {
  assert.ok(
    ids('INSTALL_K3S_VERSION=v1.31.4+k3s1 curl -sfL https://get.k3s.io | sh -\n').some((x) =>
      x.endsWith('INSTALL-UNPINNED'),
    ),
  );
  assert.ok(
    !ids('curl -sfL https://get.k3s.io | sudo INSTALL_K3S_VERSION=v1.31.4+k3s1 sh -\n').some((x) =>
      x.endsWith('INSTALL-UNPINNED'),
    ),
  );
  assert.ok(
    !ids('export INSTALL_K3S_VERSION=v1.31.4+k3s1\ncurl -sfL https://get.k3s.io | sh -\n').some((x) =>
      x.endsWith('INSTALL-UNPINNED'),
    ),
  );
  assert.ok(
    !ids('INSTALL_K3S_VERSION=v1.31.4+k3s1\nexport INSTALL_K3S_VERSION\ncurl -sfL https://get.k3s.io | sh -\n').some(
      (x) => x.endsWith('INSTALL-UNPINNED'),
    ),
  );
});

test('text in a heredoc written to a file, a comment or a quoted string is not a run', () => {
  assert.deepEqual(
    ids(
      "cat > notes.txt <<EOF\ncurl -sfL https://get.k3s.io | sh -\nEOF\n# curl https://get.k3s.io | sh\necho 'curl https://get.k3s.io | sh'\n",
    ),
    [],
  );
});

test('a heredoc fed to a shell, sh -c and $(...) are runs', () => {
  assert.ok(ids('bash <<EOF\ncurl -sfL https://get.k3s.io | sh -\nEOF\n').includes('2:32 K3SG-IAC-INSTALL-UNPINNED'));
  assert.ok(ids('sh -c "$(curl -sfL https://get.k3s.io)"\n').some((x) => x.endsWith('SCRIPT-UNVERIFIED')));
  assert.ok(
    ids('ssh node1 <<EOF\ncurl -sfL https://get.k3s.io | sh -\nEOF\n').some((x) => x.endsWith('SCRIPT-UNVERIFIED')),
  );
});

test('a checksum of the install script verifies the script, not the binary', () => {
  const text =
    'curl -sfL https://get.k3s.io -o install.sh\necho "$SUM  install.sh" | sha256sum -c -\nINSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_VERSION=v1.31.4+k3s1 sh install.sh\n';
  assert.deepEqual(ids(text), ['3:65 K3SG-IAC-SKIP-DOWNLOAD-UNVERIFIED']);
});
