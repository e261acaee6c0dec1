// The image's OCI documents: its config (how it runs: as the unprivileged user, the executable
// as entrypoint, the CA bundle handed to Node), its manifest, and the layout's index.json naming
// it. Every time in them is the build's SOURCE_DATE_EPOCH, so they change only with the sources.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Descriptor, writeJsonBlob } from './blobs.ts';
import { CA_BUNDLE_PATH } from './ca-bundle.ts';
import type { Layer } from './layer.ts';
import { EXECUTABLE_PATH, NONROOT } from './rootfs.ts';

export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';
export const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
/** What `ctr images import` (and K3s's import of airgap archives) names an image by. */
export const CONTAINERD_NAME = 'io.containerd.image.name';
/** The OCI layout's own name for it: the tag, as `ctr images export` and BuildKit write it. */
export const REF_NAME = 'org.opencontainers.image.ref.name';

export interface ImageMeta {
  name: string;
  version: string;
  description: string;
  license: string;
  /** The git commit built. */
  revision: string;
  /** SOURCE_DATE_EPOCH, seconds. */
  epoch: number;
}

/** RFC 3339 without fractional seconds, as image tools write times. */
export const rfc3339 = (epoch: number) => new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');

/** The org.opencontainers.image.* annotations: config labels and manifest annotations alike. */
export function imageAnnotations(meta: ImageMeta): Record<string, string> {
  return {
    'org.opencontainers.image.created': rfc3339(meta.epoch),
    'org.opencontainers.image.description': meta.description,
    'org.opencontainers.image.licenses': meta.license,
    'org.opencontainers.image.revision': meta.revision,
    'org.opencontainers.image.title': meta.name,
    'org.opencontainers.image.version': meta.version,
  };
}

export function imageConfig(meta: ImageMeta, layer: Layer): unknown {
  const created = rfc3339(meta.epoch);
  return {
    created,
    architecture: 'amd64',
    os: 'linux',
    config: {
      User: `${NONROOT.uid}:${NONROOT.gid}`,
      // Node trusts its own compiled-in roots; NODE_EXTRA_CA_CERTS adds Debian's bundle, so a CA
      // Debian ships (or one an operator adds to a derived image's bundle) is trusted too.
      Env: ['PATH=/usr/local/bin', `NODE_EXTRA_CA_CERTS=${CA_BUNDLE_PATH}`],
      Entrypoint: [EXECUTABLE_PATH],
      WorkingDir: NONROOT.home,
      Labels: imageAnnotations(meta),
    },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [{ created, created_by: 'npm run build:image' }],
  };
}

/** Config and manifest blobs; returns the manifest's descriptor. */
export function writeImage(
  layout: string,
  meta: ImageMeta,
  layer: Layer,
): { manifest: Descriptor; config: Descriptor } {
  const config = writeJsonBlob(layout, CONFIG_MEDIA_TYPE, imageConfig(meta, layer));
  const manifest = writeJsonBlob(layout, MANIFEST_MEDIA_TYPE, {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    config,
    layers: [layer.descriptor],
    annotations: imageAnnotations(meta),
  });
  return { manifest, config };
}

/**
 * `oci-layout` and `index.json`, naming the image `docker.io/library/<name>:<version>` for
 * containerd: the kubelet asks K3s's CRI for a pod's `k3sguard:<version>` under that normalised
 * name, and would not find an image imported under the short one.
 */
export function writeLayoutIndex(layout: string, meta: ImageMeta, manifest: Descriptor): string {
  const ref = `docker.io/library/${meta.name}:${meta.version}`;
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const entry: Descriptor = {
    ...manifest,
    platform: { architecture: 'amd64', os: 'linux' },
    annotations: { [CONTAINERD_NAME]: ref, [REF_NAME]: meta.version },
  };
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: [entry] }),
  );
  return ref;
}
