// CycloneDX 1.6 with `vulnerabilities` for the scan findings of the K3s-shaped fixture:
// valid against the 1.6 schema (schemas.ts), the SBOM part identical to `k3sguard sbom`'s,
// every `affects` resolving to a component, CVSS ratings, and the VEX analysis.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toCycloneDxJson } from '../../src/report/cyclonedx.ts';
import { toCycloneDxVulnerabilityJson } from '../../src/report/cyclonedx-vuln.ts';
import { applyVex } from '../../src/scan/vex-apply.ts';
import { scanFixture } from '../scan/findings-fixture.ts';
import { cycloneDxComponents, validateCycloneDx } from './schemas.ts';

const FIXED = {
  timestamp: new Date('2025-06-01T10:00:00Z'),
  serialNumber: 'urn:uuid:6e0b7c55-7d0e-4a64-9d2a-1b0c2f1f8e11',
};

interface Vulnerability {
  'bom-ref': string;
  id: string;
  source: { name: string; url: string };
  references?: Array<{ id: string; source: { name: string; url: string } }>;
  ratings: Array<Record<string, unknown>>;
  affects?: Array<{ ref: string; versions: Array<{ version: string; status: string }> }>;
  analysis?: Record<string, unknown>;
  properties: Array<{ name: string; value: string }>;
}

type Bom = Parameters<typeof cycloneDxComponents>[0] & { vulnerabilities: Vulnerability[] };

test('vulnerabilities: valid CycloneDX 1.6, one per vulnerability finding, affects resolving to components', (t) => {
  const fx = scanFixture();
  if ('skip' in fx) return t.skip(fx.skip);
  const json = toCycloneDxVulnerabilityJson(fx.inventory, fx.findings, FIXED);
  assert.deepEqual(validateCycloneDx(json), []);
  const bom = JSON.parse(json) as Bom;
  // The SBOM part is `k3sguard sbom`'s, unchanged.
  const { vulnerabilities, ...sbom } = bom;
  assert.deepEqual(sbom, JSON.parse(toCycloneDxJson(fx.inventory, FIXED)));
  // The tampering finding is no vulnerability.
  assert.deepEqual(
    vulnerabilities.map((v) => v.id),
    ['GO-2025-3646', 'GO-2026-5973', 'GO-2025-3528', 'GO-2025-3956', 'GO-2025-3956'],
  );
  const refs = new Set(cycloneDxComponents(bom).map((c) => c['bom-ref']));
  for (const v of vulnerabilities) {
    assert.equal(v.affects?.length, 1, v.id);
    assert.ok(refs.has(v.affects?.[0]?.ref), `${v.id} affects ${v.affects?.[0]?.ref}, no component`);
    assert.ok(!refs.has(v['bom-ref']), `${v['bom-ref']} is also a component's bom-ref`);
  }
  assert.equal(new Set(vulnerabilities.map((v) => v['bom-ref'])).size, vulnerabilities.length);
  const byComponent = new Map(vulnerabilities.map((v) => [`${v.id} ${v.affects?.[0]?.ref}`, v]));
  assert.ok(byComponent.has(`GO-2025-3528 ${fx.refs.containerd}`), 'the containerd fork is affected');
  assert.ok(byComponent.has(`GO-2025-3646 ${fx.refs.k3s}`), 'the K3s binary is affected');
});

test('ids, sources and ratings: CVSS where the record has one, the severity alone otherwise', (t) => {
  const fx = scanFixture();
  if ('skip' in fx) return t.skip(fx.skip);
  const bom = JSON.parse(toCycloneDxVulnerabilityJson(fx.inventory, fx.findings, FIXED)) as Bom;
  const [k3s, , containerd, lookPath, lookPathRunc] = bom.vulnerabilities;
  assert.deepEqual(k3s?.source, { name: 'Go Vulnerability Database', url: 'https://pkg.go.dev/vuln/GO-2025-3646' });
  assert.deepEqual(k3s?.references, [
    { id: 'CVE-2025-46599', source: { name: 'NVD', url: 'https://nvd.nist.gov/vuln/detail/CVE-2025-46599' } },
    {
      id: 'GHSA-864f-7xjm-2jp2',
      source: { name: 'GitHub Advisory Database', url: 'https://github.com/advisories/GHSA-864f-7xjm-2jp2' },
    },
  ]);
  assert.deepEqual(k3s?.ratings, [
    { score: 6.8, severity: 'medium', vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N', method: 'CVSSv31' },
  ]);
  assert.deepEqual(containerd?.ratings, [{ severity: 'unknown' }]);
  // The record lists CVE-2025-47906 twice: one reference.
  assert.deepEqual(
    lookPath?.references?.map((r) => r.id),
    ['CVE-2025-47906'],
  );
  const prop = (v: Vulnerability | undefined, name: string) =>
    v?.properties.filter((p) => p.name === name).map((p) => p.value);
  assert.deepEqual(prop(lookPath, 'k3sguard:reachability'), ['present']);
  assert.deepEqual(prop(lookPath, 'k3sguard:symbol'), ['os/exec.LookPath']);
  assert.deepEqual(prop(lookPathRunc, 'k3sguard:reachability'), ['absent']);
  assert.deepEqual(lookPath?.affects?.[0]?.versions, [{ version: '1.23.8', status: 'affected' }]);
});

test('a VEX not_affected statement becomes the analysis of exactly the findings it covers', (t) => {
  const fx = scanFixture();
  if ('skip' in fx) return t.skip(fx.skip);
  const doc = {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'https://example.com/vex/2',
    author: 'ops',
    timestamp: '2025-06-01T10:00:00Z',
    version: 1,
    statements: [
      {
        vulnerability: { name: 'CVE-2025-47906' },
        products: [{ '@id': 'pkg:golang/stdlib@1.23.8' }],
        status: 'not_affected' as const,
        justification: 'vulnerable_code_not_in_execute_path' as const,
        impact_statement: 'LookPath is only given absolute paths',
      },
    ],
  };
  const findings = applyVex(fx.findings, { source: 'ops.vex.json', document: doc }, fx.inventory.root);
  const json = toCycloneDxVulnerabilityJson(fx.inventory, findings, FIXED);
  assert.deepEqual(validateCycloneDx(json), []);
  const bom = JSON.parse(json) as Bom;
  assert.deepEqual(
    bom.vulnerabilities.map((v) => v.analysis),
    [
      undefined,
      undefined,
      undefined,
      ...Array(2).fill({
        state: 'not_affected',
        justification: 'code_not_reachable',
        detail:
          'OpenVEX vulnerable_code_not_in_execute_path; LookPath is only given absolute paths; VEX document ops.vex.json',
      }),
    ],
  );
});
