// The layers of an image that `readImages` found, as inputs for `buildFileView`. In an OCI
// layout directory a layer is a file; in an archive (airgap `ctr export` tar, `docker save`,
// oci-archive; plain, gzip or zstd) it is a member, so opening a layer streams the archive
// again from the start up to that member and yields the member's stored bytes: nothing is
// buffered beyond one decompressed chunk and nothing is written to disk. The bytes are hashed
// as they pass and must be the ones `readImages` hashed: the file may have changed between
// the two reads, and a view of other bytes than the ones checked would be a lie.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { normalizeMemberPath } from '../../io/member-paths.ts';
import { TarReader } from '../../io/tar.ts';
import { InputError } from '../../model/errors.ts';
import { type FileView, type LayerInput, osPackageFiles, viewFromRecords } from './fileview.ts';
import { DEFAULT_FILE_VIEW_LIMITS, type FileViewLimits, recordLayer } from './fileview-layer.ts';
import type { ImageFindings } from './findings.ts';
import type { CollectPredicate, LayerFileHook, LayerRecord } from './layer-record.ts';
import { type ContentOptions, type ReadImagesOptions, readImages } from './read.ts';
import { normalizeImageRef } from './refs.ts';
import { blobPath } from './resolve-oci.ts';
import { openTarStream, streamError } from './source.ts';
import type { BlobRecord, ImageArchiveResult, ImageInfo } from './types.ts';

const CHUNK = 1024 * 1024;

/** The record of the blob holding a layer: `blobs/sha256/<hex>` (OCI) or the Docker layer file. */
function layerBlob(archive: ImageArchiveResult, digest: string): BlobRecord {
  const path = blobPath(digest);
  const found = archive.blobs.find((b) => b.path === path) ?? archive.blobs.find((b) => b.digest === digest);
  if (!found) throw new InputError('IMAGE_CORRUPT', archive.target, `image: layer ${digest} is not in the image`);
  return found;
}

/** Pass bytes through while hashing them; at the end they must be the blob `readImages` saw. */
async function* checked(file: string, blob: BlobRecord, bytes: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of bytes) {
    hash.update(chunk);
    size += chunk.length;
    yield chunk;
  }
  const digest = `sha256:${hash.digest('hex')}`;
  if (digest !== blob.digest || size !== blob.size) {
    throw new InputError(
      'IMAGE_CORRUPT',
      file,
      `image: ${blob.path} changed since it was read (${size} bytes, ${digest}; was ${blob.size} bytes, ${blob.digest})`,
    );
  }
}

/** The stored bytes of one regular member of an archive, streamed from a fresh read. */
async function* memberBytes(archive: ImageArchiveResult, path: string): AsyncIterable<Buffer> {
  const file = archive.target;
  const tar = new TarReader(file, undefined, 'image archive tar');
  const stream = openTarStream(file, archive.compression);
  let inMember = false;
  try {
    for await (const chunk of stream) {
      for (const ev of tar.feed(chunk as Buffer)) {
        if (ev.type === 'entry') {
          const clean = normalizeMemberPath(ev.entry.name);
          inMember = ev.entry.type === 'file' && clean.ok && clean.path === path;
          if (inMember && ev.entry.size === 0) return;
        } else if (ev.type === 'data') {
          if (inMember) yield ev.data;
        } else if (inMember) {
          return; // the member ended: the rest of the archive is not read (the stream is destroyed)
        }
      }
    }
  } catch (e) {
    throw streamError(file, archive.compression, e);
  } finally {
    stream.destroy();
  }
  throw new InputError('IMAGE_CORRUPT', file, `image: member ${path} is no longer in the archive`);
}

/**
 * One LayerInput per layer of `image` (lowest first), for an image `readImages` found in an
 * archive or an OCI layout directory (`archive` is what it returned). Each `open()` streams
 * the layer's stored (still compressed) bytes; buildFileView decompresses them.
 */
export function archiveLayers(archive: ImageArchiveResult, image: ImageInfo): LayerInput[] {
  return image.layers.map((layer) => {
    const blob = layerBlob(archive, layer.digest);
    const name = `${archive.target}:${blob.path}`;
    const open =
      archive.format === 'oci-layout'
        ? () => createReadStream(join(archive.target, blob.path), { highWaterMark: CHUNK })
        : () => memberBytes(archive, blob.path);
    return { name, open: () => checked(archive.target, blob, open()) };
  });
}

export interface ImageFileViewOptions extends ReadImagesOptions {
  /** Which image, by reference (normalized like the archive's names); needed when it holds several. */
  image?: string;
  collect?: CollectPredicate;
  hook?: LayerFileHook;
  findings?: ImageFindings;
  viewLimits?: Partial<FileViewLimits>;
}

export interface ImageFileViewResult {
  archive: ImageArchiveResult;
  image: ImageInfo;
  view: FileView;
}

/** The image `name` names, or the only image there is. */
export function pickImage(archive: ImageArchiveResult, name?: string): ImageInfo {
  const all = archive.images.map((i) => i.names.join(', ') || i.configDigest || '(unnamed)').join('; ');
  if (name === undefined) {
    const [only, ...rest] = archive.images;
    if (only && rest.length === 0) return only;
    const why = only ? `holds ${archive.images.length} images (${all}): name one` : 'holds no image';
    throw new InputError('USAGE', archive.target, `image: ${why}`);
  }
  const wanted = normalizeImageRef(name) ?? name;
  const found = archive.images.find((i) => i.names.includes(wanted));
  if (!found) throw new InputError('USAGE', archive.target, `image: no image ${wanted} (the archive holds: ${all})`);
  return found;
}

/**
 * The final view of one image of an archive read with `contents`: each layer's record from
 * the one pass. A layer blob that was not recorded (a plain tar whose first member name looks
 * like JSON, say) is streamed again; one that could not be read as a tar is an error.
 */
export async function imageView(
  archive: ImageArchiveResult,
  image: ImageInfo,
  opts: { collect: CollectPredicate; hook?: LayerFileHook; findings?: ImageFindings; limits?: Partial<FileViewLimits> },
): Promise<FileView> {
  const limits = { ...DEFAULT_FILE_VIEW_LIMITS, ...opts.limits };
  const budget = { collected: 0, maxCollectTotal: limits.maxCollectTotal };
  const inputs = archiveLayers(archive, image);
  const records: LayerRecord[] = [];
  for (const [i, layer] of image.layers.entries()) {
    const blob = layerBlob(archive, layer.digest);
    const recorded = archive.layerRecords?.get(blob.path);
    if (recorded) {
      records.push(recorded);
      continue;
    }
    const error = archive.layerErrors?.get(blob.path);
    if (error !== undefined)
      throw new InputError('IMAGE_CORRUPT', archive.target, `image layer ${blob.path}: ${error}`);
    const input = inputs[i] as LayerInput;
    records.push(
      await recordLayer(input, { collect: opts.collect, limits, budget, ...(opts.hook ? { hook: opts.hook } : {}) }),
    );
  }
  return viewFromRecords(records, { limits, ...(opts.findings ? { findings: opts.findings } : {}) });
}

/** readImages, then the final file view of one image, all layers recorded in the same pass. */
export async function imageFileView(target: string, opts: ImageFileViewOptions = {}): Promise<ImageFileViewResult> {
  const collect = opts.collect ?? osPackageFiles;
  const contents: ContentOptions = { collect, ...(opts.hook ? { hook: opts.hook } : {}) };
  if (opts.viewLimits) contents.limits = opts.viewLimits;
  const archive = await readImages(target, { ...opts, contents });
  const image = pickImage(archive, opts.image);
  const view = await imageView(archive, image, {
    collect,
    ...(opts.hook ? { hook: opts.hook } : {}),
    ...(opts.findings ? { findings: opts.findings } : {}),
    ...(opts.viewLimits ? { limits: opts.viewLimits } : {}),
  });
  return { archive, image, view };
}
