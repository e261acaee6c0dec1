// Images through the real CLI: inspect, sbom, scan, verify and lock add of the real Debian
// image (debootstrap minbase + a real Go binary + whiteouts, exported by containerd), in every
// form, with its tamper variants and hostile inputs; exit codes and what is written.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEBIAN_EXTRA_NAME, DEBIAN_GO_BINARY, DEBIAN_NAME, debianImage } from '../fixtures/debian-image.ts';
import { debianVariant } from '../fixtures/debian-variants.ts';
import { validateCycloneDx, validateSpdx } from '../report/schemas.ts';
import { RECORD_TEXTS } from '../scan/os-records.ts';
import { bombLayout } from './bomb-layout.ts';
import { assertInputError, k3sguard, tempDir } from './run.ts';

const img = await debianImage();
const skip = 'skip' in img ? img.skip : false;

interface InvJson {
  targetKind: string;
  root: {
    type: string;
    format: string;
    compression: string;
    children: Array<{
      type: string;
      names: string[];
      manifestDigest?: string;
      layers?: Array<{ digest: string }>;
      os?: { id: string; versionId?: string };
      children: Array<{
        type: string;
        name: string;
        version?: string;
        path?: string;
        sha256?: string;
        children?: Array<{ type: string }>;
      }>;
    }>;
  };
  findings: Array<{ id: string }>;
}

function dpkgOracleCount(): number {
  if ('skip' in img) return 0;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const out = execFileSync('dpkg-query', [`--admindir=${img.dpkgAdmin}`, '-W', '-f', '${Package}\n'], {
    encoding: 'utf8',
  });
  return out.trim().split('\n').length;
}

function sha256File(path: string): string {
  return execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0] as string;
}

test('inspect: every form of the real image lists its dpkg packages and its Go binary, nothing else', { skip }, (t) => {
  if ('skip' in img) return;
  const cwd = tempDir(t);
  const want = dpkgOracleCount();
  assert.ok(want >= 80, `debootstrap minbase has 80+ packages (got ${want})`);
  const forms = [img.airgapZst, img.airgapGz, img.airgapTar, img.airgapDir, img.ociArchive, img.dockerArchive];
  let first: string | undefined;
  for (const file of forms) {
    const r = k3sguard(['inspect', '--json', '--no-progress', file], { cwd });
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
    const inv = JSON.parse(r.stdout) as InvJson;
    assert.equal(inv.root.type, 'image-archive');
    if (file !== img.airgapDir) assert.equal((inv.root as { sha256?: string }).sha256, sha256File(file), file);
    assert.deepEqual(inv.findings, [], file);
    const images = inv.root.children;
    assert.equal(images.length, 1, file);
    const image = images[0] as InvJson['root']['children'][number];
    assert.deepEqual(image.names, [DEBIAN_NAME]);
    assert.deepEqual(image.os && [image.os.id, image.os.versionId], ['debian', '12']);
    const packages = image.children.filter((c) => c.type === 'os-package');
    assert.equal(packages.length, want, file);
    const files = image.children.filter((c) => c.type === 'file');
    assert.deepEqual(
      files.map((f) => f.path),
      [DEBIAN_GO_BINARY.path],
      `${file}: the one Go binary (the whited-out files are gone, Debian's own ELF files are the packages')`,
    );
    // The binary comes from the second layer (the first is the debootstrap root).
    assert.equal((files[0] as { layer?: string }).layer, image.layers?.[DEBIAN_GO_BINARY.layer]?.digest, file);
    const modules = files[0]?.children?.filter((c) => c.type === 'go-module').length ?? 0;
    assert.ok(modules > 10, `${file}: lefthook's modules (${modules})`);
    const summary = JSON.stringify({ p: packages.map((p) => [p.name, p.version]), s: files[0]?.sha256 });
    first ??= summary;
    assert.equal(summary, first, `${file} reads as the others`);
  }
  assert.deepEqual(readdirSync(cwd), [], 'nothing written to the working directory');

  const table = k3sguard(['inspect', '--no-progress', '--no-modules', img.airgapZst], { cwd });
  assert.equal(table.code, 0);
  assert.match(table.stdout, new RegExp(`image ${DEBIAN_NAME.replace(/[.]/g, '\\.')}\\s+linux/amd64 · 3 layers`));
  assert.match(table.stdout, new RegExp(`Debian GNU/Linux 12 \\(bookworm\\); ${want} dpkg packages`));
  assert.match(table.stdout, /\/usr\/local\/bin\/lefthook\s+ELF amd64 · Go/);
});

test('sbom: CycloneDX and SPDX of an image validate and carry packages, the image and the binary', { skip }, (t) => {
  if ('skip' in img) return;
  const dir = tempDir(t);
  const cdx = join(dir, 'bom.cdx.json');
  const r = k3sguard(['sbom', '--no-progress', '--format', 'cyclonedx-json', '-o', cdx, img.airgapZst]);
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(cdx, 'utf8');
  assert.deepEqual(validateCycloneDx(text), []);
  const purls: string[] = [];
  const walk = (cs: Array<{ purl?: string; type: string; components?: unknown[] }>) => {
    for (const c of cs) {
      if (c.purl) purls.push(c.purl);
      walk((c.components ?? []) as typeof cs);
    }
  };
  walk((JSON.parse(text) as { components: Array<{ purl?: string; type: string }> }).components);
  assert.ok(
    purls.some((p) => /^pkg:deb\/debian\/bash@.*arch=amd64&distro=debian-12$/.test(p)),
    'bash as pkg:deb',
  );
  assert.ok(
    purls.some((p) => p.startsWith('pkg:oci/debian@sha256:')),
    'the image as pkg:oci',
  );
  assert.ok(
    purls.some((p) => p.startsWith('pkg:golang/github.com/evilmartians/lefthook')),
    'the Go binary',
  );
  assert.match(text, /"type": "operating-system",\s+"name": "debian",\s+"version": "12"/, 'the distribution');
  const spdx = join(dir, 'bom.spdx.json');
  assert.equal(k3sguard(['sbom', '--no-progress', '--format', 'spdx-json', '-o', spdx, img.airgapGz]).code, 0);
  const v = validateSpdx(readFileSync(spdx, 'utf8'));
  if ('skip' in v) t.diagnostic(v.skip);
  else assert.deepEqual(v, []);
  assert.match(readFileSync(spdx, 'utf8'), /"primaryPackagePurpose": "OPERATING_SYSTEM"/);
});

/** DLA-3008-1 (a real record) moved to Debian 12 and to the image's bash, fixed one revision above it. */
function debian12Record(source: string, fixed: string): string {
  const rec = JSON.parse((RECORD_TEXTS['DLA-3008-1'] as { text: string }).text) as {
    id: string;
    affected: Array<{
      package: { name: string; ecosystem: string };
      ranges: Array<{ events: Array<Record<string, string>> }>;
    }>;
  };
  rec.id = 'DLA-9999-1';
  for (const a of rec.affected) {
    a.package = { name: source, ecosystem: 'Debian:12' };
    a.ranges = [{ ...a.ranges[0], events: [{ introduced: '0' }, { fixed }] } as (typeof a.ranges)[number]];
  }
  return JSON.stringify(rec);
}

test('scan: the image OS packages are matched in Debian order; a missing distro is a warning', { skip }, (t) => {
  if ('skip' in img) return;
  const dir = tempDir(t);
  const inv = JSON.parse(k3sguard(['inspect', '--json', '--no-progress', img.airgapZst]).stdout) as InvJson;
  const bash = inv.root.children[0]?.children.find((c) => c.type === 'os-package' && c.name === 'bash');
  assert.ok(bash?.version, 'bash is installed in minbase');
  const source = (bash as { source?: { name: string; version: string } }).source as { name: string; version: string };
  const records = join(dir, 'records');
  execFileSync('mkdir', ['-p', records]);
  writeFileSync(join(records, 'DLA-9999-1.json'), debian12Record(source.name, `${source.version}.1`));
  const db = join(dir, 'db.sqlite');
  assert.equal(k3sguard(['db', 'import', '--db', db, '--no-progress', records]).code, 0);
  const r = k3sguard(['scan', '--db', db, '--format', 'json', '--no-progress', img.airgapZst]);
  assert.equal(r.code, 1, r.stderr);
  const findings = (JSON.parse(r.stdout) as { findings: Array<{ vulnerability?: { via: string; module: string } }> })
    .findings;
  const os = findings.filter((f) => f.vulnerability?.via === 'os-package');
  assert.deepEqual(
    os.map((f) => f.vulnerability?.module),
    [source.name],
  );
  const table = k3sguard(['scan', '--db', db, '--no-progress', img.airgapZst]);
  // Matched on its source package: the table says so, with that package's version.
  assert.match(
    table.stdout,
    new RegExp(`\\n {2}${source.name} \\(source\\) +${source.version.replace(/[.+]/g, '\\$&')} `),
  );
  assert.doesNotMatch(table.stdout, /not known|symbol/, 'no reachability talk for an OS package');
  // Fixed at the installed version: nothing.
  writeFileSync(join(records, 'DLA-9999-1.json'), debian12Record(source.name, source.version));
  const db2 = join(dir, 'db2.sqlite');
  assert.equal(k3sguard(['db', 'import', '--db', db2, '--no-progress', records]).code, 0);
  const clean = k3sguard(['scan', '--db', db2, '--format', 'json', '--no-progress', img.airgapZst]);
  assert.equal(clean.code, 0, clean.stderr);

  // A database without Debian records says so instead of looking clean.
  const goOnly = join(dir, 'go');
  execFileSync('mkdir', ['-p', goOnly]);
  const goRecord = JSON.parse(debian12Record('x', '1')) as { affected: Array<{ package: { ecosystem: string } }> };
  for (const a of goRecord.affected) a.package.ecosystem = 'Go';
  writeFileSync(join(goOnly, 'GO-1.json'), JSON.stringify({ ...goRecord, id: 'GO-2099-0001' }));
  const db3 = join(dir, 'db3.sqlite');
  assert.equal(k3sguard(['db', 'import', '--db', db3, '--no-progress', goOnly]).code, 0);
  const warned = k3sguard(['scan', '--db', db3, '--no-progress', img.airgapZst]);
  assert.match(warned.stderr, /no Debian records: the image's Debian packages were not checked/);
});

test('verify: a clean image verifies; every tamper variant fails (exit 1) naming the problem', { skip }, (t) => {
  if ('skip' in img) return;
  const cwd = tempDir(t);
  const ok = k3sguard(['verify', img.airgapZst], { cwd });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /OK\s+image .*1 image\(s\).*consistent/);
  const cases = [
    ['layer-byte', /K3SG-IMAGE-BLOB-DIGEST/],
    ['missing-blob', /K3SG-IMAGE-BLOB-MISSING/],
    ['wrong-diffid', /K3SG-IMAGE-DIFFID/],
    ['truncated-insert', /K3SG-IMAGE-LAYER-UNREADABLE: .*not a complete tar/],
    ['huge-member-size', /K3SG-IMAGE-LAYER-UNREADABLE/],
  ] as const;
  for (const [v, problem] of cases) {
    const r = k3sguard(['verify', debianVariant(img, v)], { cwd });
    assert.equal(r.code, 1, `${v}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, problem, v);
    assert.match(r.stdout, /NOT VERIFIED/);
  }
  // Hostile layer members are contents, not integrity: verify passes, inspect reports them.
  const hostile = debianVariant(img, 'dotdot-member');
  assert.equal(k3sguard(['verify', hostile], { cwd }).code, 0);
  const inspected = k3sguard(['inspect', '--json', '--no-progress', hostile], { cwd });
  assert.equal(inspected.code, 1);
  assert.deepEqual(
    (JSON.parse(inspected.stdout) as InvJson).findings.map((f) => f.id),
    ['K3SG-IMAGE-LAYER-PATH'],
  );
  assert.deepEqual(readdirSync(cwd), []);
});

test('verify --images-list and --policy: extra and missing images, registries, digests', { skip }, (t) => {
  if ('skip' in img) return;
  const dir = tempDir(t);
  const list = join(dir, 'k3s-images.txt');
  writeFileSync(list, `${DEBIAN_NAME}\n`);
  assert.equal(k3sguard(['verify', '--images-list', list, img.airgapZst]).code, 0);
  const extra = k3sguard(['verify', '--images-list', list, img.extraImageTar]);
  assert.equal(extra.code, 1);
  assert.match(extra.stdout, new RegExp(`UNEXPECTED .*K3SG-IMAGE-EXTRA.*${DEBIAN_EXTRA_NAME.replace(/[.]/g, '\\.')}`));
  writeFileSync(list, `${DEBIAN_NAME}\ndocker.io/rancher/mirrored-pause:3.6\n`);
  const missing = k3sguard(['verify', '--images-list', list, img.airgapZst]);
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /MISSING .*K3SG-IMAGE-MISSING.*mirrored-pause:3\.6/);

  const policy = join(dir, 'policy.yaml');
  const write = (images: string) =>
    writeFileSync(policy, `apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n${images}`);
  write('  allowedRegistries: [docker.io]\n  allowedRepositories: ["docker.io/k3sguard/**"]\n');
  assert.equal(k3sguard(['verify', '--policy', policy, img.airgapZst]).code, 0);
  write('  allowedRegistries: [registry.example.com]\n');
  const registry = k3sguard(['verify', '--policy', policy, img.airgapZst]);
  assert.equal(registry.code, 1);
  assert.match(registry.stdout, /K3SG-POLICY-REGISTRY/);
  write('  allowedRegistries: [docker.io]\n  requireDigest: true\n');
  const digest = k3sguard(['verify', '--policy', policy, img.airgapZst]);
  assert.equal(digest.code, 1);
  assert.match(digest.stdout, /K3SG-POLICY-DIGEST/);
  // A broken policy is a usage error naming the file, line and column.
  writeFileSync(policy, 'apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages:\n  allowedRegistries: [docker.io\n');
  assertInputError(k3sguard(['verify', '--policy', policy, img.airgapZst]), policy, /:\d+:\d+/);
});

test('lock add of an image archive records its images; verify --lock; a tampered archive is never locked', {
  skip,
}, (t) => {
  if ('skip' in img) return;
  const dir = tempDir(t);
  const archive = join(dir, 'k3s-airgap-images-amd64.tar.zst');
  copyFileSync(img.airgapZst, archive);
  const lock = join(dir, 'k3sguard.lock');
  const added = k3sguard(['lock', 'add', '--lock', lock, archive]);
  assert.equal(added.code, 0, added.stdout + added.stderr);
  const locked = JSON.parse(readFileSync(lock, 'utf8')) as {
    artifacts: Array<{
      name: string;
      sha256: string;
      size: number;
      images?: Array<{ name?: string; digest: string; platform?: string }>;
    }>;
  };
  const entry = locked.artifacts[0];
  // Both from the image read that checked the archive (no second read): they are the file's.
  assert.equal(entry?.sha256, sha256File(archive));
  assert.equal(entry?.size, statSync(archive).size);
  assert.deepEqual(
    entry?.images?.map((i) => [i.name, i.platform]),
    [[DEBIAN_NAME, 'linux/amd64']],
  );
  assert.match(entry?.images?.[0]?.digest ?? '', /^sha256:[0-9a-f]{64}$/);
  assert.equal(k3sguard(['verify', '--lock', lock, archive]).code, 0);

  const bad = join(dir, 'k3s-airgap-images-arm64.tar');
  copyFileSync(debianVariant(img, 'wrong-diffid'), bad);
  const before = readFileSync(lock, 'utf8');
  const refused = k3sguard(['lock', 'add', '--lock', lock, bad]);
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /K3SG-IMAGE-DIFFID/);
  assert.equal(readFileSync(lock, 'utf8'), before, 'the lock is unchanged');
});

test('bad image input: one line naming the file, exit 2, nothing written', { skip }, (t) => {
  if ('skip' in img) return;
  const dir = tempDir(t);
  const cwd = tempDir(t);
  const cut = join(dir, 'cut.tar.zst');
  const whole = readFileSync(img.airgapZst);
  writeFileSync(cut, whole.subarray(0, whole.length >> 1));
  for (const cmd of ['inspect', 'verify', 'sbom']) {
    assertInputError(
      k3sguard(
        [cmd, '--no-progress', cut].filter((a) => cmd !== 'verify' || a !== '--no-progress'),
        { cwd },
      ),
      cut,
      /truncated|corrupt/,
    );
  }
  const notImage = join(dir, 'files.tar');
  execFileSync('tar', ['-cf', notImage, '-C', '/etc', 'hostname']);
  assertInputError(
    k3sguard(['inspect', notImage], { cwd }),
    notImage,
    /neither index\.json \(OCI\) nor manifest\.json/,
  );
  assertInputError(k3sguard(['inspect', '--platform', 'amd64', img.airgapZst], { cwd }), '', /--platform "amd64"/);
  const noList = join(dir, 'absent.txt');
  assertInputError(
    k3sguard(['inspect', '--images-list', noList, img.airgapZst], { cwd }),
    noList,
    /--images-list: no such file/,
  );
  assert.deepEqual(readdirSync(cwd), []);
});

test('a layer bomb stops at --max-layer-size with one line, exit 2; under the limit it reads', (t) => {
  const dir = tempDir(t);
  const cwd = tempDir(t);
  const layout = bombLayout(dir);
  for (const cmd of ['inspect', 'verify', 'sbom']) {
    const r = k3sguard([cmd, '--max-layer-size', '64MiB', layout], { cwd });
    assertInputError(r, layout, /decompresses to more than 67108864 bytes/);
  }
  const ok = k3sguard(['verify', layout], { cwd });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.deepEqual(readdirSync(cwd), []);
});
