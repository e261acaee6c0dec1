// `ir playbook`: the K3s commands it offers depend on the release (k3s-commands.ts): checked on
// three minor lines around where each command came; commands live only in code blocks, so a
// command merely named in a note ("not in this release") is not offered. Values from evidence
// are escaped in HTML and shell-quoted in commands; the example in the docs is current.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXAMPLE_PLAYBOOK, examplePlaybook } from '../../tools/docs.ts';
import { k3sguard, tempDir } from '../cli/run.ts';
import { evidenceArchive } from './nodes.ts';

/** The lines of the fenced code blocks: what the playbook tells the responder to run. */
function commands(md: string): string[] {
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of md.split('\n')) {
    const m = /^(`{3,})/.exec(line);
    if (m && (fence === undefined || m[1] === fence)) {
      fence = fence === undefined ? m[1] : undefined;
      continue;
    }
    if (fence !== undefined) out.push(line);
  }
  return out;
}

const playbook = (...args: string[]) => {
  const r = k3sguard(['ir', 'playbook', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
};

const has = (cmds: string[], prefix: RegExp) => cmds.some((c) => prefix.test(c));

test('three K3s minor lines: each command offered from the release that introduced it, never before', () => {
  const lines: Array<[string, Record<string, boolean>]> = [
    // 1.20: none of the rotation commands, no etcd-snapshot save subcommand.
    [
      'v1.20.15+k3s1',
      {
        'token rotate': false,
        'certificate rotate ': false,
        'rotate-ca': false,
        'secrets-encrypt': false,
        'etcd-snapshot save': false,
      },
    ],
    // 1.24: certificates, secrets-encrypt and rotate-ca (from v1.24.12+k3s1); token rotate never came to 1.24.
    [
      'v1.24.11+k3s1',
      {
        'token rotate': false,
        'certificate rotate ': true,
        'rotate-ca': false,
        'secrets-encrypt': true,
        'etcd-snapshot save': true,
      },
    ],
    [
      'v1.24.12+k3s1',
      {
        'token rotate': false,
        'certificate rotate ': true,
        'rotate-ca': true,
        'secrets-encrypt': true,
        'etcd-snapshot save': true,
      },
    ],
    // 1.28: token rotate from v1.28.3+k3s1.
    [
      'v1.28.2+k3s1',
      {
        'token rotate': false,
        'certificate rotate ': true,
        'rotate-ca': true,
        'secrets-encrypt': true,
        'etcd-snapshot save': true,
      },
    ],
    [
      'v1.28.3+k3s1',
      {
        'token rotate': true,
        'certificate rotate ': true,
        'rotate-ca': true,
        'secrets-encrypt': true,
        'etcd-snapshot save': true,
      },
    ],
  ];
  for (const [version, expected] of lines) {
    const md = playbook('--k3s-version', version);
    const cmds = commands(md);
    const found: Record<string, boolean> = {
      'token rotate': has(cmds, /^k3s token rotate /),
      'certificate rotate ': has(cmds, /k3s certificate rotate &&/),
      'rotate-ca': has(cmds, /^k3s certificate rotate-ca --path=/),
      'secrets-encrypt': has(cmds, /^k3s secrets-encrypt status$/),
      'etcd-snapshot save': has(cmds, /^k3s etcd-snapshot save /),
    };
    assert.deepEqual(found, expected, version);
    // Each version-specific command says which release brought it, present or not.
    if (version === 'v1.28.3+k3s1') {
      assert.match(md, /`k3s token rotate` is in v1\.28\.3\+k3s1: it is on the v1\.28 line from v1\.28\.3\+k3s1/);
    }
    if (version === 'v1.24.12+k3s1') {
      assert.match(md, /`k3s token rotate` is not in v1\.24\.12\+k3s1: it is in every release from v1\.29 on/);
      assert.match(
        md,
        /`k3s certificate rotate-ca` is in v1\.24\.12\+k3s1: it is on the v1\.24 line from v1\.24\.12\+k3s1/,
      );
    }
    if (version === 'v1.20.15+k3s1') {
      // The fallback for a snapshot: the datastore copied with K3s stopped.
      assert.match(md, /`k3s etcd-snapshot save` is not in v1\.20\.15\+k3s1.*copy the datastore/);
    }
    // The order the issue gives.
    const phases = [...md.matchAll(/^## \d+\. (.*)$/gm)].map((m) => m[1]);
    assert.deepEqual(phases, [
      'Detect',
      'Respond: contain',
      'Respond: keep the evidence (before anything on the node changes)',
      'Respond: eradicate',
      'Respond: rotate what the attacker may hold',
      'Recover',
      'Report',
    ]);
    for (const step of md.split(/^### /m).slice(1))
      assert.match(step, /\nWhy: \S/, `a step without why: ${step.slice(0, 60)}`);
  }
});

test('an agent node: rotations run on a server, no manifests to remove', () => {
  const md = playbook('--k3s-version', 'v1.31.4+k3s1', '--role', 'agent');
  assert.match(md, /^# Incident response playbook: \\<NODE\\> \(K3s v1\.31\.4\+k3s1, agent\)/);
  assert.match(md, /Where: a server node of the cluster\./);
  assert.doesNotMatch(md, /Remove auto-deployed add-ons/);
  assert.match(md, /systemctl stop k3s-agent && k3s certificate rotate/);
});

test('bad input: one line, exit 2', (t) => {
  const dir = tempDir(t, 'k3sg-pb-');
  const cases: Array<[string[], RegExp]> = [
    [[], /needs --evidence or --k3s-version/],
    [['--k3s-version', '1.x'], /not a K3s version/],
    [['--evidence', join(dir, 'absent.tar.zst')], /no such file/],
  ];
  for (const [args, problem] of cases) {
    const r = k3sguard(['ir', 'playbook', ...args]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, problem);
  }
});

test('hostile values in evidence: escaped in HTML, quoted in commands', (t) => {
  const dir = tempDir(t, 'k3sg-pb-');
  const host = '<img src=x onerror=alert(1)>';
  const manifest = 'x;$(touch pwned)<b>.yaml';
  const digests = Buffer.from(
    JSON.stringify([
      { path: `/var/lib/rancher/k3s/server/manifests/${manifest}`, type: 'file', sha256: 'a'.repeat(64), size: 1 },
    ]),
  );
  const file = join(dir, 'hostile.tar.zst');
  evidenceArchive(file, host, { 'digests.json': digests });
  const html = playbook('--evidence', file, '--k3s-version', 'v1.31.4+k3s1', '--format', 'html');
  assert.doesNotMatch(html, /<img|<b>/);
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
  const md = playbook('--evidence', file, '--k3s-version', 'v1.31.4+k3s1');
  const cmds = commands(md);
  assert.ok(cmds.includes(`kubectl cordon '${host}'`), cmds.join('\n'));
  assert.ok(cmds.includes(`rm '/var/lib/rancher/k3s/server/manifests/${manifest}'`), cmds.join('\n'));
  assert.ok(!cmds.some((c) => c.includes('$(touch') && !c.includes("'")));
});

test(`${EXAMPLE_PLAYBOOK} is what the tool generates (npm run docs)`, () => {
  const committed = readFileSync(new URL(`../../${EXAMPLE_PLAYBOOK}`, import.meta.url), 'utf8');
  assert.equal(committed, examplePlaybook(), `${EXAMPLE_PLAYBOOK} is stale: run npm run docs`);
  const cli = playbook('--k3s-version', 'v1.31.4+k3s1', '--role', 'server');
  assert.equal(cli, committed);
});
