// Image references as containerd and K3s spell them, normalized the way Docker's reference
// library does, so `rancher/mirrored-pause:3.6` (a RepoTag), `docker.io/rancher/mirrored-pause:3.6`
// (an io.containerd.image.name annotation) and a k3s-images.txt line all compare equal.

export interface ImageRef {
  /** `docker.io/rancher/mirrored-pause` */
  repository: string;
  tag?: string;
  /** `sha256:<hex>` when the reference pins a digest. */
  digest?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/** Parse and normalize a reference; undefined when it is not one. */
export function parseImageRef(text: string): ImageRef | undefined {
  let rest = text.trim();
  if (rest === '') return undefined;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    if (!DIGEST.test(digest)) return undefined;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    if (!TAG.test(tag)) return undefined;
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  const first = parts[0] as string;
  const hasDomain = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const domain = hasDomain ? first : 'docker.io';
  const path = hasDomain ? parts.slice(1) : parts;
  if (path.length === 0 || !path.every((p) => PATH_COMPONENT.test(p))) return undefined;
  if (domain === 'docker.io' && path.length === 1) path.unshift('library');
  const ref: ImageRef = { repository: `${domain}/${path.join('/')}` };
  if (tag !== undefined) ref.tag = tag;
  else if (digest === undefined) ref.tag = 'latest';
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

export function formatImageRef(ref: ImageRef): string {
  return `${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** Normalized form of a reference, or undefined. */
export function normalizeImageRef(text: string): string | undefined {
  const ref = parseImageRef(text);
  return ref ? formatImageRef(ref) : undefined;
}

/**
 * An `org.opencontainers.image.ref.name` annotation names an image only when it is a full
 * reference; the spec also allows a bare tag (`3.6`, `latest`), which names nothing by itself.
 */
export function refNameAsImage(refName: string): string | undefined {
  return refName.includes('/') ? normalizeImageRef(refName) : undefined;
}

export interface ListedImage {
  line: number;
  text: string;
  ref: ImageRef;
}

/** k3s-images.txt: one reference a line; blank lines and `#` comments skipped. */
export function parseImagesList(text: string): {
  images: ListedImage[];
  invalid: Array<{ line: number; text: string }>;
} {
  const images: ListedImage[] = [];
  const invalid: Array<{ line: number; text: string }> = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const ref = parseImageRef(line);
    if (ref) images.push({ line: i + 1, text: line, ref });
    else invalid.push({ line: i + 1, text: line });
  });
  return { images, invalid };
}
