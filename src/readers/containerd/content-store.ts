// An image as containerd holds it, read from its content store without containerd: the store
// (`<root>/io.containerd.content.v1.content`) keeps every blob as `blobs/sha256/<hex>`, as an
// OCI layout does, but has no index.json and holds the blobs of every image. So the image's
// blobs are found first, by walking from the target the API names (index -> the platform's
// manifest -> config and layers, reading only those small JSON blobs), and then the image
// readers read exactly those blobs as an OCI layout whose index.json names the target: the
// same digest, size and diff_id checks, and the same OS package and Go binary readers, as for
// an archive. Nothing is written and containerd is not asked for anything.
//
// The walk only chooses what to read; it trusts nothing it reads. A blob it cannot follow
// (missing, too large, not JSON) just ends the walk there, and readImages then reports that
// blob as it would in any layout (a missing blob, a digest mismatch, a corrupt manifest).
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJsonText } from '../../io/json-text.ts';
import { InputError } from '../../model/errors.ts';
import { type Descriptor, descriptor, descriptorList, INDEX_TYPES, type JsonObject } from '../images/json.ts';
import { parsePlatform } from '../images/platform.ts';
import { type ReadImagesOptions, readImages } from '../images/read.ts';
import { normalizeImageRef } from '../images/refs.ts';
import { isImageIndex, platformManifest } from '../images/resolve-oci.ts';
import type { LayoutSelection } from '../images/source.ts';
import { DEFAULT_IMAGE_LIMITS, type ImageArchiveResult, type Platform } from '../images/types.ts';
import type { ContainerdDescriptor, ContainerdImage } from './types.ts';

/** The content store's folder under containerd's root. */
export const CONTENT_STORE_DIR = 'io.containerd.content.v1.content';
/** K3s's containerd root (its content store is below it). */
export const K3S_CONTAINERD_ROOT = '/var/lib/rancher/k3s/agent/containerd';

/** The content store of the containerd whose root is `root`. */
export function contentStoreDir(root: string = K3S_CONTAINERD_ROOT): string {
  return join(root, CONTENT_STORE_DIR);
}

/** One image as the API lists it: its names (every record with this target) and the target. */
export interface ContentStoreImage {
  names: readonly string[];
  target: Pick<ContainerdDescriptor, 'mediaType' | 'digest' | 'size'>;
}

export interface ContentStoreOptions {
  /** `os/arch[/variant]` or a Platform; default linux/amd64. */
  platform?: string | Platform;
  /** The largest index or manifest followed (default: the image readers' JSON blob limit). */
  maxJsonBlob?: number;
}

const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The image records of the API grouped by target digest: one ContentStoreImage per distinct
 * image, with every name pointing at it (sorted), in the order the targets first appear.
 */
export function distinctImages(records: readonly ContainerdImage[]): ContentStoreImage[] {
  const byDigest = new Map<string, { names: string[]; target: ContentStoreImage['target'] }>();
  for (const r of records) {
    const seen = byDigest.get(r.target.digest);
    if (seen) seen.names.push(r.name);
    else byDigest.set(r.target.digest, { names: [r.name], target: r.target });
  }
  return [...byDigest.values()].map((i) => ({ names: i.names.sort(), target: i.target }));
}

/**
 * What readImages needs to read `image` from the content store at `dir`: an index.json naming
 * the target, and the digests of the blobs the target leads to for the platform.
 */
export async function contentStoreSelection(
  dir: string,
  image: ContentStoreImage,
  opts: ContentStoreOptions = {},
): Promise<LayoutSelection> {
  const platform =
    typeof opts.platform === 'string'
      ? parsePlatform(opts.platform)
      : (opts.platform ?? { os: 'linux', architecture: 'amd64' });
  const maxJson = opts.maxJsonBlob ?? DEFAULT_IMAGE_LIMITS.maxJsonBlob;
  const target = image.target;
  if (!SHA256_DIGEST.test(target.digest)) {
    throw new InputError('IMAGE_CORRUPT', dir, `image: target digest ${JSON.stringify(target.digest)} is not sha256`);
  }
  const blobs = [target.digest];
  let manifest: Descriptor = { ...target, annotations: {} };
  let doc = await readJsonBlob(dir, target.digest, maxJson);
  if (doc && isImageIndex(manifest, doc)) {
    const chosen = platformManifest(followable(() => descriptorList(dir, 'index', doc?.manifests)) ?? [], platform);
    if (!chosen) return selection(image, blobs);
    manifest = chosen;
    blobs.push(chosen.digest);
    doc = await readJsonBlob(dir, chosen.digest, maxJson);
  }
  if (!doc) return selection(image, blobs);
  const config = followable(() => descriptor(dir, 'config', doc?.config));
  if (config) blobs.push(config.digest);
  for (const layer of followable(() => descriptorList(dir, 'layers', doc?.layers)) ?? []) blobs.push(layer.digest);
  return selection(image, blobs);
}

/**
 * `image` read from the content store at `dir` with the image readers (readImages with a
 * layout selection): one image, named by every name given, its blobs checked.
 */
export async function readContentStoreImage(
  dir: string,
  image: ContentStoreImage,
  opts: ReadImagesOptions = {},
): Promise<ImageArchiveResult> {
  const layout = await contentStoreSelection(dir, image, {
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.limits?.maxJsonBlob ? { maxJsonBlob: opts.limits.maxJsonBlob } : {}),
  });
  return readImages(dir, { ...opts, layout });
}

/** The index naming the target, and the names (a digest-only one, such as CRI's `sha256:<hex>`, is none). */
function selection(image: ContentStoreImage, blobs: string[]): LayoutSelection {
  const names = [...new Set(image.names.flatMap((n) => normalizeImageRef(n) ?? []))].sort();
  const first = image.names.find((n) => normalizeImageRef(n) !== undefined);
  const entry = {
    mediaType: image.target.mediaType,
    digest: image.target.digest,
    size: image.target.size,
    ...(first ? { annotations: { 'io.containerd.image.name': first } } : {}),
  };
  const index = { schemaVersion: 2, mediaType: [...INDEX_TYPES][0], manifests: [entry] };
  return { index: Buffer.from(JSON.stringify(index)), blobs: [...new Set(blobs)], names };
}

/** A descriptor or list the walk can follow; a malformed one ends it (readImages says why). */
function followable<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if (e instanceof InputError) return undefined;
    throw e;
  }
}

/**
 * A small JSON blob of the store, or undefined when it is absent, a symlink (O_NOFOLLOW; the
 * layout reader refuses it later), not a regular file, larger than `max`, or not a JSON
 * object. The size is taken from the open file, and no more than that is read.
 */
async function readJsonBlob(dir: string, digest: string, max: number): Promise<JsonObject | undefined> {
  if (!SHA256_DIGEST.test(digest)) return undefined;
  const path = join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
  let text: string;
  try {
    const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = await fh.stat();
      if (!st.isFile() || st.size > max) return undefined;
      const buf = Buffer.alloc(st.size);
      const { bytesRead } = await fh.read(buf, 0, st.size, 0);
      text = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return undefined; // absent or unreadable: readImages reports the blob
  }
  try {
    const parsed = parseJsonText(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}
