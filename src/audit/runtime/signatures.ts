// `requireSignature` for an image as containerd holds it. Cosign keeps a signature in the
// registry as another manifest tagged `sha256-<hex>.sig`; containerd has it only when someone
// imported it with the image (an airgap tarball carrying the `.sig` tags: `ctr images import`
// records it as an image named `...:sha256-<hex>.sig`). When it is there, it is verified as
// `verify --policy` verifies an archive: the signature manifests and the image's manifest are
// read from the content store (small JSON blobs, digests checked; the image's layers are not
// needed, as a signature signs the manifest digest) and handed to the cosign verifier. When it
// is not there, nothing can be said either way: the caller reports the image as unknown.
import { isInputError } from '../../model/errors.ts';
import type { Finding, Location } from '../../model/inventory.ts';
import { ruleFinding } from '../../model/rules/rule.ts';
import { RUNTIME_RULES } from '../../model/rules/runtime.ts';
import type { ImagePolicy } from '../../policy/image-policy.ts';
import { type ContentStoreImage, contentStoreSelection } from '../../readers/containerd/content-store.ts';
import type { ContainerdImage } from '../../readers/containerd/types.ts';
import { readImages } from '../../readers/images/read.ts';
import type { LayoutSelection } from '../../readers/images/source.ts';
import { checkSignaturePolicy } from '../../verify/cosign/policy-signatures.ts';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export type SignatureOutcome =
  | { kind: 'verified' }
  /** containerd holds no signature of the image: neither met nor failed. */
  | { kind: 'absent'; tags: string[] }
  | { kind: 'failed'; findings: Finding[] }
  /** The signature manifests could not be read from the content store. */
  | { kind: 'unreadable'; why: string };

export interface SignatureCheck {
  store: string;
  image: ContentStoreImage;
  /** The platform manifest the image resolves to, when it was read (signatures may name it). */
  manifestDigest?: string;
  signatures: ReadonlyMap<string, readonly ContainerdImage[]>;
  policy: ImagePolicy;
  platform: string;
  trustedRootPath?: string;
  /** The image's subject location. */
  subject: Location;
}

export async function checkStoredSignature(c: SignatureCheck): Promise<SignatureOutcome> {
  const signed = [...new Set([c.image.target.digest, c.manifestDigest].filter((d): d is string => d !== undefined))];
  const sigs = signed.flatMap((d) => c.signatures.get(d) ?? []);
  if (sigs.length === 0) return { kind: 'absent', tags: signed.map((d) => `sha256-${d.slice(7)}.sig`) };
  const blobs = new Set(signed);
  for (const s of sigs) {
    const sel = await contentStoreSelection(c.store, { names: [], target: s.target }, { platform: c.platform });
    for (const b of sel.blobs) blobs.add(b);
  }
  const entry = (name: string | undefined, t: ContentStoreImage['target']) => ({
    mediaType: t.mediaType,
    digest: t.digest,
    size: t.size,
    ...(name ? { annotations: { 'io.containerd.image.name': name } } : {}),
  });
  const layout: LayoutSelection = {
    index: Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [entry(undefined, c.image.target), ...sigs.map((s) => entry(s.name, s.target))],
      }),
    ),
    blobs: [...blobs],
  };
  // The image's config and layers are left out on purpose: what readImages says of them here
  // (missing blobs) is no finding; the signature check needs the manifest digests only.
  let archive: Awaited<ReturnType<typeof readImages>>;
  try {
    archive = await readImages(c.store, { layout, platform: c.platform });
  } catch (e) {
    if (!isInputError(e)) throw e;
    return { kind: 'unreadable', why: e.message };
  }
  const result = await checkSignaturePolicy(c.policy, archive, {
    ...(c.trustedRootPath ? { trustedRootPath: c.trustedRootPath } : {}),
  });
  if (result.findings.length === 0 && result.checks.some((ch) => ch.status === 'ok')) return { kind: 'verified' };
  const failed = result.checks.filter((ch) => ch.status !== 'ok');
  return {
    kind: 'failed',
    findings: failed.map((ch) =>
      ruleFinding(
        RUNTIME_RULES['K3SG-RUNTIME-SIGNATURE'],
        `${c.image.names.join(', ') || c.image.target.digest}: ${ch.detail}; ${c.policy.file} requires a signature by ${ch.expected ?? 'its signer'}${ch.hint ? `. ${ch.hint}` : ''}`,
        c.subject,
      ),
    ),
  };
}
