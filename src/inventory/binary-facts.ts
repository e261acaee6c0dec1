// What a release or lock check needs to know about a binary: the machine its ELF header
// names, and the K3s version built into it. Read in two steps, so that damage past the
// header (a corrupt build info) still leaves the machine known; what cannot be read is a
// fact too (`notBinary`, `unreadable`), reported by the checks instead of stopping them.
// A lock or a node audit also needs the file's digest and its embedded bundle: examineBinary
// gives all of it from one read of the file.

import { type ByteSource, fileSource } from '../io/bytesource.ts';
import type { FileDigest } from '../io/hashing.ts';
import { isInputError } from '../model/errors.ts';
import type { K3sIdentity, Location } from '../model/inventory.ts';
import { type BundleSearch, scanForBundle } from '../readers/bundle/locate.ts';
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
    return factsOf(src);
  } finally {
    src.close();
  }
}

/** The facts of a binary and every byte of it, read once. */
export interface BinaryExamination {
  facts: BinaryFacts;
  /** sha256 and size of the bytes the pass read. */
  digest: FileDigest;
  /** The embedded bundle (none declared: `declaredHashes` is empty), checked against its name. */
  bundle: BundleSearch;
}

/**
 * The facts, the file's sha256 and its embedded bundle in one pass: the facts come from the
 * headers and the build info (small reads), then every byte is read once, hashed and searched
 * for the bundle, whose frames are hashed on the way (so the file is never read twice).
 * `location` is the base of the bundle's findings (default `[file]`).
 */
export function examineBinary(path: string, file: string = path, location?: Location): BinaryExamination {
  const src = fileSource(path, file);
  try {
    const facts = factsOf(src);
    const bundle = scanForBundle(src, { location: location ?? [file] });
    return { facts, digest: { sha256: bundle.sha256, size: bundle.size }, bundle };
  } finally {
    src.close();
  }
}

function factsOf(src: ByteSource): BinaryFacts {
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
}
