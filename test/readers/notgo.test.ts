// Files that are not Go ELF binaries are named for what they are, never guessed at: real
// Windows PE and macOS Mach-O builds of esbuild, a universal Mach-O, a shell script, a C
// program's ELF, and a UPX-packed Go binary.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bufferSource, fileSource } from '../../src/io/bytesource.ts';
import type { BinaryInfo } from '../../src/model/inventory.ts';
import { readElf } from '../../src/readers/elf/elf.ts';
import { readBinary } from '../../src/readers/go/binary.ts';
import { realBinary } from '../fixtures/realbins.ts';
import { withoutSectionHeaders } from './elfpatch.ts';
import { probeBinary } from './goprobe.ts';

function read(path: string): BinaryInfo {
  const src = fileSource(path);
  try {
    return readBinary(src);
  } finally {
    src.close();
  }
}

const cases: Array<[string, string, RegExp]> = [
  ['esbuild-win32-x64-0.24.2', 'Windows PE', /^PE executable \(Windows, x86-64\)$/],
  ['esbuild-darwin-x64-0.24.2', 'Mach-O', /^Mach-O 64-bit binary \(macOS, x86_64\)$/],
  ['fsevents-2.3.3', 'universal Mach-O', /^Mach-O universal binary \(macOS, x86_64, arm64\)$/],
];
for (const [name, what, detail] of cases) {
  test(`a real ${what} is "other", not a Go ELF binary`, (t) => {
    const bin = realBinary(name);
    if ('skip' in bin) return t.skip(bin.skip);
    const info = read(bin.path);
    assert.equal(info.format, 'other');
    if (info.format === 'other') assert.match(info.detail, detail);
  });
}

test('a real shell script is "other" with its interpreter line', (t) => {
  const script = ['/usr/bin/ldd', '/usr/bin/zgrep', '/usr/bin/gunzip'].find((p) => existsSync(p));
  if (!script) return t.skip('no shell script found among /usr/bin/ldd, zgrep, gunzip');
  const firstLine = readFileSync(script, 'latin1').split('\n')[0] ?? '';
  assert.ok(firstLine.startsWith('#!'));
  assert.deepEqual(read(script), { format: 'other', detail: `script (${firstLine.trim()})` });
});

test('a real C program is an ELF that is not Go', (t) => {
  if (!existsSync('/bin/ls')) return t.skip('/bin/ls is absent');
  const info = read('/bin/ls');
  assert.equal(info.format, 'elf');
  if (info.format === 'elf') assert.equal(info.arch.name, process.arch === 'x64' ? 'amd64' : info.arch.name);
});

test('an empty file and plain data are "other"', () => {
  assert.deepEqual(readBinary(bufferSource('empty', Buffer.alloc(0))), { format: 'other', detail: 'empty file' });
  const text = readBinary(bufferSource('notes.txt', Buffer.from('hello\n')));
  assert.deepEqual(text, { format: 'other', detail: 'text' });
});

function upxCommand(): string | undefined {
  for (const cmd of ['upx', 'upx-ucl']) {
    try {
      execFileSync(cmd, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
      return cmd;
    } catch {
      // try the next name
    }
  }
  return undefined;
}

test('a UPX-packed Go binary is "packed", its build info hidden', (t) => {
  const upx = upxCommand();
  if (!upx) return t.skip('UPX is not installed (Debian package upx-ucl; not in bookworm)');
  const probe = probeBinary('amd64');
  if ('skip' in probe) return t.skip(probe.skip);
  const dir = mkdtempSync(join(tmpdir(), 'k3sguard-upx-'));
  try {
    const packed = join(dir, 'packed');
    execFileSync(upx, ['-q', '-o', packed, probe.path], { stdio: ['ignore', 'pipe', 'pipe'] });
    assert.deepEqual(read(packed), { format: 'packed', packer: 'UPX' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Without UPX at hand: a real binary (without section headers, as UPX leaves it) carrying
// UPX's stub header where UPX writes it, right after the program header table (l_info: a
// checksum, then "UPX!"), is packed; the same bytes elsewhere in the first page are not.
test('UPX l_info marker after the program headers means packed; elsewhere it does not', (t) => {
  const probe = probeBinary('amd64');
  if ('skip' in probe) return t.skip(probe.skip);
  const original = withoutSectionHeaders(readFileSync(probe.path));
  const at = readElf(bufferSource('probe', original)).programHeadersEnd;
  const marked = Buffer.from(original);
  marked.write('UPX!', at + 4, 'latin1');
  assert.deepEqual(readBinary(bufferSource('marked', marked)), { format: 'packed', packer: 'UPX' });
  const elsewhere = Buffer.from(original);
  elsewhere.write('UPX!', at + 64, 'latin1');
  assert.equal(readBinary(bufferSource('elsewhere', elsewhere)).format, 'go');
});
