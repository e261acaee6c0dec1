// Docker's manifest.json (`docker save`, and beside index.json in `ctr images export`
// archives): [{Config, RepoTags, Layers}] naming archive members by path. An entry whose
// config is also an image of index.json adds its RepoTags to that image, and both views must
// name the same layers: containerd imports through index.json, Docker through manifest.json,
// so if they differ, what is checked is not what runs.

import { normalizeMemberPath } from '../../io/member-paths.ts';
import { InputError } from '../../model/errors.ts';
import { memberJson, stringList } from './json.ts';
import { normalizeImageRef } from './refs.ts';
import { applyConfig, blobPath, type ResolveContext } from './resolve-oci.ts';
import { lookupMember } from './source.ts';
import type { ImageInfo, LayerInfo } from './types.ts';

export function resolveDockerManifest(ctx: ResolveContext, list: unknown, ociImages: ImageInfo[]): ImageInfo[] {
  if (!Array.isArray(list)) throw new InputError('IMAGE_CORRUPT', ctx.file, 'image: manifest.json is not a list');
  const images: ImageInfo[] = [];
  list.forEach((raw, i) => {
    const where = `manifest.json[${i}]`;
    if (typeof raw !== 'object' || raw === null)
      throw new InputError('IMAGE_CORRUPT', ctx.file, `image: ${where} is not an object`);
    const entry = raw as Record<string, unknown>;
    if (typeof entry.Config !== 'string')
      throw new InputError('IMAGE_CORRUPT', ctx.file, `image: ${where} has no Config`);
    if (!Array.isArray(entry.Layers)) throw new InputError('IMAGE_CORRUPT', ctx.file, `image: ${where} has no Layers`);
    const names = stringList(entry.RepoTags)
      .map(normalizeImageRef)
      .filter((n): n is string => n !== undefined);
    const layerPaths = stringList(entry.Layers);
    const configMember = lookupMember(ctx.members, ctx.file, entry.Config);
    const layerMembers = layerPaths.map((p) => ({ path: p, member: lookupMember(ctx.members, ctx.file, p) }));
    // Both views name members by path: compare the members they reach, not the content
    // (a changed blob is the blob finding's business, not a disagreement of the views).
    const configKey = configMember?.record.path ?? memberKey(entry.Config);
    const twin = ociImages.find((img) => img.configDigest !== undefined && blobPath(img.configDigest) === configKey);
    if (twin) {
      twin.names = [...new Set([...twin.names, ...names])].sort();
      const ociLayers = twin.layers.map((l) => blobPath(l.digest)).join(',');
      const dockerLayers = layerMembers.map((l) => l.member?.record.path ?? memberKey(l.path)).join(',');
      if (ociLayers !== dockerLayers) {
        ctx.findings.add(
          'K3SG-IMAGE-VIEWS-DIFFER',
          `${where} (${names.join(', ') || entry.Config}) names other layers than the index.json manifest ${twin.manifestDigest}.`,
          'manifest.json',
        );
      }
      return;
    }
    const image: ImageInfo = { names: [...new Set(names)].sort(), via: 'docker-manifest', layers: [] };
    images.push(image);
    for (const { path, member } of layerMembers) {
      if (!member) {
        ctx.findings.add(
          'K3SG-IMAGE-BLOB-MISSING',
          `${where} names layer ${path}, which the archive does not hold.`,
          path,
        );
        continue;
      }
      const r = member.record;
      const suffix = r.compression === 'gzip' ? '.gzip' : r.compression === 'zstd' ? '.zstd' : '';
      const layer: LayerInfo = {
        digest: r.digest,
        size: r.size,
        mediaType: `application/vnd.docker.image.rootfs.diff.tar${suffix}`,
      };
      if (r.diffId) layer.diffId = r.diffId;
      if (r.decompressError)
        ctx.findings.add('K3SG-IMAGE-LAYER-UNREADABLE', `Layer ${path}: ${r.decompressError}.`, path);
      image.layers.push(layer);
    }
    if (!configMember) {
      ctx.findings.add(
        'K3SG-IMAGE-BLOB-MISSING',
        `${where} names config ${entry.Config}, which the archive does not hold.`,
        entry.Config,
      );
      return;
    }
    image.configDigest = configMember.record.digest;
    // `<hex>.json` (docker save) and `blobs/sha256/<hex>` name the config by its digest.
    const named = /(?:^|\/)([0-9a-f]{64})(?:\.json)?$/.exec(entry.Config);
    if (named && `sha256:${named[1]}` !== configMember.record.digest) {
      ctx.findings.add(
        'K3SG-IMAGE-BLOB-DIGEST',
        `Config ${entry.Config} hashes to ${configMember.record.digest}: its content was changed after it was named.`,
        entry.Config,
      );
    }
    const config = memberJson(ctx.file, entry.Config, configMember, ctx.limits);
    applyConfig(ctx, config, image, entry.Config, true);
  });
  return images;
}

/** A member path in clean form (lookupMember already refused unsafe ones). */
function memberKey(path: string): string {
  const clean = normalizeMemberPath(path);
  return clean.ok ? clean.path : path;
}
