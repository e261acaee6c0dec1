// The OCI archive: the layout directory as one tar (what `ctr images import`, skopeo's
// `oci-archive:` and k3sguard read), written by the same deterministic tar writer as the layer,
// so the archive's own sha256 is as reproducible as the image digest.
import { createWriteStream, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type TarOwner, type TarWriteEntry, tarChunks } from '../../src/io/tar-writer.ts';

const OWNER: TarOwner = { uid: 0, gid: 0, uname: 'root', gname: 'root' };

/** oci-layout, index.json, then blobs/sha256/ and each blob, in name order. */
function layoutEntries(layout: string): TarWriteEntry[] {
  const file = (path: string): TarWriteEntry => ({
    type: 'file',
    path,
    from: join(layout, path),
    size: statSync(join(layout, path)).size,
    mode: 0o644,
    owner: OWNER,
  });
  const blobs = readdirSync(join(layout, 'blobs', 'sha256')).sort();
  return [
    file('oci-layout'),
    file('index.json'),
    { type: 'dir', path: 'blobs', mode: 0o755, owner: OWNER },
    { type: 'dir', path: 'blobs/sha256', mode: 0o755, owner: OWNER },
    ...blobs.map((b) => file(`blobs/sha256/${b}`)),
  ];
}

export async function writeArchive(layout: string, out: string, mtime: number): Promise<void> {
  const tmp = `${out}.tmp-${process.pid}`;
  await pipeline(Readable.from(tarChunks(layoutEntries(layout), mtime)), createWriteStream(tmp));
  renameSync(tmp, out);
}
