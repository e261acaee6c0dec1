// What a release or lock check needs to know about a binary: the machine its ELF header
// names, and the K3s version built into it. Read in two steps, so that damage past the
// header (a corrupt build info) still leaves the machine known; what cannot be read is a
// fact too (`notBinary`, `unreadable`), reported by the checks instead of stopping them.

import { fileSource } from '../io/bytesource.ts';
import { isInputError } from '../model/errors.ts';
import type { K3sIdentity } from '../model/inventory.ts';
import { readElf } from '../readers/elf/elf.ts';
import { sniffFormat } from '../readers/elf/sniff.ts';
import { readBinary } from '../readers/go/binary.ts';
import { k3sIdentity } from '../readers/k3sidentity.ts';

export interface BinaryFacts {
  /** GOARCH-style name of the ELF machine (`amd64`, `arm64`, `arm`, ...); absent: not an ELF. */
  arch?: string;
  /** Why there is no arch: what the file is instead, or why its ELF header cannot be read. */
  notBinary?: string;
  /** Why the build info could not be read (the version is then unknown). */
  unreadable?: string;
  /** Present for a Go binary of the K3s module (its version may still be unknown). */
  k3s?: K3sIdentity;
}

/** `file` is how the user named `path`, for errors opening it. */
export function binaryFacts(path: string, file: string = path): BinaryFacts {
  const src = fileSource(path, file);
  try {
    const sniffed = sniffFormat(src);
    if (sniffed.format !== 'elf') return { notBinary: `not an ELF binary (${sniffed.detail})` };
    const facts: BinaryFacts = {};
    try {
      facts.arch = readElf(src).arch.name;
      const info = readBinary(src);
      if (info.format === 'go') {
        const k3s = k3sIdentity(info.buildInfo, src);
        if (k3s) facts.k3s = k3s;
      }
    } catch (e) {
      if (!isInputError(e)) throw e;
      if (facts.arch === undefined) facts.notBinary = e.message;
      else facts.unreadable = e.message;
    }
    return facts;
  } finally {
    src.close();
  }
}
