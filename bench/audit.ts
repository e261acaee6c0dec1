// `audit iac` benchmark (issue 6, item 7): a generated repository of 10,000 files of mixed
// kinds (shell, cloud-init, Dockerfiles, Ansible, Terraform, Actions, GitLab CI, manifests,
// HelmCharts, Plans, plus files no checker reads), ~200 MB, audited by the whole CLI process.
// Reports files/s and MB/s, and CPU time over wall time: above 1 means more than one core
// worked. Target: under 30 s. Run: npm run bench:audit [-- --runs N]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BENCH_CACHE } from './corpus.ts';

const CLI = resolve(import.meta.dirname, '..', 'bin', 'k3sguard.js');
const FILES = 10_000;
const TARGET_BYTES = 200 * 1024 * 1024;
const REPO = join(BENCH_CACHE, 'audit-repo');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;

// One template a kind (findings only in each file's first unit, as in a real repository); each is repeated (with the index in it) until the file reaches its size.
const DIGEST = `@sha256:${'ab'.repeat(32)}`;
const SHA = '11bd71901bbe5b1630ceea73d27597364c9af683';

const KINDS: Array<{ path: (i: number) => string; head: string; unit: (i: number, k: number) => string }> = [
  {
    path: (i) => `scripts/s${i}/install-${i}.sh`,
    head: '#!/bin/sh\nset -eu\n',
    unit: (i, k) =>
      `# step ${k}\nif [ -f /etc/node-${i}-${k} ]; then echo "node ${i} step ${k}" | tee -a /var/log/setup.log; fi\n` +
      (k === 0
        ? `curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.31.${k}+k3s1 sh -s - agent \\\n  --node-label idx=${i}\n`
        : ''),
  },
  {
    path: (i) => `deploy/m${i}/app-${i}.yaml`,
    head: '',
    unit: (i, k) =>
      `---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-${i}-${k}\n  labels: {app: app-${i}}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: web\n          image: registry.example.com/team/app-${k}:1.${k}.0${k === 0 ? '' : DIGEST}\n          args: ["--port", "8080", "--id", "${i}"]\n`,
  },
  {
    path: (i) => `.github/workflows/wf-${i}.yml`,
    head: 'name: ci\non: [push]\njobs:\n',
    unit: (i, k) =>
      `  job${k}:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@${k === 0 ? 'v4' : SHA}\n      - run: |\n          echo building ${i} ${k}\n          make test-${k}\n`,
  },
  {
    path: (i) => `infra/tf${i}/main.tf`,
    head: '',
    unit: (i, k) =>
      `resource "aws_instance" "n${k}" {\n  ami = "ami-${i}"\n  user_data = <<-EOF\n    #!/bin/bash\n    echo node ${k}\n    ${k === 0 ? 'curl -sfL https://get.k3s.io | sh -' : 'systemctl enable --now k3s'}\n  EOF\n}\n`,
  },
  {
    path: (i) => `ansible/roles/r${i}/tasks/main.yml`,
    head: '---\n',
    unit: (i, k) =>
      `- name: task ${k} of ${i}\n  ansible.builtin.shell: |\n    systemctl restart svc-${k} && echo done\n  environment:\n    INSTALL_K3S_VERSION: v1.31.4+k3s1\n`,
  },
  {
    path: (i) => `cloud/c${i}/user-data`,
    head: '#cloud-config\nruncmd:\n',
    unit: (i, k) => `  - echo "boot ${i} step ${k}" >> /var/log/boot.log\n`,
  },
  {
    path: (i) => `images/d${i}/Dockerfile`,
    head: 'FROM debian:12-slim\n',
    unit: (i, k) => `RUN apt-get update && apt-get install -y pkg-${k} \\\n    && rm -rf /var/lib/apt/lists/* # ${i}\n`,
  },
  {
    path: (i) => `ci/g${i}.gitlab-ci.yml`,
    head: '',
    unit: (i, k) => `job-${k}:\n  image: alpine:3.${k % 20}${k === 0 ? '' : DIGEST}\n  script:\n    - echo ${i} ${k}\n`,
  },
  {
    path: (i) => `docs/d${i}/notes-${i}.md`,
    head: '# notes\n',
    unit: (i, k) => `Paragraph ${k} of ${i}: run \`curl -sfL https://get.k3s.io | sh -\` only in the lab.\n`,
  },
];

function generate(): { files: number; bytes: number } {
  const marker = join(REPO, '.complete');
  if (existsSync(marker)) return JSON.parse(readFileSync(marker, 'utf8')) as { files: number; bytes: number };
  const tmp = `${REPO}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  let bytes = 0;
  const perFile = Math.floor(TARGET_BYTES / FILES);
  for (let i = 0; i < FILES; i++) {
    const kind = KINDS[i % KINDS.length] as (typeof KINDS)[number];
    // Sizes vary from 1/4 to 7/4 of the mean, deterministically.
    const size = Math.floor(perFile * (0.25 + ((i * 7919) % 1500) / 1000));
    let text = kind.head;
    for (let k = 0; text.length < size; k++) text += kind.unit(i, k);
    const path = join(tmp, kind.path(i));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
    bytes += Buffer.byteLength(text);
  }
  const stats = { files: FILES, bytes };
  writeFileSync(join(tmp, '.complete'), JSON.stringify(stats));
  rmSync(REPO, { recursive: true, force: true });
  renameSync(tmp, REPO);
  return stats;
}

const stats = generate();
console.log(`audit iac over ${REPO}: ${stats.files} files, ${(stats.bytes / 1e6).toFixed(1)} MB`);
const runs: Array<{ wall: number; cpu: number; rss: number; code: number | null }> = [];
for (let i = 0; i <= RUNS; i++) {
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', '%e %U %S %M', process.execPath, CLI, 'audit', 'iac', REPO, '--format', 'json', '-o', '/dev/null'],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 1) throw new Error(`exit ${r.status} (expected 1: findings): ${r.stderr.slice(-500)}`);
  const [wall, user, sys, rss] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
  if (i === 0) continue; // warm-up: page cache, compile cache
  runs.push({
    wall: wall as number,
    cpu: (user as number) + (sys as number),
    rss: (rss as number) / 1024,
    code: r.status,
  });
}
runs.sort((a, b) => a.wall - b.wall);
const median = runs[Math.floor(runs.length / 2)] as (typeof runs)[number];
console.log(
  `  median ${median.wall.toFixed(2)} s: ${(stats.files / median.wall).toFixed(0)} files/s, ` +
    `${(stats.bytes / 1e6 / median.wall).toFixed(1)} MB/s, CPU/wall ${(median.cpu / median.wall).toFixed(2)}, ` +
    `peak RSS ${median.rss.toFixed(0)} MiB (target: under 30 s)`,
);
if (median.wall >= 30) process.exitCode = 1;
