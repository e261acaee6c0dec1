// What the image readers return: the images an archive or OCI layout holds (resolved for one
// platform), every blob it holds with the digests computed while it streamed, and findings.
import type { Compression } from '../../io/target.ts';
import type { Finding } from '../../model/inventory.ts';
import { LIMITS } from '../../model/limits.ts';
import type { LayerRecord } from './layer-record.ts';

export type { Compression };

export type ImageSourceFormat =
  /** OCI layout in a tar plus Docker manifest.json: `ctr images export`, K3s airgap tarballs. */
  'oci+docker-archive' | 'oci-archive' | 'docker-archive' | 'oci-layout';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageLimits {
  /** Largest blob kept in memory as JSON (index, manifest, config). */
  maxJsonBlob: number;
  /** All kept JSON blobs together. */
  maxJsonTotal: number;
  /** Largest uncompressed size of one layer (zip-bomb guard). */
  maxLayerBytes: number;
  /** Members of the archive itself (every entry, directories too), or files of a layout. */
  maxArchiveMembers: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = {
  maxJsonBlob: LIMITS.imageJsonBlob,
  maxJsonTotal: LIMITS.imageJsonTotal,
  maxLayerBytes: LIMITS.layerBytes,
  maxArchiveMembers: LIMITS.imageArchiveMembers,
};

/** One regular file of the archive (or of the layout's blobs/ directory), as it streamed. */
export interface BlobRecord {
  /** Clean path inside the archive or layout: `blobs/sha256/<hex>`, `<hex>.tar`, ... */
  path: string;
  /** `sha256:<hex>` of the bytes as stored. */
  digest: string;
  size: number;
  /** How the content is compressed, sniffed from its first bytes. */
  compression: Compression;
  /**
   * `sha256:<hex>` of the decompressed bytes (equal to `digest` for uncompressed content);
   * absent when the content could not be decompressed (see `decompressError`).
   */
  diffId?: string;
  decompressError?: string;
}

export interface LayerInfo {
  /** Descriptor digest (OCI) or the computed digest of the layer file (Docker). */
  digest: string;
  /** Uncompressed digest computed from the bytes; absent if missing or undecompressable. */
  diffId?: string;
  size: number;
  mediaType: string;
}

export interface ImageInfo {
  /** Normalized references (`docker.io/rancher/mirrored-pause:3.6`), sorted. */
  names: string[];
  /** How the image was found: through index.json or through Docker's manifest.json. */
  via: 'oci-index' | 'docker-manifest';
  /** Digest of the image index the platform was picked from, for multi-platform images. */
  indexDigest?: string;
  /** Manifest digest (OCI); for Docker-only entries, the config digest stands in. */
  manifestDigest?: string;
  configDigest?: string;
  platform?: Platform;
  layers: LayerInfo[];
}

export interface ImageArchiveResult {
  /** The path as the user named it. */
  target: string;
  format: ImageSourceFormat;
  compression: Compression;
  /** sha256 of the archive file (not for a layout directory). */
  sha256?: string;
  /** Bytes of the archive file that sha256 covers (not for a layout directory). */
  size?: number;
  images: ImageInfo[];
  blobs: BlobRecord[];
  /**
   * The small JSON members kept in memory while the archive streamed (index.json, manifests,
   * configs, and any other small JSON blob such as a cosign signature payload), by clean path
   * (`index.json`, `blobs/sha256/<hex>`). Their digests were checked like every blob's.
   */
  keptJson: ReadonlyMap<string, Buffer>;
  findings: Finding[];
  /**
   * With `contents` asked for: each blob that read as a layer tar, by blob path, recorded in the
   * same pass; and why others could not be (they may not be layers at all).
   */
  layerRecords?: Map<string, LayerRecord>;
  layerErrors?: Map<string, string>;
}
