// index.json -> (image index ->) manifest -> config -> layers, for the platform asked for,
// with the blob checks of each step. Only the chosen platform's path is followed: an export
// for one platform legitimately lacks the other platforms' manifests.
import type { HashedMember } from './blobhash.ts';
import type { ImageFindings } from './findings.ts';
import {
  type Descriptor,
  descriptorList,
  INDEX_TYPES,
  type JsonObject,
  MANIFEST_TYPES,
  memberJson,
  descriptor as parseDescriptor,
} from './json.ts';
import { normalizeImageRef, refNameAsImage } from './refs.ts';
import { type CollectedMembers, lookupMember } from './source.ts';
import type { ImageInfo, ImageLimits, LayerInfo, Platform } from './types.ts';

export interface ResolveContext {
  file: string;
  members: CollectedMembers;
  platform: Platform;
  limits: ImageLimits;
  findings: ImageFindings;
}

export function blobPath(digest: string): string {
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}

/** Every `blobs/sha256/<hex>` member must hash to its name. */
export function checkBlobNames(ctx: ResolveContext): void {
  for (const [path, m] of ctx.members.files) {
    const match = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(path);
    if (!match) continue;
    if (m.record.digest !== `sha256:${match[1]}`) {
      ctx.findings.add(
        'K3SG-IMAGE-BLOB-DIGEST',
        `${path} hashes to ${m.record.digest}: its content was changed after it was named.`,
        path,
      );
    }
  }
}

/** The member a descriptor names, with its size checked; undefined (and a finding) if absent. */
export function fetchBlob(ctx: ResolveContext, d: Descriptor, referrer: string): HashedMember | undefined {
  const path = blobPath(d.digest);
  const m = lookupMember(ctx.members, ctx.file, path);
  if (!m) {
    ctx.findings.add(
      'K3SG-IMAGE-BLOB-MISSING',
      `${referrer} names ${d.digest}, which the archive does not hold.`,
      path,
    );
    return undefined;
  }
  // Reached through a link: checkBlobNames saw the target under its own name, not this one.
  if (m.record.path !== path && m.record.digest !== d.digest) {
    ctx.findings.add(
      'K3SG-IMAGE-BLOB-DIGEST',
      `${path} links to ${m.record.path}, which hashes to ${m.record.digest}, not ${d.digest}.`,
      path,
    );
  }
  if (m.record.size !== d.size) {
    ctx.findings.add(
      'K3SG-IMAGE-BLOB-SIZE',
      `${referrer} says ${d.digest} is ${d.size} bytes; the blob is ${m.record.size} bytes.`,
      path,
    );
  }
  return m;
}

export function platformText(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

function platformMatches(want: Platform, os?: string, arch?: string, variant?: string): boolean {
  if (os !== want.os || arch !== want.architecture) return false;
  return want.variant === undefined || variant === undefined || variant === want.variant;
}

/** Whether the document `d` names is an image index (by media type, else by its shape). */
export function isImageIndex(d: Descriptor, doc: JsonObject): boolean {
  const mediaType = d.mediaType || (typeof doc.mediaType === 'string' ? doc.mediaType : '');
  return INDEX_TYPES.has(mediaType) || (!MANIFEST_TYPES.has(mediaType) && Array.isArray(doc.manifests));
}

/** The entry of an image index's manifests that the resolver follows for `want`, if any. */
export function platformManifest(entries: readonly Descriptor[], want: Platform): Descriptor | undefined {
  return entries.find(
    (e) =>
      MANIFEST_TYPES.has(e.mediaType) &&
      platformMatches(want, e.platform?.os, e.platform?.architecture, e.platform?.variant),
  );
}

/** The images index.json lists, each resolved to one platform. */
export function resolveOciIndex(ctx: ResolveContext, index: JsonObject): ImageInfo[] {
  const images: ImageInfo[] = [];
  for (const d of descriptorList(ctx.file, 'index.json manifests', index.manifests)) {
    const names = new Set<string>();
    const containerd = d.annotations['io.containerd.image.name'];
    const refName = d.annotations['org.opencontainers.image.ref.name'];
    const n1 = containerd === undefined ? undefined : normalizeImageRef(containerd);
    const n2 = refName === undefined ? undefined : refNameAsImage(refName);
    if (n1) names.add(n1);
    if (n2) names.add(n2);
    const image: ImageInfo = { names: [...names].sort(), via: 'oci-index', layers: [] };
    images.push(image);
    resolveDescriptor(ctx, d, image, 'index.json');
  }
  return images;
}

function resolveDescriptor(ctx: ResolveContext, d: Descriptor, image: ImageInfo, referrer: string): void {
  const m = fetchBlob(ctx, d, referrer);
  if (!m) {
    if (!INDEX_TYPES.has(d.mediaType)) image.manifestDigest = d.digest;
    else image.indexDigest = d.digest;
    return;
  }
  const doc = memberJson(ctx.file, blobPath(d.digest), m, ctx.limits);
  if (isImageIndex(d, doc)) {
    image.indexDigest = d.digest;
    const entries = descriptorList(ctx.file, `${blobPath(d.digest)} manifests`, doc.manifests);
    const want = ctx.platform;
    const chosen = platformManifest(entries, want);
    if (!chosen) {
      const names = image.names.join(', ') || d.digest;
      ctx.findings.add(
        'K3SG-IMAGE-PLATFORM',
        `${names}: the image index has no ${platformText(want)} manifest.`,
        blobPath(d.digest),
      );
      return;
    }
    resolveManifest(ctx, chosen, image, blobPath(d.digest), false);
    return;
  }
  resolveManifest(ctx, d, image, referrer, true, m, doc);
}

function resolveManifest(
  ctx: ResolveContext,
  d: Descriptor,
  image: ImageInfo,
  referrer: string,
  topLevel: boolean,
  known?: HashedMember,
  knownDoc?: JsonObject,
): void {
  image.manifestDigest = d.digest;
  const m = known ?? fetchBlob(ctx, d, referrer);
  if (!m) return;
  const path = blobPath(d.digest);
  const doc = knownDoc ?? memberJson(ctx.file, path, m, ctx.limits);
  const configDesc = parseDescriptor(ctx.file, `${path} config`, doc.config);
  image.configDigest = configDesc.digest;
  const layerDescs = descriptorList(ctx.file, `${path} layers`, doc.layers);
  for (const l of layerDescs) {
    const lm = fetchBlob(ctx, l, path);
    const layer: LayerInfo = { digest: l.digest, size: l.size, mediaType: l.mediaType };
    if (lm?.record.diffId) layer.diffId = lm.record.diffId;
    if (lm?.record.decompressError) {
      ctx.findings.add(
        'K3SG-IMAGE-LAYER-UNREADABLE',
        `Layer ${l.digest}: ${lm.record.decompressError}.`,
        blobPath(l.digest),
      );
    }
    image.layers.push(layer);
  }
  const cm = fetchBlob(ctx, configDesc, path);
  if (!cm) return;
  const config = memberJson(ctx.file, blobPath(configDesc.digest), cm, ctx.limits);
  applyConfig(ctx, config, image, blobPath(configDesc.digest), topLevel);
}

/** Platform and diff_ids from an image config (OCI or Docker: the same fields). */
export function applyConfig(
  ctx: ResolveContext,
  config: JsonObject,
  image: ImageInfo,
  where: string,
  checkPlatform: boolean,
): void {
  // A config naming no platform at all (`"os": "", "architecture": ""`) is an artifact, such
  // as a cosign signature stored as an image, not an image built for the wrong platform.
  const namesPlatform = config.os !== '' || config.architecture !== '';
  if (typeof config.os === 'string' && typeof config.architecture === 'string' && namesPlatform) {
    image.platform = { os: config.os, architecture: config.architecture };
    if (typeof config.variant === 'string') image.platform.variant = config.variant;
    const p = image.platform;
    if (checkPlatform && !platformMatches(ctx.platform, p.os, p.architecture, p.variant)) {
      const names = image.names.join(', ') || image.manifestDigest || where;
      ctx.findings.add(
        'K3SG-IMAGE-PLATFORM',
        `${names} is a ${platformText(p)} image, not ${platformText(ctx.platform)}.`,
        where,
      );
    }
  }
  const rootfs = config.rootfs as JsonObject | undefined;
  const diffIds = Array.isArray(rootfs?.diff_ids) ? (rootfs.diff_ids as unknown[]) : [];
  if (diffIds.length !== image.layers.length) {
    ctx.findings.add(
      'K3SG-IMAGE-DIFFID',
      `The config lists ${diffIds.length} diff_ids for ${image.layers.length} layers.`,
      where,
    );
  }
  image.layers.forEach((layer, i) => {
    const want = diffIds[i];
    if (layer.diffId === undefined || want === undefined) return;
    if (want !== layer.diffId) {
      ctx.findings.add(
        'K3SG-IMAGE-DIFFID',
        `Layer ${i + 1} (${layer.digest}) uncompresses to ${layer.diffId}; the config says ${String(want)}.`,
        where,
      );
    }
  });
}
