// What kind of file is this? Only an ELF goes on to the Go readers; everything else is named
// by its magic number (PE, Mach-O, script, ...) and reported as "not a Go ELF binary" without
// guessing at its contents. A UPX-packed ELF is called out: its Go build info is compressed
// away, so nothing about its modules can be said until it is unpacked.
import type { ByteSource } from '../../io/bytesource.ts';
import type { ElfFile } from './elf.ts';

export type Sniffed = { format: 'elf' } | { format: 'other'; detail: string };

const PE_MACHINES: Record<number, string> = { 332: 'x86', 34404: 'x86-64', 452: 'ARMv7', 43620: 'ARM64' };
const MACHO_CPUS: Record<number, string> = {
  7: 'i386',
  16777223: 'x86_64',
  12: 'arm',
  16777228: 'arm64',
  18: 'ppc',
  16777234: 'ppc64',
};
// A Java class file also starts with CAFEBABE, followed by its version (major >= 45);
// a universal Mach-O has its architecture count there, in practice a handful.
const MAX_FAT_ARCHS = 44;

export function sniffFormat(src: ByteSource): Sniffed {
  const head = src.read(0, 512);
  if (head.length === 0) return { format: 'other', detail: 'empty file' };
  if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46) return { format: 'elf' };
  if (head.length >= 2 && head.toString('latin1', 0, 2) === '#!') return { format: 'other', detail: script(head) };
  if (head.length >= 2 && head.toString('latin1', 0, 2) === 'MZ') return { format: 'other', detail: pe(src, head) };
  if (head.length >= 8) {
    const macho = machO(head);
    if (macho) return { format: 'other', detail: macho };
  }
  return { format: 'other', detail: dataKind(head) };
}

function script(head: Buffer): string {
  const nl = head.indexOf(0x0a);
  const line = head
    .toString('latin1', 0, nl < 0 ? Math.min(head.length, 120) : Math.min(nl, 120))
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return `script (${line})`;
}

function pe(src: ByteSource, head: Buffer): string {
  if (head.length < 0x40) return 'DOS MZ executable (truncated)';
  const lfanew = head.readUInt32LE(0x3c);
  const nt = src.read(lfanew, 24);
  if (nt.length < 24 || nt.toString('latin1', 0, 4) !== 'PE\0\0') return 'DOS MZ executable';
  const machine = nt.readUInt16LE(4);
  const arch = PE_MACHINES[machine] ?? `machine 0x${machine.toString(16)}`;
  const upx = peSectionNames(src, lfanew, nt).some((n) => n.startsWith('UPX'));
  return `PE executable (Windows, ${arch})${upx ? ', UPX-packed' : ''}`;
}

function peSectionNames(src: ByteSource, lfanew: number, nt: Buffer): string[] {
  const count = Math.min(nt.readUInt16LE(6), 96); // the PE loader's own limit is 96
  const table = src.read(lfanew + 24 + nt.readUInt16LE(20), count * 40);
  const names: string[] = [];
  for (let at = 0; at + 40 <= table.length; at += 40) {
    names.push(table.toString('latin1', at, at + 8).replace(/\0.*$/s, ''));
  }
  return names;
}

function machO(head: Buffer): string | undefined {
  const magic = head.readUInt32BE(0);
  if (magic === 0xcafebabe || magic === 0xcafebabf) {
    const n = head.readUInt32BE(4);
    if (n === 0 || n > MAX_FAT_ARCHS) return magic === 0xcafebabe ? 'Java class file' : undefined;
    const entry = magic === 0xcafebabe ? 20 : 32;
    const cpus: string[] = [];
    for (let i = 0; i < n && 8 + (i + 1) * entry <= head.length; i++) {
      const cpu = head.readUInt32BE(8 + i * entry);
      cpus.push(MACHO_CPUS[cpu] ?? `cpu 0x${cpu.toString(16)}`);
    }
    return `Mach-O universal binary (macOS, ${cpus.join(', ')})`;
  }
  let little: boolean;
  if (magic === 0xfeedface || magic === 0xfeedfacf) little = false;
  else if (magic === 0xcefaedfe || magic === 0xcffaedfe) little = true;
  else return undefined;
  const bits = magic === 0xfeedfacf || magic === 0xcffaedfe ? 64 : 32;
  const cpu = little ? head.readUInt32LE(4) : head.readUInt32BE(4);
  return `Mach-O ${bits}-bit binary (macOS, ${MACHO_CPUS[cpu] ?? `cpu 0x${cpu.toString(16)}`})`;
}

function dataKind(head: Buffer): string {
  const hex = head.toString('hex', 0, Math.min(4, head.length));
  if (hex.startsWith('1f8b')) return 'gzip data';
  if (hex === '28b52ffd') return 'zstd data';
  if (hex === '504b0304') return 'zip archive';
  if (hex === '0061736d') return 'WebAssembly module';
  if (head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar archive';
  const printable = head.every((c) => c === 9 || c === 10 || c === 13 || (c >= 0x20 && c < 0x7f) || c >= 0x80);
  return printable ? 'text' : 'data (no executable format k3sguard recognises)';
}

// UPX's stub header (l_info: checksum, then the magic "UPX!") sits right after the program
// header table of the packed ELF; the packer's trailer ("UPX!" pack header) ends the file.
const UPX_MAGIC = Buffer.from('UPX!', 'latin1');

/** True when the ELF carries UPX's markers: it is compressed, and what it holds is hidden. */
export function isUpxPacked(elf: ElfFile): boolean {
  const src = elf.source;
  if (src.read(elf.programHeadersEnd + 4, 4).equals(UPX_MAGIC)) return true;
  if (elf.sections.some((s) => s.name.startsWith('UPX'))) return true;
  // Packed files carry no section headers; only then is the trailer looked at, so a normal
  // binary that happens to end in these bytes is not mistaken for one.
  if (elf.sections.length === 0) return src.read(Math.max(0, src.size - 64), 64).includes(UPX_MAGIC);
  return false;
}
