// target -> image readers -> inventory, for an image archive (airgap tarball, `docker save`,
// OCI archive; plain, gzip or zstd) or an OCI layout directory. One read of the archive does
// everything: blobs are hashed and checked, and every layer is recorded as it streams (its
// members, the OS package databases, and each ELF file inspected while its bytes are at hand);
// afterwards each image's layers are replayed in order into its final view, whose packages and
// Go binaries become the image's components. A binary a later layer deletes or replaces is not
// listed: only what the final view holds is.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { bufferSource } from '../io/bytesource.ts';
import { ELF_MAGIC } from '../io/target.ts';
import { isInputError } from '../model/errors.ts';
import type {
  Component,
  ImageArchiveComponent,
  ImageComponent,
  Inventory,
  Location,
  OsPackageComponent,
} from '../model/inventory.ts';
import { formatLimit } from '../model/limits.ts';
import { ociPurl } from '../model/purl.ts';
import { imageView } from '../readers/images/archive-layers.ts';
import { isSignatureImage, signatureManifests } from '../readers/images/cosign-layout.ts';
import type { FileView } from '../readers/images/fileview.ts';
import { osPackageFiles } from '../readers/images/fileview.ts';
import { ImageFindings } from '../readers/images/findings.ts';
import type { ImagesListInput } from '../readers/images/imageslist.ts';
import type { LayerFileHook } from '../readers/images/layer-record.ts';
import { type OsPackage, readOsPackages } from '../readers/images/packagedb.ts';
import { readImages } from '../readers/images/read.ts';
import type { LayoutSelection } from '../readers/images/source.ts';
import type { ImageArchiveResult, ImageInfo } from '../readers/images/types.ts';
import { type FileFacts, fileFacts, fileFromFacts, type GoBinaryHook } from './file.ts';

/** Smaller ELF files cannot hold a Go runtime; not worth holding. */
const MIN_BINARY = 4096;

export interface ImageInventoryOptions {
  /** `os/arch[/variant]`, default linux/amd64. */
  platform?: string;
  imagesList?: ImagesListInput;
  /** The largest decompressed size of one layer (zip-bomb guard); default 16 GiB. */
  maxLayerBytes?: number;
  progress?: (text: string) => void;
  onGoBinary?: GoBinaryHook;
  /** For a directory target: only these blobs, with this index.json (containerd's content store). */
  layout?: LayoutSelection;
}

type Inspected = FileFacts | { error: string };

export interface ImageInventoryResult {
  kind: 'image-archive' | 'oci-layout';
  root: ImageArchiveComponent;
  findings: Inventory['findings'];
  notes: Inventory['notes'];
  /** The archive as read (blobs, digests, images), for verify and lock. */
  archive: ImageArchiveResult;
}

export async function inspectImageTarget(
  target: string,
  opts: ImageInventoryOptions = {},
): Promise<ImageInventoryResult> {
  const progress = opts.progress ?? (() => {});
  progress(`reading images from ${basename(target)}`);
  const hook: LayerFileHook = {
    want: (_path, size) => size >= MIN_BINARY,
    magic: ELF_MAGIC,
    take(path, bytes): Inspected {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      try {
        return fileFacts(bufferSource(path, bytes), sha256, opts.onGoBinary);
      } catch (e) {
        // A corrupt ELF inside an image is content to report, not a reason to stop reading.
        if (!isInputError(e)) throw e;
        return { error: e.message };
      }
    },
    // Held whole, a file costs its size in memory however small the archive (zeros compress
    // a thousandfold): larger ones are listed in the notes, not inspected.
    tooLarge: (_path, _size, limit): Inspected => ({
      error: `larger than the ${formatLimit(limit)} limit for inspected image files`,
    }),
  };
  const archive = await readImages(target, {
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.imagesList ? { imagesList: opts.imagesList } : {}),
    ...(opts.maxLayerBytes ? { limits: { maxLayerBytes: opts.maxLayerBytes } } : {}),
    ...(opts.layout ? { layout: opts.layout } : {}),
    contents: {
      collect: osPackageFiles,
      hook,
      ...(opts.maxLayerBytes ? { limits: { maxLayerBytes: opts.maxLayerBytes } } : {}),
    },
    onProgress: (read, total) =>
      progress(`reading ${basename(target)}: ${Math.min(99, Math.floor((100 * read) / total))}% of ${mib(total)} MiB`),
  });
  const name = basename(resolve(target));
  const findings = [...archive.findings];
  const notes: Inventory['notes'] = [];
  const images: ImageComponent[] = [];
  // Cosign signatures (`sha256-<hex>.sig` tags) are stored as images beside the images they sign.
  const signatures = signatureManifests(archive);
  for (const [i, image] of archive.images.entries()) {
    if (isSignatureImage(image, signatures)) continue;
    const location = [name, imageLabel(image, i)];
    progress(`reading ${location[1]}`);
    const layerFindings = new ImageFindings(target);
    let view: FileView | undefined;
    try {
      view = await imageView(archive, image, { collect: osPackageFiles, hook, findings: layerFindings });
    } catch (e) {
      // One image whose layers cannot be read: its contents are not listed, and it says so; the
      // integrity findings about it are already in the archive's findings.
      if (!isInputError(e)) throw e;
      if (e.code === 'IMAGE_LIMIT') throw e; // a bomb stops the read, as everywhere else
      layerFindings.add(
        'K3SG-IMAGE-LAYER-UNREADABLE',
        `${e.message}; the image's contents are not listed`,
        location[1],
      );
    }
    findings.push(...layerFindings.list);
    images.push(await imageComponent(image, location, view, notes));
  }
  const root: ImageArchiveComponent = {
    type: 'image-archive',
    ref: name,
    name,
    location: [name],
    path: target,
    format: archive.format,
    compression: archive.compression,
    children: images,
  };
  if (archive.format !== 'oci-layout') root.size = statSync(target).size;
  if (archive.sha256) root.sha256 = archive.sha256;
  return { kind: archive.format === 'oci-layout' ? 'oci-layout' : 'image-archive', root, findings, notes, archive };
}

function mib(n: number): string {
  return (n / 1024 / 1024).toFixed(0);
}

/** How an image is named in locations: its first reference, else its digest. */
function imageLabel(image: ImageInfo, index: number): string {
  return image.names[0] ?? image.manifestDigest ?? image.configDigest ?? `image ${index + 1}`;
}

async function imageComponent(
  image: ImageInfo,
  location: Location,
  view: FileView | undefined,
  notes: Inventory['notes'],
): Promise<ImageComponent> {
  const ref = location.join('!');
  const c: ImageComponent = {
    type: 'image',
    ref,
    name: location[location.length - 1] as string,
    location,
    names: image.names,
    layers: image.layers.map((l) => ({
      digest: l.digest,
      size: l.size,
      mediaType: l.mediaType,
      ...(l.diffId ? { diffId: l.diffId } : {}),
    })),
    children: [],
  };
  if (image.manifestDigest) c.manifestDigest = image.manifestDigest;
  if (image.configDigest) c.configDigest = image.configDigest;
  if (image.indexDigest) c.indexDigest = image.indexDigest;
  if (image.platform) c.platform = image.platform;
  const digest = image.manifestDigest ?? image.configDigest;
  if (digest) c.purl = ociPurl(image.names[0], digest, image.platform?.architecture);
  if (!view) return c;

  const os = await readOsPackages(view);
  if (os.os) {
    c.os = { id: os.os.id };
    if (os.os.versionId !== undefined) c.os.versionId = os.os.versionId;
    if (os.os.prettyName !== undefined) c.os.prettyName = os.os.prettyName;
  }
  for (const p of os.problems) notes.push({ location, message: `${p.file}: ${p.message}` });
  const seen = new Set<string>();
  for (const p of os.packages) {
    const key = `${p.name}:${p.arch}`;
    if (seen.has(key)) continue; // the same package in two databases: listed once
    seen.add(key);
    c.children.push(packageComponent(p, [...location, key], c.os));
  }
  c.children.push(...binaryComponents(view, location, notes, image.layers));
  return c;
}

function packageComponent(p: OsPackage, location: Location, os: ImageComponent['os']): OsPackageComponent {
  const c: OsPackageComponent = {
    type: 'os-package',
    ref: location.join('!'),
    name: p.name,
    version: p.version,
    purl: p.purl,
    location,
    manager: p.manager,
    arch: p.arch,
    source: p.source,
    db: p.db,
  };
  if (os) c.distro = os.versionId === undefined ? { id: os.id } : { id: os.id, versionId: os.versionId };
  if (p.license !== undefined) c.license = p.license;
  return c;
}

/** The Go binaries of the final view (others are the package manager's to list), by path. */
function binaryComponents(
  view: FileView,
  location: Location,
  notes: Inventory['notes'],
  layers: ImageInfo['layers'],
): Component[] {
  const out: Component[] = [];
  for (const [path, entry] of view.paths()) {
    if (entry.type !== 'file' || entry.facts === undefined) continue;
    const facts = entry.facts as Inspected;
    if ('error' in facts) {
      notes.push({ location: [...location, path], message: `not inspected: ${facts.error}` });
      continue;
    }
    const format = facts.binary.format;
    if (format !== 'go' && format !== 'go-no-buildinfo') continue;
    const file = fileFromFacts(facts, path, [...location, path], entry.mode);
    const layer = layers[entry.layer]?.digest;
    if (layer) file.layer = layer;
    out.push(file);
  }
  return out;
}
