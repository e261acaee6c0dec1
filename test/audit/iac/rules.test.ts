// Every iac rule fires on the "bad" fixture repository (written like real commits: a
// k3s-ansible style role, cloud-init, Terraform user_data, SUC Plans, Actions workflows...) at
// the exact line and column, and stays silent on the "good" one that does the same jobs pinned.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditIac } from '../../../src/audit/iac/index.ts';
import { IAC_RULES, NOT_AUDITED } from '../../../src/model/rules/iac.ts';
import { parseImagePolicy } from '../../../src/policy/image-policy.ts';
import { tempDir } from '../../cli/run.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const BAD = join(FIXTURES, 'repo-bad');
const GOOD = join(FIXTURES, 'repo-good');
const POLICY = parseImagePolicy(
  'policy.yaml',
  'apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n  allowedRegistries: [registry.example.com, docker.io]\n',
);

function at(findings: Array<{ id: string; region?: { file: string; line: number; column: number } }>): string[] {
  return findings.map((f) => `${f.region?.file}:${f.region?.line}:${f.region?.column} ${f.id}`);
}

test('the bad repository: every finding at its file:line:column', async () => {
  const r = await auditIac([BAD], { root: BAD, policy: POLICY, workers: 0 });
  assert.deepEqual(r.problems, []);
  assert.equal(r.filesAudited.length, 10);
  assert.deepEqual(at(r.findings), [
    '.github/workflows/deploy.yml:10:16 K3SG-IAC-IMAGE-REGISTRY',
    '.github/workflows/deploy.yml:10:16 K3SG-IAC-IMAGE-TAG',
    '.github/workflows/deploy.yml:12:15 K3SG-IAC-ACTION-UNPINNED',
    '.github/workflows/deploy.yml:16:21 K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
    '.github/workflows/deploy.yml:16:42 K3SG-IAC-INSTALL-UNPINNED',
    '.github/workflows/deploy.yml:18:24 K3SG-IAC-IMAGE-TAG',
    '.github/workflows/deploy.yml:19:15 K3SG-IAC-ACTION-UNPINNED',
    '.gitlab-ci.yml:8:10 K3SG-IAC-IMAGE-TAG',
    '.gitlab-ci.yml:10:13 K3SG-IAC-IMAGE-TAG',
    '.gitlab-ci.yml:12:17 K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
    '.gitlab-ci.yml:12:38 K3SG-IAC-INSTALL-CHANNEL',
    'Dockerfile:1:6 K3SG-IAC-IMAGE-TAG',
    'Dockerfile:6:6 K3SG-IAC-IMAGE-TAG',
    'Dockerfile:8:15 K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
    'Dockerfile:9:64 K3SG-IAC-INSTALL-UNPINNED',
    'ansible/roles/k3s_server/tasks/main.yml:4:10 K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
    'ansible/roles/k3s_server/tasks/main.yml:13:10 K3SG-IAC-INSTALL-CHANNEL',
    'ansible/roles/k3s_server/tasks/main.yml:22:15 K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
    'ansible/roles/k3s_server/tasks/main.yml:23:69 K3SG-IAC-INSTALL-UNPINNED',
    'cloud-init/server.yaml:13:15 K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
    'cloud-init/server.yaml:14:5 K3SG-IAC-INSTALL-CHANNEL',
    'manifests/ingress-nginx.yaml:8:10 K3SG-IAC-HELMCHART-VERSION',
    'manifests/ingress-nginx.yaml:28:18 K3SG-IAC-IMAGE-TAG',
    'manifests/ingress-nginx.yaml:32:18 K3SG-IAC-IMAGE-REGISTRY',
    'manifests/ingress-nginx.yaml:32:18 K3SG-IAC-IMAGE-TAG',
    'scripts/bootstrap-k3s.sh:8:11 K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
    'scripts/bootstrap-k3s.sh:10:42 K3SG-IAC-INSTALL-UNPINNED',
    'terraform/main.tf:9:15 K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
    'terraform/main.tf:9:36 K3SG-IAC-INSTALL-UNPINNED',
    'terraform/main.tf:21:58 K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
    'terraform/main.tf:21:141 K3SG-IAC-INSTALL-UNPINNED',
    'terraform/main.tf:27:78 K3SG-IAC-SKIP-DOWNLOAD-UNVERIFIED',
    'upgrade/plan.yaml:17:12 K3SG-IAC-PLAN-CHANNEL',
  ]);
  // Every rule of the catalogue about content is exercised by this repository (files that
  // cannot be audited are bad-input.test.ts's and evasion.test.ts's).
  assert.deepEqual(
    new Set(r.findings.map((f) => f.id)),
    new Set(IAC_RULES.filter((x) => x !== NOT_AUDITED).map((x) => x.id)),
  );
  const unexported = r.findings.find(
    (f) => f.region?.file === 'scripts/bootstrap-k3s.sh' && f.id === 'K3SG-IAC-INSTALL-UNPINNED',
  );
  assert.match(unexported?.message ?? '', /never exported/);
  assert.equal(unexported?.region?.snippet, 'INSTALL_K3S_EXEC="server --cluster-init" /tmp/k3s-install.sh');
});

test('the good repository, doing the same jobs pinned and checked: no finding of any rule', async () => {
  const r = await auditIac([GOOD], { root: GOOD, policy: POLICY, workers: 0 });
  assert.deepEqual(r.problems, []);
  assert.equal(r.filesAudited.length, 9);
  assert.deepEqual(at(r.findings), []);
});

// One small case per rule each way, so a rule's trigger is pinned down beyond the repositories.
const CASES: Array<{ rule: string; file: string; fires: string; quiet: string }> = [
  {
    rule: 'K3SG-IAC-INSTALL-UNPINNED',
    file: 'i.sh',
    fires: 'INSTALL_K3S_VERSION=v1.31.4+k3s1 curl -sfL https://get.k3s.io -o i.sh; sha256sum -c i.sum; sh i.sh\n',
    quiet: 'curl -sfL https://get.k3s.io -o i.sh; sha256sum -c i.sum; INSTALL_K3S_VERSION=v1.31.4+k3s1 sh i.sh\n',
  },
  {
    rule: 'K3SG-IAC-INSTALL-CHANNEL',
    file: 'i.sh',
    fires: 'export INSTALL_K3S_CHANNEL=v1.31\n/opt/k3s-install.sh\n',
    quiet: 'export INSTALL_K3S_CHANNEL=v1.31 INSTALL_K3S_VERSION=v1.31.4+k3s1\n/opt/k3s-install.sh\n',
  },
  {
    rule: 'K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
    file: 'i.sh',
    fires: 'wget -qO- https://get.k3s.io | INSTALL_K3S_VERSION=v1.31.4+k3s1 sh -\n',
    quiet: "# curl -sfL https://get.k3s.io | sh -\necho 'curl https://get.k3s.io | sh'\n",
  },
  {
    rule: 'K3SG-IAC-SKIP-DOWNLOAD-UNVERIFIED',
    file: 'i.sh',
    fires:
      'cp /mnt/k3s /usr/local/bin/k3s\nINSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_VERSION=v1.31.4+k3s1 ./k3s-install.sh\n',
    quiet:
      'k3sguard verify --lock k3sguard.lock /mnt/k3s\ncp /mnt/k3s /usr/local/bin/k3s\nINSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_VERSION=v1.31.4+k3s1 ./k3s-install.sh\n',
  },
  {
    rule: 'K3SG-IAC-IMAGE-TAG',
    file: 'Containerfile',
    fires: 'FROM registry.example.com/base:1\n',
    quiet: `FROM registry.example.com/base:1@sha256:${'a'.repeat(64)}\n`,
  },
  {
    rule: 'K3SG-IAC-IMAGE-REGISTRY',
    file: 'pod.yaml',
    fires: `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: ghcr.io/x/y@sha256:${'b'.repeat(64)}\n`,
    quiet: `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: registry.example.com/x/y@sha256:${'b'.repeat(64)}\n`,
  },
  {
    rule: 'K3SG-IAC-HELMCHART-VERSION',
    file: 'chart.yaml',
    fires:
      'apiVersion: helm.cattle.io/v1\nkind: HelmChart\nmetadata: {name: t}\nspec:\n  repo: https://traefik.github.io/charts\n  chart: traefik\n  version: "^33.0"\n',
    quiet:
      'apiVersion: helm.cattle.io/v1\nkind: HelmChart\nmetadata: {name: t}\nspec:\n  chart: https://example.com/charts/traefik-33.0.0.tgz\n',
  },
  {
    rule: 'K3SG-IAC-PLAN-CHANNEL',
    file: 'plan.yml',
    fires:
      'apiVersion: upgrade.cattle.io/v1\nkind: Plan\nmetadata: {name: p}\nspec:\n  channel: https://update.k3s.io/v1-release/channels/v1.31\n',
    quiet:
      'apiVersion: upgrade.cattle.io/v1\nkind: Plan\nmetadata: {name: p}\nspec:\n  channel: https://update.k3s.io/v1-release/channels/v1.31\n  version: v1.31.4+k3s1\n',
  },
  {
    rule: 'K3SG-IAC-ACTION-UNPINNED',
    file: '.github/workflows/w.yml',
    fires: 'on: push\njobs:\n  j:\n    uses: acme/wf/.github/workflows/release.yml@v2\n',
    quiet: `on: push\njobs:\n  j:\n    uses: acme/wf/.github/workflows/release.yml@${'c'.repeat(40)}\n`,
  },
];

for (const c of CASES) {
  test(`${c.rule}: fires, and does not fire on the fixed form`, async (t) => {
    for (const [text, expected] of [
      [c.fires, true],
      [c.quiet, false],
    ] as const) {
      const dir = tempDir(t);
      const file = join(dir, c.file);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, text);
      const r = await auditIac([dir], { root: dir, policy: POLICY, workers: 0 });
      assert.equal(r.filesAudited.length, 1, `${c.file} is audited`);
      assert.equal(
        r.findings.some((f) => f.id === c.rule),
        expected,
        `${expected ? 'fires' : 'quiet'}: ${JSON.stringify(text)} -> ${at(r.findings).join(', ')}`,
      );
    }
  });
}

test('on worker threads: the same result as on this thread', async (t) => {
  // Eight copies of the bad repository: past the inline limit, so the files go in batches to
  // the worker pool.
  const dir = tempDir(t);
  for (let i = 0; i < 8; i++) cpSync(BAD, join(dir, `copy${i}`), { recursive: true });
  const here = await auditIac([dir], { root: dir, policy: POLICY, workers: 0 });
  const pooled = await auditIac([dir], { root: dir, policy: POLICY, workers: 2 });
  assert.equal(here.filesAudited.length, 80);
  assert.deepEqual(pooled, here);
});
