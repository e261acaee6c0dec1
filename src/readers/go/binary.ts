// The one entry point the inventory uses: what is this file, and if it is a Go ELF binary,
// what does it say about how it was built? Each answer is a BinaryInfo variant; nothing is
// guessed (a file that is not an ELF is "other", an ELF without Go's tables is "elf").

import type { ByteSource } from '../../io/bytesource.ts';
import type { BinaryInfo } from '../../model/inventory.ts';
import { readElf } from '../elf/elf.ts';
import { isUpxPacked, sniffFormat } from '../elf/sniff.ts';
import { readGoBuildInfo } from './buildinfo.ts';
import { findPclntab, findRuntimeGoVersion } from './stripped.ts';

/**
 * Reads only what it needs: the headers, the build info, and (for a Go binary without build
 * info, or one without section headers) the segments that hold Go's tables. Throws
 * InputError (ELF_TRUNCATED, ELF_CORRUPT, BUILDINFO_CORRUPT) for a damaged ELF.
 */
export function readBinary(src: ByteSource): BinaryInfo {
  const sniffed = sniffFormat(src);
  if (sniffed.format !== 'elf') return sniffed;
  const elf = readElf(src);
  if (isUpxPacked(elf)) return { format: 'packed', packer: 'UPX' };
  const buildInfo = readGoBuildInfo(elf);
  if (buildInfo) return { format: 'go', buildInfo, arch: elf.arch };
  const pclntab = findPclntab(elf);
  if (!pclntab) return { format: 'elf', arch: elf.arch };
  const goVersion = findRuntimeGoVersion(elf);
  const reason =
    `Go binary (pclntab format of ${pclntab.format}) without Go build info: ` +
    'its module list is missing, so the modules it was built from cannot be listed or checked';
  return goVersion
    ? { format: 'go-no-buildinfo', goVersion, arch: elf.arch, reason }
    : { format: 'go-no-buildinfo', arch: elf.arch, reason };
}
