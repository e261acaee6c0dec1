// One image of containerd's content store read with the inventory's image reader (the same
// that reads airgap tarballs): the blobs its target leads to, digests and diff_ids checked,
// then its OS packages and Go binaries from the final file view. The reading does not depend
// on the names pointing at the image (it is read unnamed), so it can be kept by digest and
// reused whatever tags are added or removed later.
import { inspectImageTarget } from '../../inventory/image.ts';
import { isInputError } from '../../model/errors.ts';
import type { Component, ImageComponent } from '../../model/inventory.ts';
import { type ContentStoreImage, contentStoreSelection } from '../../readers/containerd/content-store.ts';
import type { ImageReading } from './image-cache.ts';

export type ReadOutcome = { kind: 'read'; reading: ImageReading } | { kind: 'unreadable'; why: string };

/** Read `target` from the content store `store` for `platform` (`linux/amd64`). */
export async function readStoreImage(
  store: string,
  target: ContentStoreImage['target'],
  platform: string,
): Promise<ReadOutcome> {
  try {
    const unnamed = { names: [], target };
    const layout = await contentStoreSelection(store, unnamed, { platform });
    const inv = await inspectImageTarget(store, { layout, platform });
    const image: ImageComponent | undefined = inv.root.children[0];
    const reading: ImageReading = {
      digest: target.digest,
      platform,
      findings: inv.findings.map((f) => ({ ...f, location: f.location.slice(1) })),
      packages: count(image, 'os-package'),
      goBinaries: count(image, 'file'),
    };
    if (image) {
      reading.image = image;
      if (image.manifestDigest) reading.manifestDigest = image.manifestDigest;
    }
    return { kind: 'read', reading };
  } catch (e) {
    // Whatever stops the read (a bomb over the limits, a corrupt index) costs this image its
    // contents, not the check of the others.
    if (!isInputError(e)) throw e;
    return { kind: 'unreadable', why: e.message };
  }
}

function count(image: ImageComponent | undefined, type: Component['type']): number {
  return image ? image.children.filter((c) => c.type === type).length : 0;
}
