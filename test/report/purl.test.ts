import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Component, FileComponent } from '../../src/model/inventory.ts';
import {
  componentPurl,
  encodePurlSegment,
  genericFilePurl,
  goModulePurl,
  goStdlibPurl,
  goStdlibVersion,
  k3sPurl,
} from '../../src/model/purl.ts';
import { sha } from './inventories.ts';

/**
 * Parse a purl the way the specification's parsing rules do (split `#`, `?`, the scheme, the
 * type, `@` from the right, then namespace segments and name, percent-decoding each), so a
 * test can check that what was built reads back as what went in.
 */
function parsePurl(purl: string): {
  type: string;
  namespace: string[];
  name: string;
  version?: string;
  qualifiers?: string;
} {
  assert.ok(purl.startsWith('pkg:'), purl);
  let rest = purl.slice(4);
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  let qualifiers: string | undefined;
  const q = rest.indexOf('?');
  if (q >= 0) {
    qualifiers = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const slash = rest.indexOf('/');
  const type = rest.slice(0, slash);
  rest = rest.slice(slash + 1);
  let version: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    version = decodeURIComponent(rest.slice(at + 1));
    rest = rest.slice(0, at);
  }
  const segments = rest.split('/').map(decodeURIComponent);
  const name = segments.pop() ?? '';
  const out: ReturnType<typeof parsePurl> = { type, namespace: segments, name };
  if (version !== undefined) out.version = version;
  if (qualifiers !== undefined) out.qualifiers = qualifiers;
  return out;
}

// The purl spec's "permitted characters" of a canonical purl.
const PERMITTED = /^[A-Za-z0-9.\-_~%:/@?=&#]+$/;

test('golang purls match the purl specification examples', () => {
  assert.equal(
    goModulePurl('github.com/gorilla/context', '234fd47e07d1004f0aed9c'),
    'pkg:golang/github.com/gorilla/context@234fd47e07d1004f0aed9c',
  );
  assert.equal(goModulePurl('google.golang.org/genproto', undefined), 'pkg:golang/google.golang.org/genproto');
  assert.deepEqual(parsePurl(goModulePurl('github.com/gorilla/context', '234fd47e07d1004f0aed9c')), {
    type: 'golang',
    namespace: ['github.com', 'gorilla'],
    name: 'context',
    version: '234fd47e07d1004f0aed9c',
  });
});

test('namespace is every module path segment but the last; major version suffixes are the name', () => {
  assert.deepEqual(parsePurl(goModulePurl('go.etcd.io/etcd/server/v3', 'v3.5.16')), {
    type: 'golang',
    namespace: ['go.etcd.io', 'etcd', 'server'],
    name: 'v3',
    version: 'v3.5.16',
  });
  assert.equal(goModulePurl('/github.com//foo/bar/', 'v1.0.0'), 'pkg:golang/github.com/foo/bar@v1.0.0');
  assert.throws(() => goModulePurl('//', 'v1.0.0'), TypeError);
});

test('a + in a version is %2B: K3s releases and +incompatible', () => {
  assert.equal(k3sPurl('v1.31.4+k3s1'), 'pkg:golang/github.com/k3s-io/k3s@v1.31.4%2Bk3s1');
  assert.equal(k3sPurl('v1.19.1+k3s1', 'github.com/rancher/k3s'), 'pkg:golang/github.com/rancher/k3s@v1.19.1%2Bk3s1');
  assert.equal(
    goModulePurl('github.com/docker/docker', 'v27.1.1+incompatible'),
    'pkg:golang/github.com/docker/docker@v27.1.1%2Bincompatible',
  );
  assert.equal(parsePurl(k3sPurl('v1.32.0-rc1+k3s2')).version, 'v1.32.0-rc1+k3s2');
});

test('(devel) and empty versions are not versions', () => {
  assert.equal(goModulePurl('github.com/k3s-io/k3s', '(devel)'), 'pkg:golang/github.com/k3s-io/k3s');
  assert.equal(goModulePurl('github.com/k3s-io/k3s', ''), 'pkg:golang/github.com/k3s-io/k3s');
});

test('module path case is kept (Go module paths are case-sensitive)', () => {
  assert.equal(goModulePurl('github.com/BurntSushi/toml', 'v1.4.0'), 'pkg:golang/github.com/BurntSushi/toml@v1.4.0');
  assert.equal(
    goModulePurl('github.com/Microsoft/hcsshim', 'v0.12.6'),
    'pkg:golang/github.com/Microsoft/hcsshim@v0.12.6',
  );
});

test('each segment is percent-encoded and reads back unchanged', () => {
  // Alphanumerics, `.-_~` and the colon are never encoded; everything else is, as UTF-8.
  assert.equal(encodePurlSegment('aZ09.-_~:'), 'aZ09.-_~:');
  assert.equal(encodePurlSegment('a b+c@d/e#f?g&h=i%j'), 'a%20b%2Bc%40d%2Fe%23f%3Fg%26h%3Di%25j');
  assert.equal(encodePurlSegment('ü'), '%C3%BC');
  const hostile = { path: 'example.com/a b/ü@x#y?z', version: 'v1.0.0+meta/with/slash@at' };
  const purl = goModulePurl(hostile.path, hostile.version);
  assert.match(purl, PERMITTED);
  assert.deepEqual(parsePurl(purl), {
    type: 'golang',
    namespace: ['example.com', 'a b'],
    name: 'ü@x#y?z',
    version: hostile.version,
  });
});

test('stdlib: pkg:golang/stdlib at the Go version as the vulnerability database writes it', () => {
  const cases: Array<[string, string | undefined]> = [
    ['go1.22.0', '1.22.0'],
    ['go1.23.8', '1.23.8'],
    ['go1.25.1 X:nodwarf5', '1.25.1'],
    ['go1.20.1 X:boringcrypto', '1.20.1'],
    ['go1.20', '1.20.0'],
    ['go1.21rc2', '1.21.0-rc.2'],
    ['go1.18beta1', '1.18.0-beta.1'],
    ['go1.22.5-1', '1.22.5-1'],
    ['devel go1.23-1a2b3c4d Tue Jul 2 10:00:00 2024 +0000', undefined],
    ['', undefined],
  ];
  for (const [goVersion, want] of cases) assert.equal(goStdlibVersion(goVersion), want, goVersion);
  assert.equal(goStdlibPurl('go1.22.0'), 'pkg:golang/stdlib@1.22.0');
  assert.equal(goStdlibPurl('go1.25.1 X:nodwarf5'), 'pkg:golang/stdlib@1.25.1');
  assert.equal(goStdlibPurl('devel go1.23-1a2b3c4d'), 'pkg:golang/stdlib');
});

test('generic file purls carry the checksum qualifier (purl spec generic example)', () => {
  assert.equal(
    genericFilePurl('openssl', 'de4d501267da', '1.1.10g'),
    'pkg:generic/openssl@1.1.10g?checksum=sha256:de4d501267da',
  );
  const h = sha('runc');
  assert.equal(genericFilePurl('runc', h), `pkg:generic/runc?checksum=sha256:${h}`);
  assert.equal(parsePurl(genericFilePurl('a b', h)).name, 'a b');
});

function file(over: Partial<FileComponent>): FileComponent {
  return {
    type: 'file',
    ref: 'bin/runc',
    name: 'runc',
    path: 'bin/runc',
    location: ['k3s', 'bin/runc'],
    size: 1,
    sha256: sha('runc'),
    binary: { format: 'other', detail: 'data' },
    children: [],
    ...over,
  };
}

test('componentPurl: the K3s purl only with a K3s version, else a generic purl of the hashed file', () => {
  assert.equal(
    componentPurl(file({ k3s: { modulePath: 'github.com/k3s-io/k3s', version: 'v1.31.4+k3s1', source: 'ldflags' } })),
    'pkg:golang/github.com/k3s-io/k3s@v1.31.4%2Bk3s1',
  );
  // A K3s binary that does not say its version must not claim every version (k3s-io/k3s#8618).
  assert.equal(
    componentPurl(file({ k3s: { modulePath: 'github.com/k3s-io/k3s', source: 'strings' } })),
    `pkg:generic/runc?checksum=sha256:${sha('runc')}`,
  );
  assert.equal(componentPurl(file({ sha256: '' })), undefined);
  const link: Component = {
    type: 'symlink',
    ref: 'l',
    name: 'kubectl',
    path: 'bin/kubectl',
    location: [],
    target: 'k3s',
  };
  assert.equal(componentPurl(link), undefined);
});

test('componentPurl: a Go module is reported as the module that was built', () => {
  const fork: Component = {
    type: 'go-module',
    ref: 'm',
    name: 'github.com/k3s-io/kubernetes',
    location: [],
    role: 'dep',
    module: { path: 'k8s.io/kubernetes', version: 'v1.31.4' },
    replacement: { path: 'github.com/k3s-io/kubernetes', version: 'v1.31.4-k3s1' },
  };
  assert.equal(componentPurl(fork), 'pkg:golang/github.com/k3s-io/kubernetes@v1.31.4-k3s1');
  const local: Component = { ...fork, replacement: { path: '../kubernetes', version: '' } };
  assert.equal(componentPurl(local), 'pkg:golang/k8s.io/kubernetes@v1.31.4');
  const stdlib: Component = { type: 'go-stdlib', ref: 's', name: 'stdlib', location: [], goVersion: 'go1.23.8' };
  assert.equal(componentPurl(stdlib), 'pkg:golang/stdlib@1.23.8');
});
