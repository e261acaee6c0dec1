// The all.zip reader on archives made by real tools, and on the hostile ones: a 2 GiB bomb,
// a header lying about its size, overlapping entries, `../`, absolute and backslash names,
// truncation, a flipped byte, encryption, bzip2.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bufferSource } from '../../src/io/bytesource.ts';
import { isInputError } from '../../src/model/errors.ts';
import { DEFAULT_ZIP_LIMITS, openZipFile, readZip } from '../../src/vulndb/zip.ts';
import {
  GOVULNDB,
  govulndbZip,
  noPython,
  noSharedData,
  noZipTool,
  pythonZip,
  tempDir,
  zip,
  zipBomb,
} from './fixtures.ts';

const refused = (code: string, pattern: RegExp) => (e: unknown) => {
  assert.ok(isInputError(e), `expected an InputError, got ${e}`);
  assert.equal(e.code, code, e.message);
  assert.match(e.message, pattern);
  return true;
};

test('reads every entry of the govulndb folder zipped by Info-ZIP, byte for byte', {
  skip: noSharedData ?? noZipTool,
}, () => {
  const archive = openZipFile(govulndbZip());
  try {
    const names = readdirSync(GOVULNDB).filter((n) => n.endsWith('.json'));
    assert.equal(archive.entries.length, names.length);
    for (const e of archive.entries) assert.deepEqual(archive.read(e), readFileSync(join(GOVULNDB, e.name)), e.name);
    assert.ok(archive.entries.some((e) => e.method === 8));
  } finally {
    archive.close();
  }
});

test('stored entries and ZIP64 records (zip -0 -fz)', { skip: noZipTool }, () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.json'), '{"id":"A"}\n');
  writeFileSync(join(dir, 'b.json'), `${'{"id":"B"}'.padEnd(100_000, ' ')}\n`);
  zip(dir, ['-0', 'stored.zip', 'a.json', 'b.json']);
  zip(dir, ['-fz', 'zip64.zip', 'a.json', 'b.json']);
  for (const name of ['stored.zip', 'zip64.zip']) {
    const archive = openZipFile(join(dir, name));
    assert.deepEqual(
      archive.entries.map((e) => [e.name, archive.read(e).toString().trim().slice(0, 10)]),
      [
        ['a.json', '{"id":"A"}'],
        ['b.json', '{"id":"B"}'],
      ],
      name,
    );
    archive.close();
  }
});

test('a 2 GiB deflate bomb is refused from its declared size, before inflating', { skip: noZipTool }, () => {
  const bomb = zipBomb();
  assert.throws(
    () => openZipFile(bomb),
    refused('ZIP_LIMIT', /2147483648 bytes uncompressed, over the per-entry limit of 67108864/),
  );
});

test('a bomb whose header lies about its size stops at the declared size', { skip: noZipTool }, () => {
  const bomb = readFileSync(zipBomb());
  const central = bomb.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  const declare = (size: number): Buffer => {
    bomb.writeUInt32LE(size, central + 24);
    bomb.writeUInt32LE(size, 22);
    return bomb;
  };
  // 2 MB of deflate data cannot come from 1000 bytes: refused before reading it.
  assert.throws(
    () => readZip(bufferSource('lying.zip', declare(1000))),
    refused('ZIP_CORRUPT', /compressed size does not fit/),
  );
  // 4 MB could: the limits pass, and inflating stops one byte past the declared size.
  const archive = readZip(bufferSource('lying.zip', declare(4_000_000)));
  const entry = archive.entries[0];
  assert.ok(entry);
  assert.throws(
    () => archive.read(entry),
    refused('ZIP_CORRUPT', /inflates past the 4000000 bytes its header declares/),
  );
});

test('the total and entry-count limits', { skip: noSharedData ?? noZipTool }, () => {
  const path = govulndbZip();
  assert.throws(
    () => openZipFile(path, { ...DEFAULT_ZIP_LIMITS, maxTotalBytes: 1_000_000 }),
    refused('ZIP_LIMIT', /over 1000000 bytes uncompressed in all/),
  );
  assert.throws(
    () => openZipFile(path, { ...DEFAULT_ZIP_LIMITS, maxEntries: 100 }),
    refused('ZIP_LIMIT', /entries, over the limit of 100/),
  );
});

for (const [name, why] of [
  ['../GO-2024-2491.json', /has a "\.\." component/],
  ['records/../../etc/GO.json', /has a "\.\." component/],
  ['/etc/GO-2024-2491.json', /has an absolute path/],
  ['records\\GO-2024-2491.json', /has a backslash/],
] as const) {
  test(`an entry named ${name} makes the whole archive refused`, { skip: noPython }, () => {
    const path = join(tempDir(), 'evil.zip');
    pythonZip(path, [
      ['GO-2020-0001.json', '{}'],
      [name, '{}'],
    ]);
    assert.throws(() => openZipFile(path), refused('UNSAFE_PATH', why));
  });
}

test('truncated archives are refused, wherever the cut', { skip: noSharedData ?? noZipTool }, () => {
  const whole = readFileSync(govulndbZip());
  for (const keep of [10, 30_000, whole.length >> 1, whole.length - 30, whole.length - 1]) {
    const cut = bufferSource(`cut-${keep}.zip`, whole.subarray(0, keep));
    assert.throws(
      () => readZip(cut),
      refused('ZIP_CORRUPT', /truncated|no end of central directory|too short/),
      `cut at ${keep}`,
    );
  }
});

test('a flipped data byte fails the CRC-32 check', { skip: noZipTool }, () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'GO-1.json'), '{"id":"GO-1","modified":"2024-01-01T00:00:00Z"}');
  zip(dir, ['-0', 'x.zip', 'GO-1.json']);
  const bytes = readFileSync(join(dir, 'x.zip'));
  const at = 30 + bytes.readUInt16LE(26) + bytes.readUInt16LE(28) + 5; // inside the data
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0x20, at);
  const archive = readZip(bufferSource('flipped.zip', bytes));
  const entry = archive.entries[0];
  assert.ok(entry);
  assert.throws(() => archive.read(entry), refused('ZIP_CORRUPT', /GO-1.json: CRC-32 mismatch/));
});

test('overlapping entries (two names on one local header) are refused', { skip: noPython }, () => {
  const path = join(tempDir(), 'overlap.zip');
  pythonZip(path, [
    ['GO-1.json', '{"id":"GO-1"}'],
    ['GO-2.json', '{"id":"GO-2"}'],
  ]);
  const bytes = readFileSync(path);
  const second = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  bytes.writeUInt32LE(0, second + 42); // the second entry now points at the first one's data
  assert.throws(() => readZip(bufferSource('overlap.zip', bytes)), refused('ZIP_CORRUPT', /overlaps/));
});

test('encrypted and bzip2 entries are refused as unsupported', { skip: noZipTool }, () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'GO-1.json'), JSON.stringify({ id: 'GO-1', details: 'x'.repeat(5000) }));
  zip(dir, ['-P', 'secret', 'enc.zip', 'GO-1.json']);
  assert.throws(() => openZipFile(join(dir, 'enc.zip')), refused('ZIP_UNSUPPORTED', /encrypted/));
  zip(dir, ['-Z', 'bzip2', 'bz.zip', 'GO-1.json']);
  assert.throws(() => openZipFile(join(dir, 'bz.zip')), refused('ZIP_UNSUPPORTED', /compression method 12/));
});

test('not a zip at all', () => {
  assert.throws(
    () => readZip(bufferSource('x.zip', Buffer.from('{"id": "GO-1"}'.repeat(4)))),
    refused('ZIP_CORRUPT', /no end of central/),
  );
});
