// SARIF 2.1.0 of the scan findings of the K3s-shaped fixture (test/scan/findings-fixture.ts),
// validated against the SARIF schema (../shared/data/schemas) and checked for what GitHub code
// scanning reads: rules with security-severity, levels, locations, fingerprints, suppressions.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Finding } from '../../src/model/inventory.ts';
import { findRule } from '../../src/model/rules/catalogue.ts';
import { toSarif, toSarifJson } from '../../src/report/scan-sarif.ts';
import { applyVex } from '../../src/scan/vex-apply.ts';
import { SHARED_DATA } from '../fixtures/realbins.ts';
import { scanFixture } from '../scan/findings-fixture.ts';
import { directoryInventory } from './inventories.ts';

const SCHEMA = join(SHARED_DATA, 'schemas', 'sarif-schema-2.1.0.json');

let validator: ValidateFunction | undefined;
function schemaErrors(json: string): string[] | { skip: string } {
  if (!existsSync(SCHEMA)) return { skip: `${SCHEMA} absent (../shared)` };
  if (!validator) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA, 'utf8')));
  }
  return validator(JSON.parse(json)) ? [] : (validator.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

interface Log {
  runs: Array<{
    tool: {
      driver: {
        name: string;
        rules: Array<{
          id: string;
          helpUri?: string;
          fullDescription?: { text: string };
          help?: { markdown: string };
          properties: Record<string, unknown>;
        }>;
      };
    };
    results: Array<{
      ruleId: string;
      ruleIndex: number;
      level: string;
      locations: Array<{
        physicalLocation: { artifactLocation: { uri: string } };
        logicalLocations: Array<{ fullyQualifiedName: string }>;
      }>;
      partialFingerprints: Record<string, string>;
      suppressions?: Array<{ kind: string; justification: string }>;
      properties: Record<string, unknown>;
    }>;
  }>;
}

const log = (json: string) => JSON.parse(json) as Log;

test('scan findings as SARIF: valid, one rule per vulnerability, security-severity from CVSS for vulnerabilities, from the catalogue for k3sguard rules', (t) => {
  const fx = scanFixture();
  if ('skip' in fx) return t.skip(fx.skip);
  const json = toSarifJson(fx.inventory, fx.findings, { baseDir: process.cwd() });
  const errors = schemaErrors(json);
  if ('skip' in errors) return t.skip(errors.skip);
  assert.deepEqual(errors, []);
  // The schema does bite: a level SARIF does not define is refused.
  assert.notDeepEqual(schemaErrors(json.replace('"level": "error"', '"level": "fatal"')), []);
  const run = log(json).runs[0];
  assert.ok(run);
  assert.equal(run.tool.driver.name, 'k3sguard');
  const rules = run.tool.driver.rules;
  assert.deepEqual(
    rules.map((r) => r.id),
    ['GO-2025-3646', 'GO-2026-5973', 'GO-2025-3528', 'GO-2025-3956', 'K3SG-BUNDLE-MEMBER-MODIFIED'],
  );
  assert.equal(rules[0]?.properties['security-severity'], '6.8');
  assert.equal(rules[0]?.helpUri, 'https://osv.dev/vulnerability/GO-2025-3646');
  assert.ok((rules[0]?.properties.tags as string[] | undefined)?.includes('security'));
  // No CVSS, no number: a vulnerability of `unknown` severity is not given a score.
  assert.ok(rules.slice(1, 4).every((r) => !('security-severity' in r.properties)));
  // A k3sguard rule is the catalogue's, as in an audit: its texts, and the number of its severity.
  const member = findRule('K3SG-BUNDLE-MEMBER-MODIFIED');
  assert.deepEqual(rules[4]?.fullDescription, { text: member?.explanation });
  assert.match(rules[4]?.help?.markdown ?? '', /\*\*Fix:\*\* /);
  assert.equal(rules[4]?.properties['security-severity'], '9.5');
  assert.deepEqual(rules[4]?.properties.tags, ['security', 'supply-chain', 'k3sguard-bundle']);
  assert.equal(run.results.length, fx.findings.length);
  for (const r of run.results) assert.equal(rules[r.ruleIndex]?.id, r.ruleId);
  assert.deepEqual(
    run.results.map((r) => r.level),
    ['warning', 'warning', 'warning', 'warning', 'warning', 'error'],
  );
});

test('locations: the scanned file (relative to a base, else a file URI) and the path inside the bundle', (t) => {
  const fx = scanFixture();
  if ('skip' in fx) return t.skip(fx.skip);
  const relative = log(toSarifJson(fx.inventory, fx.findings, { baseDir: process.cwd() })).runs[0]?.results ?? [];
  const runc = relative.find((r) => r.properties['k3sguard/component'] === fx.refs.runcStdlib);
  assert.ok(runc);
  // bin/runc is inside the bundle: the artifact is the K3s binary itself.
  assert.equal(runc.locations[0]?.physicalLocation.artifactLocation.uri, 'k3s');
  const bundle =
    fx.inventory.root.type === 'file' ? fx.inventory.root.children.find((c) => c.type === 'k3s-bundle') : undefined;
  assert.ok(bundle);
  assert.equal(
    runc.locations[0]?.logicalLocations[0]?.fullyQualifiedName,
    `k3s > ${bundle.location.at(-1)} > bin/runc`,
  );
  assert.deepEqual(runc.properties['k3sguard/location'], ['k3s', bundle.location.at(-1), 'bin/runc']);
  const absolute = log(toSarifJson(fx.inventory, fx.findings)).runs[0]?.results[0];
  assert.equal(
    absolute?.locations[0]?.physicalLocation.artifactLocation.uri,
    pathToFileURL(join(process.cwd(), 'k3s')).href,
  );
  // A file of a directory target is its own artifact.
  const dir = directoryInventory();
  const tool = { ...(fx.findings.at(-1) as Finding), component: 'bins!sub/tool', location: ['bins', 'sub/tool'] };
  const inDir = log(toSarifJson(dir, [tool], { baseDir: process.cwd() })).runs[0]?.results[0];
  assert.equal(inDir?.locations[0]?.physicalLocation.artifactLocation.uri, 'bins/sub/tool');
});

test('fingerprints: distinct per finding, stable when only the bundle hash changes', (t) => {
  const fx = scanFixture();
  if ('skip' in fx) return t.skip(fx.skip);
  const prints = (findings: readonly Finding[]) =>
    log(toSarifJson(fx.inventory, findings, { baseDir: process.cwd() })).runs[0]?.results.map(
      (r) => r.partialFingerprints['k3sguardFinding/v1'],
    ) ?? [];
  const first = prints(fx.findings);
  assert.equal(new Set(first).size, fx.findings.length);
  const rebuilt = fx.findings.map((f) => ({
    ...f,
    location: f.location.map((l) => (l.startsWith('bundle:') ? `bundle:${'0'.repeat(64)}` : l)),
  }));
  assert.deepEqual(prints(rebuilt), first);
});

test('VEX-suppressed findings carry a SARIF suppression and stay valid', (t) => {
  const fx = scanFixture();
  if ('skip' in fx) return t.skip(fx.skip);
  const vex = {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'https://example.com/vex/1',
    author: 'ops',
    timestamp: '2025-06-01T10:00:00Z',
    version: 1,
    statements: [
      {
        vulnerability: { name: 'GO-2025-3528' },
        products: [{ identifiers: { purl: 'pkg:golang/github.com/containerd/containerd' } }],
        status: 'not_affected' as const,
        justification: 'vulnerable_code_not_in_execute_path' as const,
        impact_statement: 'user namespaces are not used',
      },
    ],
  };
  const findings = applyVex(fx.findings, { source: 'ops.vex.json', document: vex }, fx.inventory.root);
  const json = toSarifJson(fx.inventory, findings, { baseDir: process.cwd() });
  const errors = schemaErrors(json);
  if ('skip' in errors) return t.skip(errors.skip);
  assert.deepEqual(errors, []);
  const results = log(json).runs[0]?.results ?? [];
  const suppressed = results.filter((r) => r.suppressions);
  assert.deepEqual(
    suppressed.map((r) => [r.ruleId, r.suppressions]),
    [
      [
        'GO-2025-3528',
        [
          {
            kind: 'external',
            justification: 'vulnerable_code_not_in_execute_path: user namespaces are not used (VEX ops.vex.json)',
            properties: { 'k3sguard/vex-status': 'not_affected', 'k3sguard/vex-document': 'ops.vex.json' },
          },
        ],
      ],
    ],
  );
  // The object form is what the JSON form prints.
  assert.deepEqual(toSarif(fx.inventory, findings, { baseDir: process.cwd() }), JSON.parse(json));
});
