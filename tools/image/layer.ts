// The image's layer blob: the tar stream of its entries, gzip-compressed on the way to disk,
// hashed on both sides (the uncompressed digest is the config's diff_id, the compressed one the
// manifest's layer digest). gzip comes from node:zlib at a fixed level with no file name and a
// zero mtime in its header, so the same entries give the same bytes from the same Node: an
// uncompressed layer would be reproducible anywhere, but the executable is most of the image and
// gzip more than halves it. Level 6 (zlib's default): level 9 saved well under one percent
// on it for three times the time.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';
import { type TarWriteEntry, tarChunks } from '../../src/io/tar-writer.ts';
import { blobDir, type Descriptor, moveIntoStore } from './blobs.ts';

export const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const GZIP_LEVEL = 6;

export interface Layer {
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Bytes of the uncompressed tar. */
  tarSize: number;
}

function hashing(hash: ReturnType<typeof createHash>, count: (n: number) => void) {
  return async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      hash.update(chunk);
      count(chunk.length);
      yield chunk;
    }
  };
}

export async function writeLayer(layout: string, entries: TarWriteEntry[], mtime: number): Promise<Layer> {
  const tmp = join(blobDir(layout), `.layer-${process.pid}.tmp`);
  const diff = createHash('sha256');
  const compressed = createHash('sha256');
  let tarSize = 0;
  let size = 0;
  await pipeline(
    Readable.from(tarChunks(entries, mtime)),
    hashing(diff, (n) => {
      tarSize += n;
    }),
    createGzip({ level: GZIP_LEVEL, strategy: constants.Z_DEFAULT_STRATEGY }),
    hashing(compressed, (n) => {
      size += n;
    }),
    createWriteStream(tmp),
  );
  const digest = `sha256:${compressed.digest('hex')}`;
  moveIntoStore(layout, tmp, digest);
  return { descriptor: { mediaType: LAYER_MEDIA_TYPE, digest, size }, diffId: `sha256:${diff.digest('hex')}`, tarSize };
}
