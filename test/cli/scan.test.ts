// `k3sguard db`, `scan` and `advisories` through the real CLI, on the real Go vulnerability
// database and K3s advisories in ../shared and the K3s-shaped binary.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { k3sShaped } from '../fixtures/k3s-shaped.ts';
import { realBinary, SHARED_DATA } from '../fixtures/realbins.ts';
import { validateCycloneDx } from '../report/schemas.ts';
import { GHSA_K3S, GOVULNDB, noSharedData } from '../vulndb/fixtures.ts';
import { assertInputError, k3sguard, tempDir } from './run.ts';

test('scan and advisories without a database say exactly how to get one, exit 2', (t) => {
  const db = join(tempDir(t), 'none.sqlite');
  const r = k3sguard(['scan', '/bin/ls', '--db', db]);
  assertInputError(r, db, /k3sguard db update --db .*k3sguard db import --db/);
  assertInputError(k3sguard(['advisories', '--k3s-version', 'v1.28.0+k3s1', '--db', db]), db, /db update/);
});

describe('scan with the real Go vulnerability database', { skip: noSharedData }, () => {
  let db = '';
  before(() => {
    db = join(tempDir({ after: () => {} }), 'vulndb.sqlite');
    const r = k3sguard(['db', 'import', '--db', db, GOVULNDB, GHSA_K3S]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /4293 records/);
  });

  test('db status shows counts and the import', () => {
    const r = k3sguard(['db', 'status', '--db', db, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.records, 4293);
    assert.equal(s.withdrawn, 17);
    assert.equal(s.stale, false);
  });

  test('the K3s-shaped binary: runc GO-2024-2491 inside the bundle, stdlib findings, reachability', async (t) => {
    const f = await k3sShaped('good');
    if ('skip' in f) return t.skip(f.skip);
    const table = k3sguard(['scan', f.path, '--db', db]);
    assert.equal(table.code, 1, table.stderr);
    // One row: package, installed, fixed, id, severity, reachability, under the places it is in.
    assert.match(
      table.stdout,
      /bundle:[0-9a-f]{64} › bin\/k3s(?:, .*)?\n(?: .*\n)*? {2}github\.com\/opencontainers\/runc +1\.1\.5 +1\.1\.12 +GO-2024-2491 +UNKNOWN +absent\n/,
    );

    const r = k3sguard(['scan', f.path, '--db', db, '--format', 'json']);
    const out = JSON.parse(r.stdout);
    const findings = out.findings as Array<{
      id: string;
      location: string[];
      vulnerability?: { via: string; module: string; reachability: string };
    }>;
    const runc = findings.find((x) => x.id === 'GO-2024-2491');
    assert.deepEqual(runc?.location.slice(-1), ['bin/k3s']);
    assert.equal(runc?.vulnerability?.module, 'github.com/opencontainers/runc');
    // The fixture's fake runc module has no libcontainer code: the vulnerable symbols are absent.
    assert.equal(runc?.vulnerability?.reachability, 'absent');
    const stdlib = findings.filter((x) => x.vulnerability?.via === 'stdlib');
    assert.ok(stdlib.length > 10, 'Go 1.19.8 has many stdlib findings');
    assert.ok(stdlib.some((x) => x.vulnerability?.reachability === 'present'));
    assert.ok(stdlib.some((x) => x.vulnerability?.reachability === 'absent'));
    // Forks are matched as their upstream.
    assert.ok(
      findings.some(
        (x) => x.vulnerability?.via === 'upstream' && x.vulnerability.module === 'github.com/containerd/containerd',
      ),
    );
    // The K3s identity is matched against the K3s advisories.
    assert.ok(findings.some((x) => x.vulnerability?.via === 'k3s'));

    const reachable = JSON.parse(k3sguard(['scan', f.path, '--db', db, '--format', 'json', '--only-reachable']).stdout);
    assert.ok(reachable.findings.length < findings.length);
    assert.ok(
      reachable.findings.every(
        (x: { vulnerability?: { reachability: string } }) => x.vulnerability?.reachability !== 'absent',
      ),
    );

    // Severity: Go vulndb records carry no CVSS, so --fail-on high does not fail on them.
    assert.equal(k3sguard(['scan', f.path, '--db', db, '--fail-on', 'low']).code, 1);
    const high = JSON.parse(k3sguard(['scan', f.path, '--db', db, '--format', 'json']).stdout).findings.filter(
      (x: { severity: string }) => x.severity === 'high' || x.severity === 'critical',
    );
    assert.equal(k3sguard(['scan', f.path, '--db', db, '--fail-on', 'high']).code, high.length > 0 ? 1 : 0);

    const cdx = k3sguard(['scan', f.path, '--db', db, '--format', 'cyclonedx']);
    assert.deepEqual(validateCycloneDx(cdx.stdout), []);
    assert.ok(JSON.parse(cdx.stdout).vulnerabilities.length > 0);
  });

  test('a folder of binaries built with the same Go: each vulnerability once, naming every binary', (t) => {
    const bins = ['debian-runc', 'debian-etcd'].map((name) => [name, realBinary(name)] as const);
    for (const [, b] of bins) if ('skip' in b) return t.skip(b.skip);
    const dir = tempDir(t);
    for (const [name, b] of bins) copyFileSync((b as { path: string }).path, join(dir, name.replace('debian-', '')));
    const json = k3sguard(['scan', dir, '--db', db, '--format', 'json']);
    type F = { id: string; severity: string; location: string[]; vulnerability?: { via: string; fixed?: string } };
    const findings = JSON.parse(json.stdout).findings as F[];
    // The machine formats keep one finding per binary: html/template's GO-2023-1751 (fixed in
    // Go 1.19.9) in both Go 1.19.8 binaries.
    const html = findings.filter((f) => f.id === 'GO-2023-1751');
    assert.deepEqual(html.map((f) => f.location.at(-1)).sort(), ['etcd', 'runc']);
    const table = k3sguard(['scan', dir, '--db', db]);
    assert.equal(table.code, 1, table.stderr);
    const rows = table.stdout.split('\n').filter((l) => /^ {2}stdlib +1\.19\.8 /.test(l));
    assert.equal(rows.filter((l) => / GO-2023-1751 /.test(l)).length, 1, 'shown once');
    assert.match(
      table.stdout,
      /\nk3sguard-test-[^ ]+: etcd, runc\n {2}PACKAGE +INSTALLED +FIXED +ID +SEVERITY +REACHABILITY\n(?: .*\n)*? {2}stdlib +1\.19\.8 +1\.19\.9 +GO-2023-1751 +UNKNOWN +/,
    );
    const shared = new Set(
      findings.filter((f) => f.vulnerability?.via === 'stdlib' && f.location.at(-1) === 'runc').map((f) => f.id),
    );
    assert.ok(shared.size > 10);
    assert.equal(rows.length, shared.size, 'one row per stdlib vulnerability, not one per binary');

    // --severity: only those severities, in every format. The Go vulndb rates nothing.
    const vulns = findings.filter((f) => f.vulnerability);
    const high = k3sguard(['scan', dir, '--db', db, '--format', 'json', '--severity', 'CRITICAL,high']);
    assert.equal(high.code, 0, high.stderr);
    assert.deepEqual(
      JSON.parse(high.stdout).findings.filter((f: F) => f.vulnerability),
      vulns.filter((f) => f.severity === 'critical' || f.severity === 'high'),
    );
    const unknown = JSON.parse(
      k3sguard(['scan', dir, '--db', db, '--format', 'sarif', '--severity', 'unknown']).stdout,
    );
    assert.equal(unknown.runs[0].results.length, vulns.filter((f) => f.severity === 'unknown').length);
    const bad = k3sguard(['scan', dir, '--db', db, '--severity', 'high,urgent']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a severity: urgent/);
    // --ignore-unfixed: only findings with a fixed version.
    const fixedOnly = JSON.parse(k3sguard(['scan', dir, '--db', db, '--format', 'json', '--ignore-unfixed']).stdout);
    assert.deepEqual(
      fixedOnly.findings.filter((f: F) => f.vulnerability),
      vulns.filter((f) => f.vulnerability?.fixed),
    );

    // --fail-on high leaves the unknown ones out, and says how many and why.
    const failHigh = k3sguard(['scan', dir, '--db', db, '--fail-on', 'high']);
    const unrated = vulns.filter((f) => f.severity === 'unknown').length;
    assert.ok(unrated > 0);
    assert.equal(failHigh.code, vulns.some((f) => f.severity === 'high' || f.severity === 'critical') ? 1 : 0);
    assert.match(
      failHigh.stderr,
      new RegExp(
        `^k3sguard: ${unrated} findings of unknown severity \\(.*\\) were not counted by --fail-on high; use --fail-on low to count them$`,
        'm',
      ),
    );
    assert.doesNotMatch(k3sguard(['scan', dir, '--db', db, '--fail-on', 'low']).stderr, /not counted/);
  });

  test('SARIF output is valid 2.1.0', async (t) => {
    const f = await k3sShaped('good');
    if ('skip' in f) return t.skip(f.skip);
    const schemaPath = join(SHARED_DATA, 'schemas', 'sarif-schema-2.1.0.json');
    if (!existsSync(schemaPath)) return t.skip('no SARIF schema in ../shared');
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
    const r = k3sguard(['scan', f.path, '--db', db, '--format', 'sarif']);
    const sarif = JSON.parse(r.stdout) as { runs: Array<{ results: Array<{ ruleId: string }> }> };
    assert.ok(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3)));
    assert.ok(sarif.runs[0]?.results.some((x: { ruleId: string }) => x.ruleId === 'GO-2024-2491'));
  });

  test('--vex: a not_affected statement suppresses the finding and says why', async (t) => {
    const f = await k3sShaped('good');
    if ('skip' in f) return t.skip(f.skip);
    const vex = join(tempDir(t), 'k3s.openvex.json');
    writeFileSync(
      vex,
      JSON.stringify({
        '@context': 'https://openvex.dev/ns/v0.2.0',
        '@id': 'https://example.com/vex/k3s-1',
        author: 'platform-security@example.com',
        timestamp: '2026-11-01T00:00:00Z',
        version: 1,
        statements: [
          {
            vulnerability: { name: 'CVE-2024-21626' },
            products: [{ '@id': 'pkg:golang/github.com/opencontainers/runc@v1.1.5' }],
            status: 'not_affected',
            justification: 'vulnerable_code_not_in_execute_path',
            impact_statement: 'runc is not used through this binary',
          },
        ],
      }),
    );
    const r = k3sguard(['scan', f.path, '--db', db, '--vex', vex, '--format', 'json']);
    const runc = JSON.parse(r.stdout).findings.find((x: { id: string }) => x.id === 'GO-2024-2491');
    assert.equal(runc?.vulnerability?.suppressed?.justification, 'vulnerable_code_not_in_execute_path');
    const table = k3sguard(['scan', f.path, '--db', db, '--vex', vex]);
    assert.match(table.stdout, /SUPPRESSED BY VEX/);
    assertInputError(k3sguard(['scan', f.path, '--db', db, '--vex', '/etc/hostname']), '/etc/hostname', /VEX|JSON/i);
  });

  test('advisories: v1.28.0+k3s1 has GHSA-m4hf-6vgr-75r2 fixed in v1.28.1+k3s1; v1.28.1+k3s1 does not', () => {
    const old = k3sguard(['advisories', '--db', db, '--k3s-version', 'v1.28.0+k3s1', '--json']);
    assert.equal(old.code, 1);
    const a = JSON.parse(old.stdout).advisories.find((x: { ids: string[] }) => x.ids.includes('GHSA-m4hf-6vgr-75r2'));
    assert.equal(a?.fixedOnLine, 'v1.28.1+k3s1');
    const fixed = JSON.parse(k3sguard(['advisories', '--db', db, '--k3s-version', 'v1.28.1+k3s1', '--json']).stdout);
    assert.ok(!fixed.advisories.some((x: { ids: string[] }) => x.ids.includes('GHSA-m4hf-6vgr-75r2')));
    assert.equal(k3sguard(['advisories', '--db', db, '--k3s-version', '1.28']).code, 2);
  });
});
