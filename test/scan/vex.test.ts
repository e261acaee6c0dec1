// The OpenVEX reader against the OpenVEX 0.2.0 schema (ajv, ../shared/data/schemas): on a valid
// document and on variants of it, valid and not, ours accepts exactly what the schema accepts.
// Then applying a document to the scan findings of the K3s-shaped fixture.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { isInputError } from '../../src/model/errors.ts';
import { walk } from '../../src/model/inventory.ts';
import { componentPurl } from '../../src/model/purl.ts';
import { parseVex, readVexFile, type VexDocument } from '../../src/scan/vex.ts';
import { applyVex } from '../../src/scan/vex-apply.ts';
import { SHARED_DATA } from '../fixtures/realbins.ts';
import { K3S_VERSION, scanFixture } from './findings-fixture.ts';

const SCHEMA = join(SHARED_DATA, 'schemas', 'openvex_json_schema.json');

function schemaValidator(): ((doc: unknown) => boolean) | undefined {
  if (!existsSync(SCHEMA)) return undefined;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  // ajv-formats has no `iri`, and unknown formats are not checked: hold IRIs to its URI grammar
  // with every non-ASCII character (what an IRI adds to a URI) taken as a plain letter.
  const uri = fullFormats.uri as (s: string) => boolean;
  ajv.addFormat('iri', (s: string) => uri(s.replace(/\P{ASCII}/gu, 'a')));
  return ajv.compile(JSON.parse(readFileSync(SCHEMA, 'utf8')));
}

const K3S_PURL = `pkg:golang/github.com/k3s-io/k3s@${encodeURIComponent(K3S_VERSION)}`;

/** A document as a K3s distributor would write it about its release. */
function document(): VexDocument {
  return {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'https://example.com/vex/k3s-v1.32.1-k3s1-2025-06',
    author: 'Example K3s Distributor <security@example.com>',
    role: 'Document Creator',
    timestamp: '2025-06-01T10:00:00Z',
    version: 1,
    tooling: 'hand-written',
    statements: [
      {
        vulnerability: { name: 'CVE-2025-47906', aliases: ['GO-2025-3956'] },
        products: [
          {
            '@id': K3S_PURL,
            subcomponents: [{ identifiers: { purl: 'pkg:golang/stdlib@1.23.8' } }],
          },
        ],
        status: 'not_affected',
        justification: 'vulnerable_code_not_in_execute_path',
        impact_statement: 'LookPath is only called with absolute paths',
      },
      {
        vulnerability: { '@id': 'https://pkg.go.dev/vuln/GO-2025-3528', name: 'GO-2025-3528' },
        products: [{ identifiers: { purl: 'pkg:golang/github.com/containerd/containerd@v1.7.23' } }],
        status: 'affected',
        action_statement: 'Upgrade to a K3s release with containerd 1.7.27',
        timestamp: '2025-06-01T10:00:00Z',
      },
    ],
  };
}

type Variant = [what: string, change: (d: Record<string, unknown> & VexDocument) => void];
const VARIANTS: Variant[] = [
  ['as written', () => {}],
  [
    'a product known by hash only',
    (d) =>
      d.statements.push({
        vulnerability: { name: 'CVE-1' },
        products: [{ '@id': 'urn:x', hashes: { 'sha-256': 'ab' } }],
        status: 'fixed',
      }),
  ],
  [
    'a statement without products',
    (d) => d.statements.push({ vulnerability: { name: 'CVE-2' }, status: 'under_investigation' }),
  ],
  [
    'last_updated and statement versions',
    (d) =>
      Object.assign(d, {
        last_updated: '2025-06-02T00:00:00+02:00',
        statements: d.statements.map((s) => ({ ...s, version: 2 })),
      }),
  ],
  ['no @id', (d) => delete (d as Record<string, unknown>)['@id']],
  ['no statements', (d) => Object.assign(d, { statements: [] })],
  ['an unknown top-level field', (d) => Object.assign(d, { extra: true })],
  ['an unknown statement field', (d) => Object.assign(d.statements[0] ?? {}, { note: 'x' })],
  ['version 0', (d) => Object.assign(d, { version: 0 })],
  ['version 1.5', (d) => Object.assign(d, { version: 1.5 })],
  ['version as a string', (d) => Object.assign(d, { version: '1' })],
  ['timestamp without a zone', (d) => Object.assign(d, { timestamp: '2025-06-01T10:00:00' })],
  ['timestamp on 30 February', (d) => Object.assign(d, { timestamp: '2025-02-30T10:00:00Z' })],
  ['an unknown status', (d) => Object.assign(d.statements[0] ?? {}, { status: 'fine' })],
  ['an unknown justification', (d) => Object.assign(d.statements[0] ?? {}, { justification: 'trust_me' })],
  [
    'not_affected with no reason',
    (d) => {
      const s = d.statements[0] as unknown as Record<string, unknown>;
      delete s.justification;
      delete s.impact_statement;
    },
  ],
  ['affected with no action', (d) => delete (d.statements[1] as unknown as Record<string, unknown>).action_statement],
  [
    'a vulnerability without a name',
    (d) => Object.assign(d.statements[0] ?? {}, { vulnerability: { aliases: ['X'] } }),
  ],
  [
    'repeated aliases',
    (d) => Object.assign(d.statements[0] ?? {}, { vulnerability: { name: 'A', aliases: ['B', 'B'] } }),
  ],
  [
    'two equal statements',
    (d) => d.statements.push(structuredClone(d.statements[1] as VexDocument['statements'][number])),
  ],
  [
    'a product with neither @id nor identifiers',
    (d) => Object.assign(d.statements[1] ?? {}, { products: [{ hashes: { md5: 'x' } }] }),
  ],
  ['empty identifiers', (d) => Object.assign(d.statements[1] ?? {}, { products: [{ identifiers: {} }] })],
  [
    'an unknown hash algorithm',
    (d) => Object.assign(d.statements[1] ?? {}, { products: [{ '@id': 'urn:x', hashes: { sha256: 'x' } }] }),
  ],
  [
    'nested subcomponents',
    (d) =>
      Object.assign(d.statements[1] ?? {}, {
        products: [{ '@id': 'urn:x', subcomponents: [{ '@id': 'urn:y', subcomponents: [] }] }],
      }),
  ],
  ['an @id that is no IRI', (d) => Object.assign(d, { '@id': 'not an iri' })],
  ['an IRI with non-ASCII letters', (d) => Object.assign(d, { '@id': 'https://example.com/vex/k3s-été' })],
  ['a context with a space', (d) => Object.assign(d, { '@context': 'https://openvex.dev/ns/v0.2.0 x' })],
  ['a statement @id that is no IRI', (d) => Object.assign(d.statements[0] ?? {}, { '@id': 'statement 1' })],
];

test('the reader accepts exactly what the OpenVEX 0.2.0 schema accepts', (t) => {
  const validate = schemaValidator();
  if (!validate) return t.skip(`${SCHEMA} absent (../shared)`);
  const verdicts = { valid: 0, invalid: 0 };
  for (const [what, change] of VARIANTS) {
    const doc = document() as Record<string, unknown> & VexDocument;
    change(doc);
    const schemaSays = validate(doc);
    let ours = true;
    try {
      parseVex(JSON.stringify(doc), 'vex.json');
    } catch (e) {
      assert.ok(isInputError(e) && e.code === 'VEX_INVALID' && e.file === 'vex.json', `${what}: ${e}`);
      ours = false;
    }
    assert.equal(ours, schemaSays, `${what}: the schema says ${schemaSays ? 'valid' : 'invalid'}`);
    verdicts[schemaSays ? 'valid' : 'invalid']++;
  }
  assert.ok(verdicts.valid >= 4 && verdicts.invalid >= 15, JSON.stringify(verdicts));
});

test('unreadable, non-JSON and missing VEX files are input errors naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'k3sguard-vex-'));
  try {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"@context": ');
    assert.throws(
      () => readVexFile(bad),
      (e: unknown) => isInputError(e) && e.code === 'VEX_INVALID' && e.file === bad,
    );
    assert.throws(
      () => readVexFile(join(dir, 'none.json')),
      (e: unknown) => isInputError(e) && e.code === 'NOT_FOUND',
    );
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(document()));
    assert.equal(readVexFile(good).document.statements.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('not_affected for the K3s product and its stdlib suppresses exactly the LookPath findings, with the reason', (t) => {
  const fx = scanFixture();
  if ('skip' in fx) return t.skip(fx.skip);
  assert.equal(componentPurl(fx.inventory.root), K3S_PURL);
  const out = applyVex(fx.findings, { source: 'k3s.vex.json', document: document() }, fx.inventory.root);
  const suppressed = out.filter((f) => f.vulnerability?.suppressed).map((f) => [f.id, f.component]);
  // Both stdlib findings are inside the K3s binary; the containerd one is `affected`, not suppressed.
  assert.deepEqual(suppressed, [
    ['GO-2025-3956', fx.refs.k3sStdlib],
    ['GO-2025-3956', fx.refs.runcStdlib],
  ]);
  assert.deepEqual(out.find((f) => f.vulnerability?.suppressed)?.vulnerability?.suppressed, {
    document: 'k3s.vex.json',
    justification: 'vulnerable_code_not_in_execute_path',
    statement: 'LookPath is only called with absolute paths',
  });
  // Findings are new objects; the input is left alone.
  assert.ok(fx.findings.every((f) => !f.vulnerability?.suppressed));
});

test('products match by purl with or without version, by fork upstream, by sha-256; the latest statement decides', (t) => {
  const fx = scanFixture();
  if ('skip' in fx) return t.skip(fx.skip);
  const suppressedWith = (statements: VexDocument['statements']) => {
    const doc = { ...document(), statements };
    return applyVex(fx.findings, { source: 'v.json', document: doc }, fx.inventory.root)
      .filter((f) => f.vulnerability?.suppressed)
      .map((f) => `${f.id}@${f.component}`);
  };
  const notAffected = { status: 'not_affected' as const, justification: 'component_not_present' as const };
  // The containerd fork answers to its upstream purl without a version.
  const containerd = `GO-2025-3528@${fx.refs.containerd}`;
  assert.deepEqual(
    suppressedWith([
      {
        vulnerability: { name: 'CVE-2024-40635' },
        products: [{ identifiers: { purl: 'pkg:golang/github.com/containerd/containerd' } }],
        ...notAffected,
      },
    ]),
    [containerd],
  );
  // ... and to the fork's own purl, but not to another version of the upstream.
  assert.deepEqual(
    suppressedWith([
      {
        vulnerability: { name: 'GHSA-265r-hfxg-fhmg' },
        products: [{ '@id': 'pkg:golang/github.com/k3s-io/containerd@v1.7.23-k3s2' }],
        ...notAffected,
      },
    ]),
    [containerd],
  );
  assert.deepEqual(
    suppressedWith([
      {
        vulnerability: { name: 'CVE-2024-40635' },
        products: [{ '@id': 'pkg:golang/github.com/containerd/containerd@v1.7.22' }],
        ...notAffected,
      },
    ]),
    [],
  );
  // bin/runc by its sha-256 only: the finding in runc's stdlib, not the one in the inner k3s.
  const runcSha = findSha(fx, fx.refs.runc);
  const byHash = [
    {
      vulnerability: { name: 'GO-2025-3956' },
      products: [{ '@id': 'urn:example:runc', hashes: { 'sha-256': runcSha.toUpperCase() } }],
      ...notAffected,
    },
  ];
  assert.deepEqual(suppressedWith(byHash), [`GO-2025-3956@${fx.refs.runcStdlib}`]);
  // A later `affected` statement undoes an earlier `not_affected`; an earlier one does not.
  const later = {
    vulnerability: { name: 'GO-2025-3956' },
    products: byHash[0]?.products,
    status: 'affected' as const,
    action_statement: 'upgrade',
  };
  assert.deepEqual(suppressedWith([...byHash, { ...later, timestamp: '2025-07-01T00:00:00Z' }]), []);
  assert.deepEqual(suppressedWith([...byHash, { ...later, timestamp: '2025-01-01T00:00:00Z' }]), [
    `GO-2025-3956@${fx.refs.runcStdlib}`,
  ]);
  // No products: nothing is hidden.
  assert.deepEqual(suppressedWith([{ vulnerability: { name: 'GO-2025-3956' }, ...notAffected }]), []);
});

function findSha(fx: Exclude<ReturnType<typeof scanFixture>, { skip: string }>, ref: string): string {
  for (const { component } of walk(fx.inventory.root)) {
    if (component.ref === ref && component.type === 'file') return component.sha256;
  }
  throw new Error(`no file ${ref}`);
}
