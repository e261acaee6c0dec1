// K3s identity: the version and commit K3s's build sets with -X, read from the build settings
// of real K3s-shaped binaries built by Debian's Go (see goprobe.ts) and from module lists in
// the shape K3s's scripts/build produces; the string-variable fallback for binaries whose
// build settings do not record -ldflags (Go <= 1.17, or -trimpath).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FileSource, fileSource } from '../../src/io/bytesource.ts';
import type { GoBuildInfo } from '../../src/model/inventory.ts';
import { readBinary } from '../../src/readers/go/binary.ts';
import { parseModInfo } from '../../src/readers/go/modinfo.ts';
import { k3sIdentity, linkerVars } from '../../src/readers/k3sidentity.ts';
import { realBinary } from '../fixtures/realbins.ts';
import { PROBE_COMMIT, PROBE_VERSION, probeBinary } from './goprobe.ts';

function goInfo(src: FileSource): GoBuildInfo {
  const info = readBinary(src);
  assert.equal(info.format, 'go');
  if (info.format !== 'go') throw new Error('not go');
  return info.buildInfo;
}

/** Build info as a K3s binary records it: `path`/`mod` lines and a Go-quoted -ldflags line. */
function modinfo(main: string, path: string, ldflags: string | undefined): GoBuildInfo {
  const lines = [`path\t${path}`, `mod\t${main}\t(devel)\t`, 'dep\tgithub.com/k3s-io/helm-controller\tv0.16.5\th1:x='];
  lines.push('build\t-buildmode=exe', 'build\t-compiler=gc');
  if (ldflags !== undefined) lines.push(`build\t-ldflags=${JSON.stringify(ldflags)}`);
  lines.push('build\t-tags=ctrd,netcgo,osusergo,providerless', 'build\tCGO_ENABLED=1');
  const parsed = parseModInfo(`${lines.join('\n')}\n`, 'k3s');
  return { encoding: 'inline', goVersion: 'go1.22.9', ...parsed };
}

// The VERSIONFLAGS of k3s-io/k3s scripts/build, as the go command records them (newlines
// become spaces), followed by LDFLAGS and the static build's -extldflags.
const K3S_LDFLAGS = [
  '     -X github.com/k3s-io/k3s/pkg/version.Version=v1.31.4+k3s1',
  '    -X github.com/k3s-io/k3s/pkg/version.GitCommit=a3f5c1b2',
  '     -X k8s.io/client-go/pkg/version.gitVersion=v1.31.4+k3s1',
  '    -X k8s.io/client-go/pkg/version.gitCommit=a3f5c1b2e4d6f8a0b1c2d3e4f5a6b7c8d9e0f1a2',
  '    -X github.com/containerd/containerd/version.Version=v1.7.23-k3s2',
  '    -X github.com/containerd/containerd/version.Package=github.com/k3s-io/containerd',
  "    -X github.com/k3s-io/helm-controller/pkg/controllers/chart.DefaultJobImage=rancher/klipper-helm:v0.9.3-build20241008  -w -s  -extldflags '-static -lm -ldl -lz -lpthread' ",
].join('');

test('K3s ldflags in the shape of scripts/build give version and commit', () => {
  const info = modinfo('github.com/k3s-io/k3s', 'github.com/k3s-io/k3s/cmd/server', K3S_LDFLAGS);
  assert.deepEqual(k3sIdentity(info), {
    modulePath: 'github.com/k3s-io/k3s',
    version: 'v1.31.4+k3s1',
    commit: 'a3f5c1b2',
    source: 'ldflags',
  });
});

test('the old module path github.com/rancher/k3s', () => {
  const flags =
    '-w -s -X github.com/rancher/k3s/pkg/version.Version=v1.19.5+k3s2 -X github.com/rancher/k3s/pkg/version.GitCommit=746cf403';
  const info = modinfo('github.com/rancher/k3s', 'github.com/rancher/k3s/cmd/server', flags);
  assert.deepEqual(k3sIdentity(info), {
    modulePath: 'github.com/rancher/k3s',
    version: 'v1.19.5+k3s2',
    commit: '746cf403',
    source: 'ldflags',
  });
});

test('-X=name=value, --X, quoted words and release candidates', () => {
  const flags =
    '-X=github.com/k3s-io/k3s/pkg/version.Version=v1.32.4-rc1+k3s1 ' +
    `--X "github.com/k3s-io/k3s/pkg/version.GitCommit=0123abcd" -X 'other.Var=a b'`;
  const id = k3sIdentity(modinfo('github.com/k3s-io/k3s', 'github.com/k3s-io/k3s/cmd/k3s', flags));
  assert.equal(id?.version, 'v1.32.4-rc1+k3s1');
  assert.equal(id?.commit, '0123abcd');
  const vars = linkerVars(`-X=a.B='v1.2.3+k3s1' -X "c.D=x y" -X e.F=1 -X e.F=2`);
  assert.deepEqual(
    [...vars],
    [
      ['a.B', 'v1.2.3+k3s1'],
      ['c.D', 'x y'],
      ['e.F', '2'],
    ],
  );
});

test('a development build version is kept whole; (devel) is never a version', () => {
  const dev = '-X github.com/k3s-io/k3s/pkg/version.Version=v1.31.4+k3s-abcdef12-dirty';
  assert.equal(
    k3sIdentity(modinfo('github.com/k3s-io/k3s', 'github.com/k3s-io/k3s/cmd/server', dev))?.version,
    'v1.31.4+k3s-abcdef12-dirty',
  );
  const devel = '-X github.com/k3s-io/k3s/pkg/version.Version=(devel)';
  const id = k3sIdentity(modinfo('github.com/k3s-io/k3s', 'github.com/k3s-io/k3s/cmd/server', devel));
  assert.deepEqual(id, { modulePath: 'github.com/k3s-io/k3s', source: 'ldflags' });
  const none = k3sIdentity(modinfo('github.com/k3s-io/k3s', 'github.com/k3s-io/k3s/cmd/server', '-w -s'));
  assert.deepEqual(none, { modulePath: 'github.com/k3s-io/k3s', source: 'ldflags' });
  assert.equal(none?.version, undefined, 'the (devel) main module version is not used');
});

test('a module that is not K3s has no K3s identity', (t) => {
  const info = modinfo('github.com/k3s-io/k3s-extra', 'github.com/k3s-io/k3s-extra', K3S_LDFLAGS);
  assert.equal(k3sIdentity(info), undefined, 'a path that only starts with the K3s path');
  const bin = realBinary('esbuild-0.24.2');
  if ('skip' in bin) return t.skip(bin.skip);
  const src = fileSource(bin.path);
  try {
    assert.equal(k3sIdentity(goInfo(src), src), undefined);
  } finally {
    src.close();
  }
});

for (const goarch of ['amd64', '386', 's390x', 'mips']) {
  test(`real K3s-shaped binary (GOARCH=${goarch}): ldflags, and the string-variable fallback`, (t) => {
    const probe = probeBinary(goarch);
    if ('skip' in probe) return t.skip(probe.skip);
    const src = fileSource(probe.path);
    try {
      const info = goInfo(src);
      assert.deepEqual(k3sIdentity(info, src), {
        modulePath: 'github.com/k3s-io/k3s',
        version: PROBE_VERSION,
        commit: PROBE_COMMIT,
        source: 'ldflags',
      });
      // As a Go <= 1.17 build would record it: no build settings at all.
      const old = { ...info, settings: [] };
      assert.deepEqual(k3sIdentity(old, src), {
        modulePath: 'github.com/k3s-io/k3s',
        version: PROBE_VERSION,
        source: 'strings',
      });
      assert.equal(k3sIdentity(old)?.version, undefined, 'without the binary, no version');
    } finally {
      src.close();
    }
  });
}

test('-trimpath build: Go leaves -ldflags out, the version comes from the binary', (t) => {
  const probe = probeBinary('amd64', { trimpath: true });
  if ('skip' in probe) return t.skip(probe.skip);
  const src = fileSource(probe.path);
  try {
    const info = goInfo(src);
    assert.ok(!info.settings.some((s) => s.key === '-ldflags'), 'no -ldflags recorded');
    assert.deepEqual(k3sIdentity(info, src), {
      modulePath: 'github.com/k3s-io/k3s',
      version: PROBE_VERSION,
      source: 'strings',
    });
  } finally {
    src.close();
  }
});
