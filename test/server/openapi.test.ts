// The OpenAPI document itself: JSON Schema 2020-12 that compiles strictly, refs that resolve,
// valid OpenAPI 3.1 (openapi-spec-validator, when installed); and a database failure answered
// as the document says (500, JSON, no internals).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../src/server/api/openapi.ts';
import { createUser, createUserToken } from '../../src/server/auth/users.ts';
import { startServer } from '../../src/server/http.ts';
import { openDatabase } from '../../src/server/open.ts';
import { Store } from '../../src/server/store.ts';
import { freshDatabase } from './fixtures.ts';
import { apiGet } from './openapi-check.ts';

test('the OpenAPI document: 3.1, every schema compiles strictly as JSON Schema 2020-12, every ref resolves', () => {
  const doc = openApiDocument();
  assert.equal(doc.openapi, '3.1.0');
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema({ $id: 'https://k3sguard.dev/c.json', $defs: doc.components.schemas });
  for (const name of Object.keys(doc.components.schemas)) {
    const text = JSON.stringify(doc.components.schemas[name as keyof typeof doc.components.schemas]);
    // Refs as the document writes them, pointed at the $defs above.
    const schema = JSON.parse(text.replace(/#\/components\/schemas\//g, 'https://k3sguard.dev/c.json#/$defs/'));
    assert.doesNotThrow(() => ajv.compile(schema), name);
  }
  const text = JSON.stringify(doc);
  for (const [, name] of text.matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g)) {
    assert.ok(name && name in doc.components.schemas, `${name} is referred to but not defined`);
  }
});

test('the OpenAPI document is valid OpenAPI 3.1 (openapi-spec-validator, when installed)', (t) => {
  const probe = spawnSync('python3', ['-c', 'import openapi_spec_validator'], { encoding: 'utf8' });
  if (probe.status !== 0) return t.skip('openapi-spec-validator is not installed (pip install openapi-spec-validator)');
  const dir = mkdtempSync(join(tmpdir(), 'k3sguard-openapi-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(openApiDocument()));
  const r = spawnSync('python3', ['-m', 'openapi_spec_validator', file], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /: OK$/m);
});

test('a database that fails: 500 as JSON, without its internals', async () => {
  const fresh = await freshDatabase('sqlite');
  const { db } = await openDatabase(fresh.url);
  await createUser(db, 'vera', 'viewer', 'viewer password 1');
  const token = (await createUserToken(db, 'vera'))?.token;
  const server = await startServer({ store: new Store(db), host: '127.0.0.1', port: 0 });
  try {
    await db.close();
    const res = await apiGet(server.url, '/api/v1/nodes', { authorization: `Bearer ${token}` });
    assert.equal(res.status, 500);
    assert.deepEqual(res.body, {
      error: 'INTERNAL',
      message: 'the server could not answer: its database failed; ask again later',
    });
  } finally {
    await server.close();
  }
});
