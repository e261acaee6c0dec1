import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInputError } from '../../src/model/errors.ts';
import { checkImageReferences, evaluateImagePolicy } from '../../src/policy/evaluate.ts';
import { compileRepositoryGlob, globMatches } from '../../src/policy/glob.ts';
import { parseImagePolicy } from '../../src/policy/image-policy.ts';
import { parseImagesList } from '../../src/readers/images/refs.ts';

const PAUSE_DIGEST = `sha256:${'7'.repeat(64)}`;

// An airgap site mirroring Rancher's images, pinning digests.
const STRICT = `# production clusters
apiVersion: k3sguard.dev/v1
kind: ImagePolicy
images:
  allowedRegistries: [docker.io, registry.example.com:5000]
  allowedRepositories:
    - "docker.io/rancher/*"
    - "registry.example.com:5000/**"
  requireDigest: true
  requireSignature:
    keyless:
      issuer: https://token.actions.githubusercontent.com
      identityRegexp: "^https://github.com/k3s-io/"
`;

// Registries only, tags allowed.
const REGISTRIES_ONLY = `apiVersion: k3sguard.dev/v1
kind: ImagePolicy
images:
  allowedRegistries:
    - index.docker.io
    - ghcr.io
  requireSignature: { key: keys/org.pub }
`;

// Repository globs only, `**` in the middle.
const GLOBS = `apiVersion: k3sguard.dev/v1
kind: ImagePolicy
images:
  allowedRepositories: ["ghcr.io/acme/**/runtime", "docker.io/library/busybox"]
`;

// k3s-images.txt of a K3s v1.31 release.
const K3S_IMAGES = `docker.io/rancher/klipper-helm:v0.9.3-build20241008
docker.io/rancher/klipper-lb:v0.4.9
docker.io/rancher/local-path-provisioner:v0.0.30
docker.io/rancher/mirrored-coredns-coredns:1.11.3
docker.io/rancher/mirrored-library-busybox:1.36.1
docker.io/rancher/mirrored-library-traefik:2.11.10
docker.io/rancher/mirrored-metrics-server:v0.7.2
docker.io/rancher/mirrored-pause:3.6
`;

function ids(findings: Array<{ id: string }>): string[] {
  return findings.map((f) => f.id);
}

function parseError(text: string): string {
  try {
    parseImagePolicy('policy.yaml', text);
  } catch (e) {
    assert.ok(isInputError(e));
    assert.equal(e.code, 'POLICY_INVALID');
    assert.equal(e.file, 'policy.yaml');
    return e.message;
  }
  assert.fail('policy parsed');
}

describe('parseImagePolicy', () => {
  it('reads a full policy', () => {
    const p = parseImagePolicy('prod.yaml', STRICT);
    assert.deepEqual(p.allowedRegistries, ['docker.io', 'registry.example.com:5000']);
    assert.deepEqual(
      p.allowedRepositories?.map((g) => g.pattern),
      ['docker.io/rancher/*', 'registry.example.com:5000/**'],
    );
    assert.equal(p.requireDigest, true);
    assert.deepEqual(p.requireSignature, {
      kind: 'keyless',
      issuer: 'https://token.actions.githubusercontent.com',
      identity: { regexp: '^https://github.com/k3s-io/' },
    });
  });

  it('normalizes Docker Hub host aliases and defaults requireDigest to false', () => {
    const p = parseImagePolicy('p.yaml', REGISTRIES_ONLY);
    assert.deepEqual(p.allowedRegistries, ['docker.io', 'ghcr.io']);
    assert.equal(p.allowedRepositories, undefined);
    assert.equal(p.requireDigest, false);
    assert.deepEqual(p.requireSignature, { kind: 'key', key: 'keys/org.pub' });
  });

  it('rejects an unknown key at its line and column, listing the allowed ones', () => {
    const msg = parseError(STRICT.replace('requireDigest: true', 'requireDigests: true'));
    assert.match(msg, /^policy\.yaml:9:3: unknown key "requireDigests" in images; allowed: .*requireDigest/);
  });

  it('rejects wrong types with file:line:col', () => {
    assert.match(
      parseError(STRICT.replace('requireDigest: true', 'requireDigest: "yes"')),
      /^policy\.yaml:9:18: requireDigest must be true or false/,
    );
    assert.match(
      parseError(REGISTRIES_ONLY.replace('    - index.docker.io\n    - ghcr.io', '    ghcr.io')),
      /^policy\.yaml:5:5: allowedRegistries must be a list/,
    );
    assert.match(
      parseError(STRICT.replace('- "docker.io/rancher/*"', '- 42')),
      /^policy\.yaml:7:7: each entry of allowedRepositories must be a non-empty string/,
    );
  });

  it('rejects bad globs and hosts, saying what to write', () => {
    assert.match(
      parseError(GLOBS.replace('docker.io/library/busybox', 'library/busybox')),
      /^policy\.yaml:4:52: "library\/busybox" must start with a registry host .* write "docker\.io\/library\/busybox"/,
    );
    assert.match(
      parseError(GLOBS.replace('ghcr.io/acme/**/runtime', 'ghcr.io/acme**')),
      /"\*\*" must be a whole path segment/,
    );
    assert.match(parseError(GLOBS.replace('ghcr.io/acme/**/runtime', 'ghcr.io')), /write "ghcr\.io\/\*\*"/);
    assert.match(parseError(GLOBS.replace('ghcr.io/acme/**/runtime', 'ghcr.io/Acme/x')), /invalid path segment "Acme"/);
    assert.match(
      parseError(REGISTRIES_ONLY.replace('ghcr.io', 'https://ghcr.io')),
      /^policy\.yaml:6:7: "https:\/\/ghcr\.io" is not a registry host/,
    );
  });

  it('rejects wrong versions, kinds, duplicates and bad YAML', () => {
    assert.match(
      parseError(STRICT.replace('k3sguard.dev/v1', 'k3sguard.dev/v2')),
      /^policy\.yaml:2:13: unsupported apiVersion; this k3sguard reads "k3sguard\.dev\/v1"/,
    );
    assert.match(
      parseError(STRICT.replace('apiVersion: k3sguard.dev/v1\n', '')),
      /missing "apiVersion: k3sguard\.dev\/v1"/,
    );
    assert.match(
      parseError(STRICT.replace('kind: ImagePolicy', 'kind: Policy')),
      /^policy\.yaml:3:7: kind must be "ImagePolicy"/,
    );
    assert.match(
      parseError(`${GLOBS}  requireDigest: true\n  requireDigest: false\n`),
      /^policy\.yaml:6:3: not valid YAML: Map keys must be unique/,
    );
    assert.match(parseError('apiVersion: [unclosed\n'), /^policy\.yaml:\d+:\d+: not valid YAML/);
    assert.match(parseError(''), /empty policy/);
    assert.match(parseError('- a\n- b\n'), /^policy\.yaml:1:1: the policy must be a mapping/);
  });

  it('rejects signature requirements that are ambiguous or incomplete', () => {
    assert.match(parseError(REGISTRIES_ONLY.replace('{ key: keys/org.pub }', '{}')), /exactly one of "key/);
    assert.match(
      parseError(STRICT.replace('      identityRegexp: "^https://github.com/k3s-io/"\n', '')),
      /^policy\.yaml:12:7: keyless takes exactly one of "identity:"/,
    );
    assert.match(
      parseError(STRICT.replace('"^https://github.com/k3s-io/"', '"(unclosed"')),
      /^policy\.yaml:13:23: identityRegexp is not a valid regular expression/,
    );
    assert.match(
      parseError(STRICT.replace('      issuer: https://token.actions.githubusercontent.com\n', '')),
      /keyless needs "issuer:"/,
    );
  });
});

describe('repository globs', () => {
  function matches(pattern: string, repository: string): boolean {
    const g = compileRepositoryGlob(pattern);
    assert.ok(!('error' in g), pattern);
    return globMatches(g, repository);
  }

  it('* stays inside one path segment', () => {
    assert.ok(matches('docker.io/rancher/*', 'docker.io/rancher/mirrored-pause'));
    assert.ok(!matches('docker.io/rancher/*', 'docker.io/rancher/sub/image'));
    assert.ok(!matches('docker.io/rancher/*', 'docker.io/rancherx/image'));
    assert.ok(matches('docker.io/rancher/mirrored-*', 'docker.io/rancher/mirrored-pause'));
    assert.ok(!matches('docker.io/rancher/mirrored-*', 'docker.io/rancher/klipper-lb'));
  });

  it('** spans segments, and dots are literal', () => {
    assert.ok(matches('registry.example.com/**', 'registry.example.com/a/b/c'));
    assert.ok(!matches('registry.example.com/**', 'registryxexample.com/a'));
    assert.ok(!matches('registry.example.com/**', 'registry.example.com.evil.io/a'));
    assert.ok(matches('ghcr.io/acme/**/runtime', 'ghcr.io/acme/runtime'));
    assert.ok(matches('ghcr.io/acme/**/runtime', 'ghcr.io/acme/x/y/runtime'));
    assert.ok(!matches('ghcr.io/acme/**/runtime', 'ghcr.io/acme/x/runtime-debug'));
  });
});

describe('evaluateImagePolicy', () => {
  const strict = parseImagePolicy('prod.yaml', STRICT);

  it('passes pinned references from allowed repositories, including Docker Hub shorthand', () => {
    const findings = evaluateImagePolicy(
      strict,
      [
        { names: [`rancher/mirrored-pause@${PAUSE_DIGEST}`] },
        { names: [`registry.example.com:5000/team/app/api@${PAUSE_DIGEST}`] },
      ],
      { target: 'airgap.tar' },
    );
    assert.deepEqual(findings, []);
  });

  it('fires registry, repository and digest rules, each only when it should', () => {
    const findings = evaluateImagePolicy(
      strict,
      [
        { names: ['docker.io/rancher/mirrored-pause:3.6'], manifestDigest: PAUSE_DIGEST },
        { names: [`quay.io/evil/miner@${PAUSE_DIGEST}`] },
        { names: [`busybox@${PAUSE_DIGEST}`] },
      ],
      { target: 'airgap.tar' },
    );
    assert.deepEqual(ids(findings), [
      'K3SG-POLICY-DIGEST',
      'K3SG-POLICY-REGISTRY',
      'K3SG-POLICY-REPOSITORY',
      'K3SG-POLICY-REPOSITORY',
    ]);
    const [digest, registry, repo, hubRepo] = findings;
    assert.deepEqual(digest?.location, ['airgap.tar', 'docker.io/rancher/mirrored-pause:3.6']);
    assert.match(digest?.message ?? '', new RegExp(`pin it as docker\\.io/rancher/mirrored-pause@${PAUSE_DIGEST}`));
    assert.match(
      registry?.message ?? '',
      /comes from quay\.io; prod\.yaml allows docker\.io, registry\.example\.com:5000/,
    );
    assert.match(repo?.message ?? '', /quay\.io\/evil\/miner matches none/);
    // `busybox` is docker.io/library/busybox: on Docker Hub, but not under rancher/.
    assert.match(hubRepo?.message ?? '', /^docker\.io\/library\/busybox matches none/);
    assert.equal(registry?.severity, 'high');
  });

  it('with registries only, tags are fine and hosts are compared after normalization', () => {
    const p = parseImagePolicy('p.yaml', REGISTRIES_ONLY);
    const findings = evaluateImagePolicy(
      p,
      [{ names: ['nginx:1.27', 'ghcr.io/acme/app:1', 'registry.k8s.io/pause:3.10'] }],
      { target: 't' },
    );
    assert.deepEqual(ids(findings), ['K3SG-POLICY-REGISTRY']);
    assert.deepEqual(findings[0]?.location, ['t', 'registry.k8s.io/pause:3.10']);
  });

  it('reports a name it cannot parse', () => {
    const findings = evaluateImagePolicy(strict, [{ names: ['Not A Ref'] }], { target: 't' });
    assert.deepEqual(ids(findings), ['K3SG-POLICY-REFERENCE']);
  });
});

describe('checkImageReferences on a k3s-images.txt', () => {
  const listed = parseImagesList(K3S_IMAGES).images.map((i) => ({ text: i.text, where: `line ${i.line}` }));

  it('every tag-referenced line is a digest finding when digests are required', () => {
    const findings = checkImageReferences(parseImagePolicy('prod.yaml', STRICT), listed, { target: 'k3s-images.txt' });
    assert.equal(findings.length, 8);
    assert.ok(findings.every((f) => f.id === 'K3SG-POLICY-DIGEST'));
    assert.deepEqual(findings[7]?.location, ['k3s-images.txt', 'line 8']);
    assert.match(findings[7]?.message ?? '', /^docker\.io\/rancher\/mirrored-pause:3\.6 is referenced by tag/);
  });

  it('the same list passes a registries-only policy and fails a ghcr.io-only glob policy', () => {
    assert.deepEqual(checkImageReferences(parseImagePolicy('p.yaml', REGISTRIES_ONLY), listed, { target: 'l' }), []);
    const globbed = checkImageReferences(parseImagePolicy('g.yaml', GLOBS), listed, { target: 'l' });
    assert.deepEqual(new Set(ids(globbed)), new Set(['K3SG-POLICY-REPOSITORY']));
    assert.equal(globbed.length, 8);
  });
});
