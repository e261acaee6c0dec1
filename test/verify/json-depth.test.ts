// JSON nested without bound: 16 MiB of `[` (the --bundle size limit) made JSON.parse build
// sixteen million arrays, about a gigabyte. The nesting is now checked before parsing, for the
// bundle and every other JSON input (src/io/json-text.ts).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { nestsDeeperThan, parseJsonText } from '../../src/io/json-text.ts';
import { InputError } from '../../src/model/errors.ts';
import { LIMITS } from '../../src/model/limits.ts';
import { readBundleJSON } from '../../src/verify/sigstore/input.ts';
import { tempDir } from '../cli/run.ts';

test('nesting is counted outside strings only, escapes included', () => {
  assert.equal(nestsDeeperThan('[[1]]', 2), false);
  assert.equal(nestsDeeperThan('[[[1]]]', 2), true);
  assert.equal(nestsDeeperThan('{"a":[{"b":"[[[[[[\\"[[["}]}', 3), false);
  assert.equal(nestsDeeperThan('[1],[2],[3]', 1), false);
  assert.deepEqual(parseJsonText('{"a":["]"]}'), { a: [']'] });
  assert.throws(() => parseJsonText(`${'['.repeat(200)}${']'.repeat(200)}`), {
    name: 'SyntaxError',
    message: `nested more than ${LIMITS.jsonDepth} levels deep (the limit for JSON input)`,
  });
});

test('a 16 MiB --bundle of nested arrays is refused before parsing: BAD_JSON, one line', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'deep.json');
  const half = (LIMITS.optionFile.bundle >> 1) - 1;
  // Valid JSON: without the check it parses (into eight million arrays) and is judged later.
  writeFileSync(file, `${'['.repeat(half)}${']'.repeat(half)}`);
  await assert.rejects(readBundleJSON(file), (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.code, 'BAD_JSON');
    assert.equal(e.file, file);
    assert.match(e.message, /^the bundle is not JSON: nested more than 128 levels deep/);
    return true;
  });
});
