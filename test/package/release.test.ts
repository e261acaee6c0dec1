// The release, verified by k3sguard itself: `npm run release` with a test key into a temp dir,
// then the released amd64 executable (not the source tree) checks every file against
// sha256sum.txt, against its own Sigstore bundle and against the signed SLSA provenance; a
// copy of any artifact with one byte changed fails each of those; the image passes `verify` and
// `scan` of itself; the repository's deploy/ and workflows, and the deploy file the release
// pins to the image's digest, pass `audit iac`. coreutils' sha256sum checks the sums file too.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { k3sguard, oneRecordDb, type RunResult } from '../cli/run.ts';
import { withContainerd } from '../images/containerd.ts';
import { withPackLock } from './pack-lock.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const TARBALL = `${PKG.name}-${PKG.version}.tgz`;
const ARTIFACTS = [
  'k3sguard-linux-amd64',
  'k3sguard-linux-arm64',
  TARBALL,
  'k3sguard-image.tar',
  'k3sguard-deploy.yaml',
];
const SBOMS = [
  'k3sguard-linux-amd64.cdx.json',
  'k3sguard-linux-arm64.cdx.json',
  `${PKG.name}-${PKG.version}.cdx.json`,
  'k3sguard-image.cdx.json',
];
const SIGNED = [...ARTIFACTS, ...SBOMS, 'sha256sum.txt'];
const PROVENANCE = `${PKG.name}-${PKG.version}.provenance.sigstore.json`;
const IMAGE_NAME = `docker.io/library/k3sguard:${PKG.version}`;
const MiB = 1024 * 1024;

interface Statement {
  _type: string;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: string;
  predicate: {
    buildDefinition: {
      externalParameters: { command: string; source: { digest: { gitCommit: string }; dirty: boolean } };
      resolvedDependencies: Array<{ name?: string; uri?: string; digest: Record<string, string> }>;
    };
  };
}

function git(args: string[]): string {
  return execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).trim();
}

/** `npm run release` as the workflow runs it; the test key, a dirty tree accepted (and checked to be marked). */
function runRelease(out: string | undefined, env: NodeJS.ProcessEnv): RunResult {
  const r = withPackLock(() =>
    spawnSync('npm', ['run', '--silent', 'release', '--', ...(out ? ['--out', out] : [])], {
      cwd: ROOT,
      env: { ...env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` },
      encoding: 'utf8',
      maxBuffer: 64 * MiB,
    }),
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('release: without K3SGUARD_SIGNING_KEY, one line and exit 2, nothing built', () => {
  const { K3SGUARD_SIGNING_KEY: _, ...env } = process.env;
  const r = runRelease('/nonexistent/release', env);
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(r.stderr.trimEnd().split('\n'), [
    "release: K3SGUARD_SIGNING_KEY is not set: give the path of the organisation's signing key (PEM)",
  ]);
  assert.ok(!existsSync('/nonexistent/release'));
});

test('release: an output folder holding other files is refused before any build, and left as it was', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k3sguard-release-out-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'notes.txt'), 'mine\n');
  const r = runRelease(dir, { ...process.env, K3SGUARD_SIGNING_KEY: '/nonexistent/key.pem' });
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(r.stderr.trimEnd().split('\n'), [
    `release: ${dir}: not empty and not an earlier release: not deleting it`,
  ]);
  assert.deepEqual(readdirSync(dir), ['notes.txt']);
});

test('release: a key that cannot sign (encrypted, no passphrase) stops it before any build, one line, exit 2', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k3sguard-release-key-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'enc.pem');
  const made = spawnSync(process.execPath, [join(ROOT, 'bin', 'k3sguard.js'), 'sign', '--generate-key', key], {
    env: { ...process.env, K3SGUARD_KEY_PASSPHRASE: 'secret' },
    encoding: 'utf8',
  });
  assert.equal(made.status, 0, made.stderr);
  const { K3SGUARD_KEY_PASSPHRASE: _, ...env } = process.env;
  const r = runRelease(join(dir, 'release'), { ...env, K3SGUARD_SIGNING_KEY: key, K3SGUARD_RELEASE_ALLOW_DIRTY: '1' });
  assert.equal(r.code, 2, r.stderr);
  // (A working copy with changes adds the DIRTY notice first.)
  const lines = r.stderr
    .trimEnd()
    .split('\n')
    .filter((l) => !l.startsWith('release: DIRTY'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0] ?? '',
    /^release: k3sguard sign failed: .*enc\.pem: the key is encrypted: set K3SGUARD_KEY_PASSPHRASE/,
  );
  assert.ok(!existsSync(join(dir, 'release')));
});

describe('a release built with a test key, checked by its own amd64 executable', () => {
  let out = '';
  let pub = '';
  let work = '';
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });
  let exe = '';
  let statement: Statement;
  let dirtyBefore = false;
  const run = (args: string[], cwd = out): RunResult => {
    // No Node on the PATH: the executable needs none.
    const r = spawnSync(exe, args, {
      cwd,
      env: { PATH: '/usr/bin:/bin', HOME: work, NO_COLOR: '1' },
      encoding: 'utf8',
      maxBuffer: 64 * MiB,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'k3sguard-release-'));
    const key = join(work, 'org-signing.pem');
    const made = k3sguard(['sign', '--generate-key', key]);
    assert.equal(made.code, 0, made.stderr);
    pub = join(work, 'org-signing.pub');
    out = join(work, 'release');
    dirtyBefore = git(['status', '--porcelain', '--untracked-files=all']) !== '';
    const started = Date.now();
    // SOURCE_DATE_EPOCH left to its default, the commit's time, which the SBOM test expects.
    const { SOURCE_DATE_EPOCH: _, ...env } = process.env;
    const r = runRelease(out, {
      ...env,
      K3SGUARD_SIGNING_KEY: key,
      K3SGUARD_RELEASE_ALLOW_DIRTY: '1',
    });
    assert.equal(r.code, 0, `npm run release failed:\n${r.stderr}`);
    console.log(`npm run release: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const f of readdirSync(out).sort()) console.log(`  ${String(statSync(join(out, f)).size).padStart(11)}  ${f}`);
    exe = join(out, 'k3sguard-linux-amd64');
    const bundle = JSON.parse(readFileSync(join(out, PROVENANCE), 'utf8'));
    statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
  });

  test('holds the artifacts, an SBOM of each, sha256sum.txt, a bundle per file and the provenance, nothing else', () => {
    const expected = [...SIGNED, ...SIGNED.map((f) => `${f}.sigstore.json`), PROVENANCE].sort();
    assert.deepEqual(readdirSync(out).sort(), expected);
    const sums = readFileSync(join(out, 'sha256sum.txt'), 'utf8');
    assert.deepEqual(
      sums
        .trimEnd()
        .split('\n')
        .map((l) => l.split('  ')[1]),
      [...ARTIFACTS, ...SBOMS].sort(),
      'GNU format, one line per artifact and SBOM, sorted',
    );
    assert.match(sums, /^([0-9a-f]{64} {2}\S+\n)+$/);
    const coreutils = spawnSync('sha256sum', ['--strict', '-c', 'sha256sum.txt'], { cwd: out, encoding: 'utf8' });
    assert.equal(coreutils.status, 0, coreutils.stdout + coreutils.stderr);
    for (const sbom of SBOMS) {
      const bom = JSON.parse(readFileSync(join(out, sbom), 'utf8'));
      assert.equal(bom.bomFormat, 'CycloneDX', sbom);
      assert.ok(bom.components.length > 0, `${sbom} lists components`);
    }
    // The npm tarball's SBOM: k3sguard and its runtime packages, each with its locked sha512.
    const npmBom = JSON.parse(readFileSync(join(out, `${PKG.name}-${PKG.version}.cdx.json`), 'utf8'));
    assert.equal(npmBom.metadata.component.name, 'k3sguard');
    // Reproducible: the time is the commit's (SOURCE_DATE_EPOCH's default), not the clock's.
    const commitTime = Number(git(['show', '-s', '--format=%ct', 'HEAD']));
    assert.equal(Date.parse(npmBom.metadata.timestamp), commitTime * 1000);
    for (const c of npmBom.components)
      assert.ok(
        c.hashes?.some((h: { alg: string }) => h.alg === 'SHA-512'),
        c.name,
      );
  });

  test('verify --checksums sha256sum.txt passes for every artifact', () => {
    const r = run(['verify', '--checksums', 'sha256sum.txt', ...ARTIFACTS, ...SBOMS]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test('verify --bundle --key passes for every file with its own bundle', () => {
    for (const f of SIGNED) {
      const r = run(['verify', f, '--bundle', `${f}.sigstore.json`, '--key', pub]);
      assert.equal(r.code, 0, `${f}: ${r.stdout}${r.stderr}`);
    }
  });

  test('the provenance: SLSA v1, every artifact a subject, the commit, the command, every locked package, the Node binaries', () => {
    assert.equal(statement._type, 'https://in-toto.io/Statement/v1');
    assert.equal(statement.predicateType, 'https://slsa.dev/provenance/v1');
    assert.deepEqual(statement.subject.map((s) => s.name).sort(), [...ARTIFACTS, ...SBOMS].sort());
    for (const f of [...ARTIFACTS, ...SBOMS]) {
      const r = run(['verify', f, '--bundle', PROVENANCE, '--key', pub]);
      assert.equal(r.code, 0, `${f}: ${r.stdout}${r.stderr}`);
    }
    const def = statement.predicate.buildDefinition;
    assert.equal(def.externalParameters.command, 'npm run release');
    assert.equal(def.externalParameters.source.digest.gitCommit, git(['rev-parse', 'HEAD']));
    assert.equal(def.externalParameters.source.dirty, dirtyBefore, 'a dirty tree is marked, a clean one is not');
    const deps = def.resolvedDependencies;
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; integrity?: string }>;
    };
    for (const [path, p] of Object.entries(lock.packages)) {
      if (path === '') continue;
      const sha512 = Buffer.from((p.integrity ?? '').replace(/^sha512-/, ''), 'base64').toString('hex');
      assert.ok(
        deps.some((d) => d.digest.sha512 === sha512 && d.uri?.endsWith(`@${p.version}`)),
        `${path}@${p.version} with its integrity`,
      );
    }
    // The Node binary inside each executable: the same sha256 as the executable's own SBOM says.
    for (const arch of ['amd64', 'arm64']) {
      const bom = JSON.parse(readFileSync(join(out, `k3sguard-linux-${arch}.cdx.json`), 'utf8'));
      const node = bom.components.find((c: { name: string }) => c.name === 'node');
      const sha256 = node?.hashes?.find((h: { alg: string }) => h.alg === 'SHA-256')?.content;
      assert.match(sha256 ?? '', /^[0-9a-f]{64}$/, `the SBOM of ${arch} names Node's sha256`);
      assert.ok(
        deps.some((d) => d.digest.sha256 === sha256 && d.uri === `${node.purl}#bin/node`),
        `the Node binary of ${arch}`,
      );
    }
    for (const role of ['the bundler', 'the SEA blob injector']) {
      assert.ok(
        deps.some((d) => (d as { annotations?: { role?: string } }).annotations?.role === role),
        role,
      );
    }
  });

  test('a copy of any artifact with one byte changed fails against the sums, its bundle and the provenance', () => {
    const tampered = join(work, 'tampered');
    mkdirSync(tampered);
    copyFileSync(join(out, 'sha256sum.txt'), join(tampered, 'sha256sum.txt'));
    for (const f of [...ARTIFACTS, ...SBOMS]) {
      const copy = join(tampered, f);
      copyFileSync(join(out, f), copy);
      const bytes = readFileSync(copy);
      const at = Math.floor(bytes.length / 2);
      bytes[at] = (bytes[at] as number) ^ 0x01;
      writeFileSync(copy, bytes);
      const sums = run(['verify', '--checksums', 'sha256sum.txt', f], tampered);
      assert.equal(sums.code, 1, `${f} against the sums: ${sums.stdout}${sums.stderr}`);
      const own = run(['verify', copy, '--bundle', join(out, `${f}.sigstore.json`), '--key', pub]);
      assert.equal(own.code, 1, `${f} against its bundle: ${own.stdout}${own.stderr}`);
      const prov = run(['verify', copy, '--bundle', join(out, PROVENANCE), '--key', pub]);
      assert.equal(prov.code, 1, `${f} against the provenance: ${prov.stdout}${prov.stderr}`);
    }
  });

  test('the image archive passes verify and scan of itself', () => {
    const v = run(['verify', 'k3sguard-image.tar']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const db = oneRecordDb(work);
    const s = run(['scan', 'k3sguard-image.tar', '--db', db, '--json']);
    assert.equal(s.code, 0, s.stdout + s.stderr);
    assert.match(s.stdout, /k3sguard/);
  });

  test('audit iac of deploy/ and .github/ is clean, and so is the deploy file pinned to the image digest', () => {
    const repo = run(['audit', 'iac', 'deploy', '.github'], ROOT);
    assert.equal(repo.code, 0, repo.stdout + repo.stderr);
    assert.match(repo.stdout, /9 file\(s\) audited, no findings/);
    const rendered = run(['audit', 'iac', 'k3sguard-deploy.yaml']);
    assert.equal(rendered.code, 0, rendered.stdout + rendered.stderr);
    const deploy = readFileSync(join(out, 'k3sguard-deploy.yaml'), 'utf8');
    const pinned = [...deploy.matchAll(/image: (\S+)/g)].map((m) => m[1]);
    assert.ok(pinned.length >= 2);
    const index = JSON.parse(
      execFileSync('tar', ['-xOf', join(out, 'k3sguard-image.tar'), 'index.json'], { encoding: 'utf8' }),
    ) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
    const digests = index.manifests.map((m) => m.digest);
    for (const ref of pinned) {
      const [name, digest] = (ref as string).split('@');
      assert.equal(name, IMAGE_NAME);
      assert.ok(digests.includes(digest as string), `${ref}: the digest of the image in the release`);
    }
  });

  test('the deploy workloads run in the released image under containerd: their args, mounts, read-only root', async (t) => {
    const docs = parseAllDocuments(readFileSync(join(out, 'k3sguard-deploy.yaml'), 'utf8')).map((d) => d.toJS());
    const pods = docs.flatMap((d) => {
      if (d?.kind === 'Job') return [{ name: d.metadata.name as string, pod: d.spec.template.spec as PodSpec }];
      if (d?.kind === 'CronJob')
        return [{ name: d.metadata.name as string, pod: d.spec.jobTemplate.spec.template.spec as PodSpec }];
      return [];
    });
    assert.deepEqual(pods.map((p) => p.name).sort(), ['k3sguard-audit-node', 'k3sguard-verify-k3s']);
    // A K3s node's files, world-readable: ctr runs the image's own (unprivileged) user, so the
    // audit's uid 0 without capabilities is not what runs here; the commands and mounts are.
    const host = join(work, 'host');
    for (const d of ['etc/rancher/k3s', 'var/lib/rancher/k3s/server/manifests', 'etc/systemd/system', 'usr/local/bin'])
      mkdirSync(join(host, d), { recursive: true });
    writeFileSync(join(host, 'etc/rancher/k3s/config.yaml'), 'node-name: test\n');
    copyFileSync('/bin/ls', join(host, 'usr/local/bin/k3s'));
    const lockDir = join(work, 'lock');
    mkdirSync(lockDir);
    const locked = run(['lock', 'add', '--lock', join(lockDir, 'k3sguard.lock'), join(host, 'usr/local/bin/k3s')]);
    assert.equal(locked.code, 0, locked.stderr);
    chmodSync(join(lockDir, 'k3sguard.lock'), 0o644);
    const r = await withContainerd(({ address, namespace, ctr }) => {
      ctr('images', 'import', join(out, 'k3sguard-image.tar'));
      const listed = ctr('images', 'ls');
      const results = new Map<string, RunResult>();
      for (const { name, pod } of pods) {
        const container = pod.containers[0] as PodContainer;
        const digest = container.image.split('@')[1] as string;
        assert.match(
          listed,
          new RegExp(`k3sguard:${PKG.version}\\s.*${digest}`),
          `${name}: the pinned digest is the image's`,
        );
        const mounts = container.volumeMounts.flatMap((m) => {
          const v = pod.volumes.find((x) => x.name === m.name);
          let src: string;
          if (v?.hostPath) src = join(host, v.hostPath.path);
          else if (v?.configMap) src = lockDir;
          else src = mkdtempSync(join(work, 'empty-'));
          if (v?.emptyDir) chmodSync(src, 0o1777);
          return ['--mount', `type=bind,src=${src},dst=${m.mountPath},options=rbind:${m.readOnly ? 'ro' : 'rw'}`];
        });
        const ro = container.securityContext.readOnlyRootFilesystem ? ['--read-only'] : [];
        // Not ctr(): the workload's exit code is the result, a non-zero one included.
        const command = [
          'run',
          '--rm',
          ...ro,
          ...mounts,
          IMAGE_NAME,
          name,
          '/usr/local/bin/k3sguard',
          ...container.args,
        ];
        const ran = spawnSync('ctr', ['--address', address, '-n', namespace, ...command], {
          encoding: 'utf8',
          maxBuffer: 64 * MiB,
        });
        results.set(name, { code: ran.status, stdout: ran.stdout, stderr: ran.stderr });
      }
      return results;
    });
    if ('skip' in r) {
      t.skip(r.skip as string);
      return;
    }
    const results = r as Map<string, RunResult>;
    const verify = results.get('k3sguard-verify-k3s') as RunResult;
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /OK\s+lock\s+\/host\/usr\/local\/bin\/k3s/);
    const audit = results.get('k3sguard-audit-node') as RunResult;
    const report = JSON.parse(audit.stdout);
    assert.equal(report.root, '/host');
    assert.deepEqual(report.filesAudited.sort(), ['etc/rancher/k3s/config.yaml', 'usr/local/bin/k3s']);
    // /bin/ls is no K3s binary: the audit says so, and fails the Job.
    assert.deepEqual(
      report.findings.map((f: { id: string }) => f.id),
      ['K3SG-NODE-BINARY-BUNDLE'],
    );
    assert.equal(audit.code, 1, audit.stderr);
  });
});

interface PodContainer {
  image: string;
  args: string[];
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  securityContext: { readOnlyRootFilesystem?: boolean };
}

interface PodSpec {
  containers: PodContainer[];
  volumes: Array<{ name: string; hostPath?: { path: string }; configMap?: unknown; emptyDir?: unknown }>;
}
