// The content-addressed blob store of an OCI image layout (blobs/sha256/<hex>) and the
// descriptors that point into it. JSON documents are serialized once, here, with the key
// order their builders wrote: the digest is of exactly these bytes.
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

export const blobPath = (layout: string, digest: string) => join(layout, 'blobs', ...digest.split(':'));

export function blobDir(layout: string): string {
  const dir = join(layout, 'blobs', 'sha256');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function writeBlob(layout: string, mediaType: string, bytes: Buffer): Descriptor {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  blobDir(layout);
  writeFileSync(blobPath(layout, digest), bytes);
  return { mediaType, digest, size: bytes.length };
}

export function writeJsonBlob(layout: string, mediaType: string, doc: unknown): Descriptor {
  return writeBlob(layout, mediaType, Buffer.from(JSON.stringify(doc)));
}

/** Put a finished temporary file in place as the blob `digest`. */
export function moveIntoStore(layout: string, tmpFile: string, digest: string): void {
  blobDir(layout);
  renameSync(tmpFile, blobPath(layout, digest));
}
