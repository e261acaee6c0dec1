// Ways past `audit iac` found by the hostile-input review, each closed: a script nested deeper
// than the audit follows (dash runs it all the same), an alias bomb, and images, scripts and
// versions reached through YAML aliases and `<<` merge keys. A file the audit cannot check
// fails it (K3SG-IAC-NOT-AUDITED); what it can check through aliases is checked.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditIac } from '../../../src/audit/iac/index.ts';
import { LIMITS } from '../../../src/model/limits.ts';
import { k3sguard, tempDir } from '../../cli/run.ts';

const INSTALL = 'curl -sfL https://get.k3s.io | sh -';
const DIGEST = `sha256:${'4f'.repeat(32)}`;

function at(r: Awaited<ReturnType<typeof auditIac>>): string[] {
  return r.findings.map((f) => `${f.region?.file}:${f.region?.line}:${f.region?.column} ${f.id}`);
}

/** `echo $(echo $(... INSTALL ...))`, `depth` substitutions deep. */
function nestedSubstitutions(depth: number): string {
  return `#!/bin/sh\necho ${'$(echo '.repeat(depth)}$(${INSTALL})${')'.repeat(depth)}\n`;
}

/** `sh <<E0` whose body is `sh <<E1` ... with the install at the bottom: heredocs read by a shell. */
function nestedHeredocs(depth: number): string {
  let body = `${INSTALL}\n`;
  for (let i = depth - 1; i >= 0; i--) body = `sh <<'E${i}'\n${body}E${i}\n`;
  return `#!/bin/sh\n${body}`;
}

/** dash's own parser accepts the script (`-n`: parse, run nothing): a shell would run it. */
function dashParses(t: { skip: (m: string) => void }, file: string): boolean {
  const r = spawnSync('dash', ['-n', file], { encoding: 'utf8' });
  if (r.error) {
    t.skip('dash is not installed');
    return false;
  }
  assert.equal(r.status, 0, `dash -n ${file}: ${r.stderr}`);
  return true;
}

test('1,300 nested $( that dash parses: past the nesting limit, not audited, and the audit fails', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'deep.sh'), nestedSubstitutions(1300));
  writeFileSync(join(dir, 'ok.sh'), '#!/bin/sh\necho hello\n');
  if (!dashParses(t, join(dir, 'deep.sh'))) return;
  const r = await auditIac([dir], { root: dir, workers: 0 });
  assert.deepEqual(
    r.problems.map((p) => `${p.file} ${p.kind}`),
    ['deep.sh over-limit'],
  );
  assert.match(
    r.problems[0]?.message ?? '',
    new RegExp(`^2:\\d+: scripts nested more than ${LIMITS.auditScriptNesting} deep`),
  );
  assert.deepEqual(r.filesAudited, ['ok.sh'], 'a file whose check stopped is not counted as audited');
  assert.deepEqual(at(r), ['deep.sh:1:1 K3SG-IAC-NOT-AUDITED']);
  const cli = k3sguard(['audit', 'iac', dir, '--fail-on', 'high']);
  assert.equal(cli.code, 1, cli.stdout + cli.stderr);
  assert.match(cli.stdout, /deep\.sh {2}over-limit: /);
});

test('nesting up to the limit is followed to the install at the bottom; heredocs read by sh nest too', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'subst.sh'), nestedSubstitutions(LIMITS.auditScriptNesting - 2));
  writeFileSync(join(dir, 'heredoc.sh'), nestedHeredocs(LIMITS.auditScriptNesting - 1));
  writeFileSync(join(dir, 'heredoc-deep.sh'), nestedHeredocs(400));
  for (const f of ['subst.sh', 'heredoc.sh', 'heredoc-deep.sh']) if (!dashParses(t, join(dir, f))) return;
  const r = await auditIac([dir], { root: dir, workers: 0 });
  assert.deepEqual(
    r.problems.map((p) => `${p.file} ${p.kind}`),
    ['heredoc-deep.sh over-limit'],
  );
  const ids = (file: string) => r.findings.filter((f) => f.region?.file === file).map((f) => f.id);
  assert.deepEqual(ids('subst.sh'), ['K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED', 'K3SG-IAC-INSTALL-UNPINNED']);
  assert.deepEqual(ids('heredoc.sh'), ['K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED', 'K3SG-IAC-INSTALL-UNPINNED']);
  assert.deepEqual(ids('heredoc-deep.sh'), ['K3SG-IAC-NOT-AUDITED']);
  // The install at the bottom of the nesting is found where it is written.
  const install = r.findings.find((f) => f.region?.file === 'heredoc.sh');
  assert.equal(install?.region?.line, LIMITS.auditScriptNesting + 1);
});

test('Kubernetes: images through an alias and a merge key are checked, at the anchor', async (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'pod.yaml'),
    `apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations:
    base-image: &img "nginx:1.27"
x-sidecar: &x0
  name: sidecar
  image: busybox:1.36
spec:
  containers: [*x0]
  initContainers:
    - name: init
      image: *img
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
x-pod: &pod
  containers:
    - name: api
      image: registry.example.com/api:2.0
    - name: pinned
      image: registry.example.com/api@${DIGEST}
spec:
  template:
    spec:
      <<: *pod
      serviceAccountName: api
`,
  );
  const r = await auditIac([dir], { root: dir, workers: 0 });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(at(r), [
    'pod.yaml:6:22 K3SG-IAC-IMAGE-TAG',
    'pod.yaml:9:10 K3SG-IAC-IMAGE-TAG',
    'pod.yaml:23:14 K3SG-IAC-IMAGE-TAG',
  ]);
  assert.match(r.findings[0]?.message ?? '', /^container init: image nginx:1\.27 is pulled by tag/);
  assert.equal(r.findings[0]?.region?.snippet, 'base-image: &img "nginx:1.27"');
});

test('a container reached twice through aliases is reported once', async (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'pod.yaml'),
    'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [&c {name: a, image: "nginx:1.27"}, *c, *c]\n',
  );
  const r = await auditIac([dir], { root: dir, workers: 0 });
  assert.deepEqual(at(r), ['pod.yaml:5:36 K3SG-IAC-IMAGE-TAG']);
});

test('HelmChart: the spec behind a merge key is checked; its own version wins over the merged one', async (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'charts.yaml'),
    `apiVersion: v1
kind: List
items:
  - apiVersion: helm.cattle.io/v1
    kind: HelmChart
    metadata: {name: traefik}
    spec: &spec
      chart: traefik
      repo: https://traefik.github.io/charts
      version: 34.2.0
  - apiVersion: helm.cattle.io/v1
    kind: HelmChart
    metadata: {name: traefik-canary}
    spec:
      <<: *spec
      version: "^34"
  - apiVersion: helm.cattle.io/v1
    kind: HelmChart
    metadata: {name: traefik-copy}
    spec: *spec
`,
  );
  const r = await auditIac([dir], { root: dir, workers: 0 });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(at(r), ['charts.yaml:16:16 K3SG-IAC-HELMCHART-VERSION']);
  assert.match(r.findings[0]?.message ?? '', /traefik-canary: version "\^34" is a range/);
});

test('GitHub Actions and GitLab CI: aliased containers, steps and script fragments are checked', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, '.github', 'workflows'), { recursive: true });
  writeFileSync(
    join(dir, '.github', 'workflows', 'deploy.yml'),
    `on: push
jobs:
  build:
    runs-on: ubuntu-24.04
    container: &img node:22
    steps: &steps
      - uses: actions/checkout@v4
      - run: ${INSTALL}
  test:
    runs-on: ubuntu-24.04
    container: *img
    steps: *steps
`,
  );
  writeFileSync(
    join(dir, '.gitlab-ci.yml'),
    `.install: &install
  - ${INSTALL}
deploy:
  image: alpine@${DIGEST}
  script:
    - *install
`,
  );
  const r = await auditIac([dir], { root: dir, workers: 0 });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(at(r), [
    '.github/workflows/deploy.yml:5:21 K3SG-IAC-IMAGE-TAG',
    '.github/workflows/deploy.yml:7:15 K3SG-IAC-ACTION-UNPINNED',
    '.github/workflows/deploy.yml:8:24 K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
    '.github/workflows/deploy.yml:8:45 K3SG-IAC-INSTALL-UNPINNED',
    '.gitlab-ci.yml:2:15 K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
    '.gitlab-ci.yml:2:36 K3SG-IAC-INSTALL-UNPINNED',
  ]);
});

test('an alias bomb is refused in bounded time, and fails the audit; the next document is still checked', async (t) => {
  const dir = tempDir(t);
  // Ten levels of ten aliases each: 10^10 nodes written out.
  let bomb =
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\nx:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
  for (let i = 1; i <= 10; i++)
    bomb += `  a${i}: &a${i} [${Array(10)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  bomb +=
    '---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: "nginx:1.27"}]\n';
  writeFileSync(join(dir, 'lol.yaml'), bomb);
  const started = process.hrtime.bigint();
  const r = await auditIac([dir], { root: dir, workers: 0 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(ms < 2000, `${ms} ms`);
  assert.deepEqual(
    r.problems.map((p) => `${p.file} ${p.kind}`),
    ['lol.yaml over-limit'],
  );
  assert.match(r.problems[0]?.message ?? '', /^\d+:\d+: aliases stand for more than 1000000 nodes/);
  assert.deepEqual(at(r), ['lol.yaml:1:1 K3SG-IAC-NOT-AUDITED', 'lol.yaml:21:33 K3SG-IAC-IMAGE-TAG']);
});

test('an alias inside the node it names is invalid YAML, not an endless walk', async (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'loop.yaml'),
    'apiVersion: v1\nkind: List\nitems: &items\n  - apiVersion: v1\n    kind: List\n    items: *items\n',
  );
  const r = await auditIac([dir], { root: dir, workers: 0 });
  assert.deepEqual(
    r.problems.map((p) => `${p.file} ${p.kind}`),
    ['loop.yaml invalid-yaml'],
  );
  assert.deepEqual(at(r), ['loop.yaml:1:1 K3SG-IAC-NOT-AUDITED']);
});

test('YAML nested deeper than the parser goes is not audited, and the other files are', async (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'deep.yaml'),
    `apiVersion: v1\nkind: Pod\nspec: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n---\n` +
      'apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, image: "nginx:1.27"}]\n',
  );
  writeFileSync(join(dir, 'ok.sh'), `#!/bin/sh\n${INSTALL}\n`);
  const r = await auditIac([dir], { root: dir, workers: 0 });
  assert.deepEqual(
    r.problems.map((p) => `${p.file} ${p.kind}`),
    ['deep.yaml over-limit'],
  );
  assert.match(r.problems[0]?.message ?? '', /^3:\d+: nested too deeply for the YAML parser$/);
  // The document after the deep one is still checked.
  assert.deepEqual(
    r.findings.map((f) => `${f.region?.file}:${f.region?.line} ${f.id}`),
    [
      'deep.yaml:1 K3SG-IAC-NOT-AUDITED',
      'deep.yaml:8 K3SG-IAC-IMAGE-TAG',
      'ok.sh:2 K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED',
      'ok.sh:2 K3SG-IAC-INSTALL-UNPINNED',
    ],
  );
});
