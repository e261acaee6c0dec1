// Validate an SBOM the way a consumer would: against the official JSON schema, then for the
// reference integrity no schema can express (ids unique, every reference resolving).
// Reusable by any test that produces an SBOM (the CLI tests too).
//
// CycloneDX 1.6: the schema shipped in @cyclonedx/cyclonedx-library (`res/schema/`, not in the
// package's exports, so found from its package.json). SPDX 2.3: ../shared/data/schemas, which
// may be absent: then validateSpdx says why it skipped instead of pretending to pass.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { SHARED_DATA } from '../fixtures/realbins.ts';

const CDX_SCHEMA_DIR = join(
  dirname(createRequire(import.meta.url).resolve('@cyclonedx/cyclonedx-library/package.json')),
  'res',
  'schema',
);
export const SPDX_SCHEMA_PATH = join(SHARED_DATA, 'schemas', 'spdx-2.3-schema.json');

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  // CycloneDX uses two formats ajv-formats lacks; k3sguard writes no field of either kind.
  ajv.addFormat('iri-reference', true);
  ajv.addFormat('idn-email', true);
  return ajv;
}

function schemaErrors(validate: ValidateFunction, doc: unknown): string[] {
  if (validate(doc)) return [];
  return (validate.errors ?? []).map(
    (e: ErrorObject) => `schema: ${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
  );
}

let cdxValidator: ValidateFunction | undefined;

function cycloneDxValidator(): ValidateFunction {
  if (!cdxValidator) {
    const ajv = newAjv();
    // The bom schema refers to these by names relative to its $id (http://cyclonedx.org/schema/).
    for (const name of ['spdx.SNAPSHOT.schema.json', 'jsf-0.82.SNAPSHOT.schema.json']) {
      ajv.addSchema(readJson(join(CDX_SCHEMA_DIR, name)), `http://cyclonedx.org/schema/${name}`);
    }
    cdxValidator = ajv.compile(readJson(join(CDX_SCHEMA_DIR, 'bom-1.6.SNAPSHOT.schema.json')));
  }
  return cdxValidator;
}

interface CdxComponent {
  'bom-ref'?: string;
  components?: CdxComponent[];
}

/** Every component of a CycloneDX document, metadata.component first, depth first. */
export function cycloneDxComponents(bom: {
  metadata?: { component?: CdxComponent };
  components?: CdxComponent[];
}): CdxComponent[] {
  const out: CdxComponent[] = [];
  const visit = (c: CdxComponent): void => {
    out.push(c);
    for (const child of c.components ?? []) visit(child);
  };
  if (bom.metadata?.component) visit(bom.metadata.component);
  for (const c of bom.components ?? []) visit(c);
  return out;
}

/** Schema errors, then integrity errors, of a CycloneDX 1.6 JSON text; [] when it is valid. */
export function validateCycloneDx(json: string): string[] {
  const bom = JSON.parse(json) as {
    specVersion?: string;
    metadata?: { component?: CdxComponent };
    components?: CdxComponent[];
    dependencies?: Array<{ ref: string; dependsOn?: string[] }>;
  };
  const errors = schemaErrors(cycloneDxValidator(), bom);
  if (bom.specVersion !== '1.6') errors.push(`specVersion is ${bom.specVersion}, not 1.6`);
  const refs = new Set<string>();
  for (const c of cycloneDxComponents(bom)) {
    const ref = c['bom-ref'];
    if (ref === undefined) continue;
    if (refs.has(ref)) errors.push(`bom-ref ${ref} is not unique`);
    refs.add(ref);
  }
  const seen = new Set<string>();
  for (const d of bom.dependencies ?? []) {
    if (seen.has(d.ref)) errors.push(`dependencies: ${d.ref} listed twice`);
    seen.add(d.ref);
    for (const r of [d.ref, ...(d.dependsOn ?? [])]) {
      if (!refs.has(r)) errors.push(`dependencies: ${r} is no component's bom-ref`);
    }
  }
  return errors;
}

let spdxValidator: ValidateFunction | undefined;

interface SpdxDoc {
  SPDXID?: string;
  documentNamespace?: string;
  creationInfo?: { created?: string };
  packages?: Array<{ SPDXID: string }>;
  relationships?: Array<{ spdxElementId: string; relationshipType: string; relatedSpdxElement: string }>;
}

/** Schema errors, then integrity errors, of an SPDX 2.3 JSON text; or why it could not be checked. */
export function validateSpdx(json: string): string[] | { skip: string } {
  if (!spdxValidator) {
    if (!existsSync(SPDX_SCHEMA_PATH))
      return { skip: `SPDX 2.3 schema not found at ${SPDX_SCHEMA_PATH} (../shared absent)` };
    spdxValidator = newAjv().compile(readJson(SPDX_SCHEMA_PATH));
  }
  const doc = JSON.parse(json) as SpdxDoc;
  const errors = schemaErrors(spdxValidator, doc);
  // The 2.3 schema leaves these to the specification text.
  if (doc.documentNamespace === undefined || doc.documentNamespace.includes('#')) {
    errors.push(`documentNamespace must be present and hold no '#': ${doc.documentNamespace}`);
  }
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(doc.creationInfo?.created ?? '')) {
    errors.push(`creationInfo.created is not YYYY-MM-DDThh:mm:ssZ: ${doc.creationInfo?.created}`);
  }
  const ids = new Set<string>();
  for (const id of [doc.SPDXID ?? '', ...(doc.packages ?? []).map((p) => p.SPDXID)]) {
    if (!/^SPDXRef-[A-Za-z0-9.-]+$/.test(id)) errors.push(`SPDXID ${id} has characters outside [A-Za-z0-9.-]`);
    if (ids.has(id)) errors.push(`SPDXID ${id} is not unique`);
    ids.add(id);
  }
  const rels = doc.relationships ?? [];
  for (const r of rels) {
    for (const end of [r.spdxElementId, r.relatedSpdxElement]) {
      if (!ids.has(end) && end !== 'NOASSERTION' && end !== 'NONE') {
        errors.push(`relationship ${r.relationshipType}: ${end} is no element of the document`);
      }
    }
  }
  if (!rels.some((r) => r.spdxElementId === doc.SPDXID && r.relationshipType === 'DESCRIBES')) {
    errors.push('no DESCRIBES relationship from the document');
  }
  return errors;
}

let reportValidator: ValidateFunction | undefined;

/** The agent's node report (k3sguard/report@1) against docs/report-schema.json. */
export function reportSchemaErrors(doc: unknown): string[] {
  reportValidator ??= newAjv().compile(readJson(join(import.meta.dirname, '..', '..', 'docs', 'report-schema.json')));
  return schemaErrors(reportValidator, doc);
}
