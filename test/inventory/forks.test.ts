import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forkUpstream } from '../../src/inventory/forks.ts';

// `replace` lines as K3s's go.mod writes them (release branches and main).
const CASES: Array<[string, string, string, string, { path: string; version: string } | undefined]> = [
  [
    'k8s.io/kubernetes',
    'v1.31.4',
    'github.com/k3s-io/kubernetes',
    'v1.31.4-k3s1',
    { path: 'k8s.io/kubernetes', version: 'v1.31.4' },
  ],
  [
    'k8s.io/client-go',
    'v0.31.4',
    'github.com/k3s-io/kubernetes/staging/src/k8s.io/client-go',
    'v1.31.4-k3s1',
    { path: 'k8s.io/client-go', version: 'v0.31.4' },
  ],
  [
    'k8s.io/api',
    'v0.37.0-rc.0',
    'github.com/vitorsavian/kubernetes/staging/src/k8s.io/api',
    'v1.37.0-rc.1-vs1',
    { path: 'k8s.io/api', version: 'v0.37.0-rc.1' },
  ],
  [
    'github.com/containerd/containerd',
    'v1.7.23',
    'github.com/k3s-io/containerd',
    'v1.7.23-k3s2',
    { path: 'github.com/containerd/containerd', version: 'v1.7.23' },
  ],
  [
    'go.etcd.io/etcd/server/v3',
    'v3.7.1',
    'github.com/brandond/etcd/server/v3',
    'v3.7.1-bd1',
    { path: 'go.etcd.io/etcd/server/v3', version: 'v3.7.1' },
  ],
  [
    'sigs.k8s.io/cri-tools',
    'v0.35.1',
    'github.com/k3s-io/cri-tools',
    'v1.36.0-k3s1',
    { path: 'sigs.k8s.io/cri-tools', version: 'v1.36.0' },
  ],
  [
    'github.com/Mirantis/cri-dockerd',
    'v0.3.19',
    'github.com/k3s-io/cri-dockerd',
    'v0.3.19-k3s5',
    { path: 'github.com/Mirantis/cri-dockerd', version: 'v0.3.19' },
  ],
  // A pseudo-version fork: the required version is all we know.
  [
    'github.com/k3s-io/kine',
    'v0.16.3',
    'github.com/brandond/kine',
    'v0.16.4-0.20260812231043-d5100ab98ae2',
    { path: 'github.com/k3s-io/kine', version: 'v0.16.3' },
  ],
  // Same path: a version pin, not a fork.
  ['github.com/opencontainers/runc', 'v1.1.5', 'github.com/opencontainers/runc', 'v1.4.2', undefined],
  [
    'github.com/docker/distribution',
    'v2.8.3+incompatible',
    'github.com/docker/distribution',
    'v2.8.3+incompatible',
    undefined,
  ],
  // A local directory replacement has no version.
  ['github.com/k3s-io/k3s/pkg/x', 'v0.0.0', '../x', '', undefined],
  ['github.com/k3s-io/k3s/pkg/x', 'v0.0.0', './x', '(devel)', undefined],
];

for (const [path, version, rpath, rversion, want] of CASES) {
  test(`fork: ${path} => ${rpath} ${rversion}`, () => {
    assert.deepEqual(forkUpstream({ path, version }, { path: rpath, version: rversion }), want);
  });
}
