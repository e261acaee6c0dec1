// Entry point: read an image archive (airgap tarball, `docker save`, OCI archive; plain, gzip
// or zstd) or an OCI layout directory in one streaming pass, then check its integrity.
import { InputError } from '../../model/errors.ts';
import type { HashedMember, RecorderFactory } from './blobhash.ts';
import { DEFAULT_FILE_VIEW_LIMITS, type FileViewLimits } from './fileview-layer.ts';
import { ImageFindings } from './findings.ts';
import { checkImagesList, type ImagesListInput } from './imageslist.ts';
import { memberJson } from './json.ts';
import { type CollectPredicate, type LayerFileHook, LayerRecorder } from './layer-record.ts';
import { parsePlatform } from './platform.ts';
import { resolveDockerManifest } from './resolve-docker.ts';
import { blobPath, checkBlobNames, type ResolveContext, resolveOciIndex } from './resolve-oci.ts';
import { type CollectedMembers, collectMembers, type LayoutSelection } from './source.ts';

import {
  DEFAULT_IMAGE_LIMITS,
  type ImageArchiveResult,
  type ImageInfo,
  type ImageLimits,
  type Platform,
} from './types.ts';

export interface ReadImagesOptions {
  /** `os/arch[/variant]` or a Platform; default linux/amd64. */
  platform?: string | Platform;
  /** k3s-images.txt: the archive must hold exactly these images. */
  imagesList?: ImagesListInput;
  limits?: Partial<ImageLimits>;
  /** Also record every layer's contents in the same pass (for `viewFromRecords`). */
  contents?: ContentOptions;
  /** Bytes of the archive (or layout blobs) read so far, of `total`; called at most every 64 MiB. */
  onProgress?: (read: number, total: number) => void;
  /**
   * For a directory target: read only these blobs, with this index.json (containerd's content
   * store; see readers/containerd/content-store.ts).
   */
  layout?: LayoutSelection;
}

export interface ContentOptions {
  collect: CollectPredicate;
  hook?: LayerFileHook;
  limits?: Partial<FileViewLimits>;
}

function recorderFactory(file: string, c: ContentOptions): RecorderFactory {
  const limits = { ...DEFAULT_FILE_VIEW_LIMITS, ...c.limits };
  const budget = { collected: 0, maxCollectTotal: limits.maxCollectTotal };
  return (path) =>
    new LayerRecorder(`${file}:${path}`, {
      collect: c.collect,
      limits: {
        maxLayerBytes: limits.maxLayerBytes,
        maxMembers: limits.maxEntries,
        maxCollectFile: limits.maxCollectFile,
        maxHookFile: limits.maxHookFile,
      },
      budget,
      ...(c.hook ? { hook: c.hook } : {}),
    });
}

export async function readImages(target: string, opts: ReadImagesOptions = {}): Promise<ImageArchiveResult> {
  const limits: ImageLimits = { ...DEFAULT_IMAGE_LIMITS, ...opts.limits };
  const platform =
    typeof opts.platform === 'string'
      ? parsePlatform(opts.platform)
      : (opts.platform ?? { os: 'linux', architecture: 'amd64' });
  // Layers are always read as tars (only their headers are kept unless `contents` asks for
  // more): a layer that is not a complete tar passes every digest check, and containerd would
  // still fail to unpack it.
  const members = await collectMembers(
    target,
    limits,
    recorderFactory(target, opts.contents ?? { collect: () => false }),
    opts.onProgress,
    opts.layout,
  );
  const findings = new ImageFindings(target);
  for (const p of members.linkProblems) findings.add(p.id, p.message, p.path);
  const ctx: ResolveContext = { file: target, members, platform, limits, findings };
  const index = members.files.get('index.json');
  const manifest = members.files.get('manifest.json');
  if (!index && !manifest) {
    throw new InputError('IMAGE_CORRUPT', target, 'image: neither index.json (OCI) nor manifest.json (Docker) found');
  }
  checkBlobNames(ctx);
  const images: ImageInfo[] = [];
  if (index) images.push(...resolveOciIndex(ctx, memberJson(target, 'index.json', index, limits)));
  const extraNames = opts.layout?.names ?? [];
  if (extraNames.length > 0) for (const i of images) i.names = [...new Set([...i.names, ...extraNames])].sort();
  if (manifest) {
    const docker = resolveDockerManifest(ctx, memberJson(target, 'manifest.json', manifest, limits), images);
    images.push(...docker);
  }
  if (opts.imagesList) checkImagesList(opts.imagesList, images, findings);
  checkLayerTars(members, images, findings);
  const format =
    members.kind === 'directory'
      ? 'oci-layout'
      : index && manifest
        ? 'oci+docker-archive'
        : index
          ? 'oci-archive'
          : 'docker-archive';
  const result: ImageArchiveResult = {
    target,
    format,
    compression: members.compression,
    ...(members.sha256 ? { sha256: members.sha256 } : {}),
    ...(members.size !== undefined ? { size: members.size } : {}),
    images,
    blobs: [...members.files.values()].map((m) => m.record),
    keptJson: new Map([...members.files].flatMap(([path, m]) => (m.json ? [[path, m.json] as const] : []))),
    findings: findings.list,
  };
  result.layerRecords = new Map();
  result.layerErrors = new Map();
  for (const [path, m] of members.files) {
    if (m.layer) result.layerRecords.set(path, m.layer);
    else if (m.layerError !== undefined) result.layerErrors.set(path, m.layerError);
  }
  return result;
}

/**
 * A layer whose bytes match every digest but do not read as a complete tar (umoci 0.4.7's
 * `insert` writes one): LAYER-UNREADABLE. Layers that failed to decompress are reported as
 * such already.
 */
function checkLayerTars(members: CollectedMembers, images: ImageInfo[], findings: ImageFindings): void {
  const byDigest = new Map<string, HashedMember>();
  for (const m of members.files.values()) byDigest.set(m.record.digest, m);
  for (const image of images) {
    for (const layer of image.layers) {
      const m = members.files.get(blobPath(layer.digest)) ?? byDigest.get(layer.digest);
      if (!m || m.layerError === undefined || m.record.decompressError !== undefined) continue;
      findings.add(
        'K3SG-IMAGE-LAYER-UNREADABLE',
        `Layer ${layer.digest} is not a complete tar: ${m.layerError.replace(/^image layer tar: /, '')}; containerd cannot unpack it.`,
        m.record.path,
      );
    }
  }
}
