// Cosign stores what it attaches to an image (signatures, attestations, SBOMs) in the
// registry as other manifests tagged `sha256-<hex>.sig` / `.att` / `.sbom`; imported with an
// image, containerd lists them as images. They are not images to judge or read: set apart here,
// the signatures kept by the digest they sign (signatures.ts verifies them).
import type { ContainerdImage } from '../../readers/containerd/types.ts';

/** The tags cosign stores artifacts under: signatures, attestations, SBOMs of the image `<hex>`. */
const ARTIFACT_TAG = /:sha256-([0-9a-f]{64})\.(sig|att|sbom)$/;

export interface SplitRecords {
  /** The records of images (what pods run). */
  images: ContainerdImage[];
  /** `.sig` records by the digest they sign. */
  signatures: Map<string, ContainerdImage[]>;
}

/** Cosign's artifacts are stored as images but are none: set apart, the signatures kept by subject. */
export function splitSignatureRecords(records: readonly ContainerdImage[]): SplitRecords {
  const images: ContainerdImage[] = [];
  const signatures = new Map<string, ContainerdImage[]>();
  for (const r of records) {
    const m = ARTIFACT_TAG.exec(r.name);
    if (!m) {
      images.push(r);
      continue;
    }
    if (m[2] !== 'sig') continue;
    const subject = `sha256:${m[1]}`;
    signatures.set(subject, [...(signatures.get(subject) ?? []), r]);
  }
  return { images, signatures };
}
