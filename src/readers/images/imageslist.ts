// The k3s-images.txt check: the archive must hold exactly the listed images. An image the
// list does not name is imported into containerd all the same when the archive is dropped
// into agent/images/, so an extra image is a finding, not a curiosity.
import { InputError } from '../../model/errors.ts';
import type { ImageFindings } from './findings.ts';
import { type ImageRef, type ListedImage, parseImageRef, parseImagesList } from './refs.ts';
import type { ImageInfo } from './types.ts';

export interface ImagesListInput {
  /** The list's path as the user named it, for messages. */
  file: string;
  text: string;
}

function matches(entry: ImageRef, image: ImageInfo): boolean {
  if (entry.digest && entry.digest !== image.manifestDigest && entry.digest !== image.indexDigest) return false;
  return image.names.some((n) => {
    const ref = parseImageRef(n);
    return (
      ref !== undefined && ref.repository === entry.repository && (entry.tag === undefined || ref.tag === entry.tag)
    );
  });
}

export function checkImagesList(list: ImagesListInput, images: ImageInfo[], findings: ImageFindings): void {
  const { images: listed, invalid } = parseImagesList(list.text);
  const first = invalid[0];
  if (first) {
    throw new InputError(
      'USAGE',
      list.file,
      `line ${first.line}: ${JSON.stringify(first.text)} is not an image reference`,
    );
  }
  const used = new Set<ListedImage>();
  for (const image of images) {
    const hits = listed.filter((e) => matches(e.ref, image));
    for (const h of hits) used.add(h);
    if (hits.length === 0) {
      const what =
        image.names.length > 0 ? image.names.join(', ') : `unnamed image ${image.manifestDigest ?? image.configDigest}`;
      findings.add(
        'K3SG-IMAGE-EXTRA',
        `${what} is not in ${list.file}; K3s would import it silently. Remove it from the archive or find out who added it.`,
        image.names[0] ?? image.manifestDigest,
      );
    }
  }
  for (const e of listed) {
    if (used.has(e)) continue;
    findings.add('K3SG-IMAGE-MISSING', `${e.text} (${list.file} line ${e.line}) is not in the archive.`, e.text);
  }
}
