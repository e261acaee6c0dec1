// SARIF of an audit validates against the SARIF 2.1.0 schema, carries the catalogue's rule
// metadata, relative %SRCROOT% URIs, regions and stable fingerprints; waivers (inline and in
// the policy) keep the finding in every report but out of the exit code.
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { auditIac } from '../../../src/audit/iac/index.ts';
import { parseInlineWaivers } from '../../../src/audit/waivers.ts';
import { auditSarif } from '../../../src/report/audit-sarif.ts';
import { k3sguard, tempDir } from '../../cli/run.ts';
import { SHARED_DATA } from '../../fixtures/realbins.ts';

const SCHEMA = join(SHARED_DATA, 'schemas', 'sarif-schema-2.1.0.json');
const BAD = join(import.meta.dirname, 'fixtures', 'repo-bad');
let validator: ValidateFunction | undefined;

function schemaErrors(doc: unknown): string[] | { skip: string } {
  if (!existsSync(SCHEMA)) return { skip: `${SCHEMA} absent (../shared)` };
  if (!validator) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA, 'utf8')));
  }
  return validator(doc) ? [] : (validator.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  locations: Array<{
    physicalLocation: {
      artifactLocation: { uri: string; uriBaseId?: string };
      region: { startLine: number; startColumn: number; snippet?: { text: string } };
    };
  }>;
  partialFingerprints: Record<string, string>;
  suppressions?: Array<{ kind: string; justification: string }>;
}

test('SARIF of the bad repository: schema-valid, catalogue rules, relative URIs, regions, fingerprints', async (t) => {
  const r = await auditIac([BAD], { root: BAD, workers: 0 });
  const sarif = auditSarif(r, '0.0.0-test') as { runs: Array<Record<string, unknown>> };
  const errors = schemaErrors(sarif);
  if ('skip' in errors) t.diagnostic(errors.skip);
  else assert.deepEqual(errors, []);
  const run = sarif.runs[0] as {
    tool: { driver: { rules: Array<{ id: string; fullDescription: { text: string }; help: { markdown: string } }> } };
    results: SarifResult[];
    originalUriBaseIds: Record<string, { uri: string }>;
  };
  assert.equal(run.originalUriBaseIds['%SRCROOT%']?.uri, `file://${BAD}/`);
  assert.equal(run.results.length, r.findings.length);
  for (const res of run.results) {
    const loc = res.locations[0]?.physicalLocation;
    assert.equal(loc?.artifactLocation.uriBaseId, '%SRCROOT%');
    assert.ok(!loc?.artifactLocation.uri.startsWith('/'), 'relative');
    assert.equal(run.tool.driver.rules[res.ruleIndex]?.id, res.ruleId);
  }
  const plan = run.results.find((x) => x.ruleId === 'K3SG-IAC-PLAN-CHANNEL');
  assert.deepEqual(plan?.locations[0]?.physicalLocation.artifactLocation.uri, 'upgrade/plan.yaml');
  assert.equal(plan?.locations[0]?.physicalLocation.region.startLine, 17);
  assert.equal(plan?.locations[0]?.physicalLocation.region.startColumn, 12);
  assert.match(
    run.tool.driver.rules.find((x) => x.id === 'K3SG-IAC-PLAN-CHANNEL')?.help.markdown ?? '',
    /\*\*Fix:\*\*/,
  );
  // Fingerprints: unique, and unchanged when lines above move.
  const prints = run.results.map((x) => x.partialFingerprints['k3sguardAudit/v1']);
  assert.equal(new Set(prints).size, prints.length);
  const copy = tempDir(t);
  cpSync(BAD, copy, { recursive: true });
  const planFile = join(copy, 'upgrade', 'plan.yaml');
  writeFileSync(planFile, `# moved down by a comment\n${readFileSync(planFile, 'utf8')}`);
  const moved = auditSarif(await auditIac([copy], { root: copy, workers: 0 }), '0') as typeof sarif;
  const movedPlan = (moved.runs[0] as unknown as { results: SarifResult[] }).results.find(
    (x) => x.ruleId === 'K3SG-IAC-PLAN-CHANNEL',
  );
  assert.equal(movedPlan?.locations[0]?.physicalLocation.region.startLine, 18);
  assert.deepEqual(movedPlan?.partialFingerprints, plan?.partialFingerprints);
});

test('inline waivers: next line when alone, same line when trailing, # and // styles', () => {
  const w = parseInlineWaivers(
    'a\n# k3sguard:ignore K3SG-IAC-IMAGE-TAG dev only\n\nimage: x\nb # k3sguard:ignore k3sg-iac-a,K3SG-IAC-B\n  // k3sguard:ignore K3SG-IAC-C why\nc\n',
  );
  assert.deepEqual(
    w.map((x) => [x.ruleIds.join(','), x.line, x.covers, x.reason]),
    [
      ['K3SG-IAC-IMAGE-TAG', 2, 4, 'dev only'],
      ['K3SG-IAC-A,K3SG-IAC-B', 5, 5, '(no reason given)'],
      ['K3SG-IAC-C', 6, 7, 'why'],
    ],
  );
});

test('waived findings are reported (table, JSON, SARIF suppressions) and do not fail the run', (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'install.sh'),
    '#!/bin/sh\n# k3sguard:ignore K3SG-IAC-INSTALL-UNPINNED,K3SG-IAC-INSTALL-SCRIPT-UNVERIFIED throwaway CI VM\ncurl -sfL https://get.k3s.io | sh -\n',
  );
  writeFileSync(join(dir, 'Dockerfile'), 'FROM alpine:3.20\n');
  const policy = join(dir, 'policy.yaml');
  writeFileSync(
    policy,
    'apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages: {}\naudit:\n  waivers:\n    - rule: K3SG-IAC-IMAGE-TAG\n      path: "Docker*"\n      reason: base image rebuilt nightly\n',
  );
  let r = k3sguard(['audit', 'iac', dir, '--policy', policy]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Waived \(3, not counted\)/);
  assert.match(r.stdout, /waived \(inline install\.sh:2\): throwaway CI VM/);
  assert.match(r.stdout, /waived \(policy .*policy\.yaml:6\): base image rebuilt nightly/);
  r = k3sguard(['audit', 'iac', dir, '--policy', policy, '--json']);
  const json = JSON.parse(r.stdout) as { findings: unknown[]; waived: Array<{ waiver: { source: string } }> };
  assert.equal(json.findings.length, 0);
  assert.deepEqual(json.waived.map((w) => w.waiver.source).sort(), ['inline', 'inline', 'policy']);
  r = k3sguard(['audit', 'iac', dir, '--policy', policy, '--format', 'sarif']);
  const sarif = JSON.parse(r.stdout) as { runs: Array<{ results: SarifResult[] }> };
  const kinds = (sarif.runs[0]?.results ?? []).map((x) => x.suppressions?.[0]?.kind).sort();
  assert.deepEqual(kinds, ['external', 'inSource', 'inSource']);
  const errors = schemaErrors(sarif);
  if (!('skip' in errors)) assert.deepEqual(errors, []);
  // Without the policy the Dockerfile finding counts again.
  assert.equal(k3sguard(['audit', 'iac', dir]).code, 1);
});

test('a policy waiver naming an unknown rule is an error that says where', (t) => {
  const dir = tempDir(t);
  const policy = join(dir, 'policy.yaml');
  writeFileSync(
    policy,
    'apiVersion: k3sguard.dev/v1\nkind: ImagePolicy\nimages: {}\naudit:\n  waivers:\n    - rule: K3SG-IAC-NOPE\n      reason: x\n',
  );
  const r = k3sguard(['audit', 'iac', dir, '--policy', policy]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /policy\.yaml:6:\d+: unknown rule "K3SG-IAC-NOPE"/);
});
