// `k3sguard audit node --root DIR` through the real CLI: exit codes, the policy and lock
// files as a user passes them, and SARIF that validates against the 2.1.0 schema.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { k3sguard } from '../../cli/run.ts';
import { SHARED_DATA } from '../../fixtures/realbins.ts';
import { goodNode, LOCKED_FILES, lockOf, POLICY_YAML, put, REGISTRIES_YAML, tempDir } from './node-fixtures.ts';

const SCHEMA = join(SHARED_DATA, 'schemas', 'sarif-schema-2.1.0.json');

interface SarifResult {
  ruleId: string;
  locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }>;
}

function nodeWithFiles(t: Parameters<typeof tempDir>[0]): { root: string; args: string[] } {
  const dir = tempDir(t);
  const root = join(dir, 'node');
  goodNode(root);
  writeFileSync(join(dir, 'k3sguard.lock'), `${JSON.stringify(lockOf(root, LOCKED_FILES), null, 2)}\n`);
  writeFileSync(join(dir, 'policy.yaml'), POLICY_YAML);
  return { root, args: ['--root', root, '--lock', join(dir, 'k3sguard.lock'), '--policy', join(dir, 'policy.yaml')] };
}

test('audit node: a clean node exits 0; a finding exits 1 unless below --fail-on', (t) => {
  const { root, args } = nodeWithFiles(t);
  const clean = k3sguard(['audit', 'node', ...args]);
  assert.equal(clean.code, 0, clean.stderr + clean.stdout);
  const http = REGISTRIES_YAML.replace('"https://registry.example.com:5000"', '"http://registry.example.com:5000"');
  put(root, 'etc/rancher/k3s/registries.yaml', http, 0o600);
  const found = k3sguard(['audit', 'node', ...args]);
  assert.equal(found.code, 1, found.stderr);
  assert.match(found.stdout, /etc\/rancher\/k3s\/registries\.yaml:5:9 .*K3SG-NODE-REGISTRY-HTTP-ENDPOINT/);
  assert.equal(k3sguard(['audit', 'node', ...args, '--fail-on', 'critical']).code, 0);
});

test('audit node --format sarif validates, with relative URIs and the node rules', (t) => {
  if (!existsSync(SCHEMA)) return t.skip(`${SCHEMA} absent (../shared)`);
  const { root, args } = nodeWithFiles(t);
  put(root, 'etc/rancher/k3s/registries.yaml', REGISTRIES_YAML, 0o644);
  put(
    root,
    'var/lib/rancher/k3s/server/manifests/extra.yaml',
    'kind: Pod\nspec:\n  containers:\n    - image: nginx:1.27\n',
  );
  const r = k3sguard(['audit', 'node', ...args, '--format', 'sarif']);
  assert.equal(r.code, 1, r.stderr);
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA, 'utf8')));
  const sarif = JSON.parse(r.stdout) as { runs: Array<{ results: SarifResult[] }> };
  assert.ok(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3)));
  const results = sarif.runs[0]?.results ?? [];
  const got = results
    .map(
      (x) =>
        `${x.ruleId} ${x.locations[0]?.physicalLocation.artifactLocation.uri}:${x.locations[0]?.physicalLocation.region.startLine}`,
    )
    .sort();
  assert.deepEqual(got, [
    'K3SG-NODE-MANIFEST-IMAGE-TAG var/lib/rancher/k3s/server/manifests/extra.yaml:4',
    'K3SG-NODE-MANIFEST-UNLOCKED var/lib/rancher/k3s/server/manifests/extra.yaml:1',
    'K3SG-NODE-REGISTRY-CREDENTIALS-READABLE etc/rancher/k3s/registries.yaml:10',
  ]);
});

test('audit node on a root with nothing K3s in it exits 2; a missing root too', (t) => {
  const dir = tempDir(t);
  const empty = k3sguard(['audit', 'node', '--root', dir]);
  assert.equal(empty.code, 2, empty.stdout);
  const missing = k3sguard(['audit', 'node', '--root', join(dir, 'nope')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope: no such directory/);
});
