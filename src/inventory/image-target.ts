// Whether a target is an image: an archive (tar, gzip or zstd: never an ELF) or an OCI layout.
// Apart from the image readers, so that a command which only asks (verify of a file against
// its sums) does not load them.
import { readdirSync, type Stats } from 'node:fs';
import { readFileHead } from '../io/bytesource.ts';
import { sniffCompression } from '../readers/images/blobhash.ts';

/** An archive (tar, gzip or zstd: never an ELF) or an OCI layout directory. */
export function isImageTarget(target: string, st: Stats): boolean {
  if (st.isDirectory()) {
    try {
      return isOciLayout(readdirSync(target));
    } catch {
      return false; // unreadable: the directory walk reports it
    }
  }
  if (!st.isFile()) return false;
  let head: Buffer;
  try {
    head = readFileHead(target, 512);
  } catch {
    return false; // unreadable: inspectFile reports it
  }
  if (sniffCompression(head) !== 'none') return true;
  return head.length === 512 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

/** Whether a directory is an OCI image layout (it has an `oci-layout` file or index.json + blobs/). */
export function isOciLayout(entries: readonly string[]): boolean {
  return entries.includes('oci-layout') || (entries.includes('index.json') && entries.includes('blobs'));
}
