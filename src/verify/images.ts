// `verify` of an image archive or OCI layout: every blob against its digest and size, index ->
// manifest -> config -> layers, diff_ids against the uncompressed layers, the archive against
// k3s-images.txt, and the image names against a policy. Each problem is one failed check
// (the same findings inspect reports, in verify's pass/fail terms); a clean image is one
// passed check saying what was checked.

import type { Finding } from '../model/inventory.ts';
import { evaluateImagePolicy } from '../policy/evaluate.ts';
import type { ImagePolicy } from '../policy/image-policy.ts';
import { ImageFindings } from '../readers/images/findings.ts';
import { checkImagesList, type ImagesListInput } from '../readers/images/imageslist.ts';
import { readImages } from '../readers/images/read.ts';
import type { ImageArchiveResult } from '../readers/images/types.ts';
import { checkSignaturePolicy, policyImages } from './cosign/policy-signatures.ts';
import { lockedImageFindings } from './lock/images.ts';
import type { VerifyCheck, VerifyStatus } from './model.ts';

export interface VerifyImagesOptions {
  platform?: string;
  imagesList?: ImagesListInput;
  policy?: { file: string; policy: ImagePolicy };
  /** For keyless signature requirements: `--trusted-root`. */
  trustedRootPath?: string;
  /** The largest decompressed size of one layer (zip-bomb guard). */
  maxLayerBytes?: number;
  /** Bytes read of the archive so far. */
  onProgress?: (read: number, total: number) => void;
}

export interface VerifyImagesResult {
  archive: ImageArchiveResult;
  checks: VerifyCheck[];
  warnings: string[];
}

const STATUS: Record<string, VerifyStatus> = {
  'K3SG-IMAGE-BLOB-MISSING': 'missing',
  'K3SG-IMAGE-MISSING': 'missing',
  'K3SG-IMAGE-EXTRA': 'unexpected',
  'K3SG-IMAGE-ARCHIVE-LINK': 'unexpected',
  'K3SG-IMAGE-ARCHIVE-THROUGH-LINK': 'unexpected',
  'K3SG-POLICY-SIGNATURE': 'invalid',
  'K3SG-POLICY-LOCK': 'not-listed',
};

const LINK_HINT =
  'do not unpack or import this archive: a member leads outside it; export or fetch it again from a trusted source';

const HINTS: Record<string, string> = {
  'K3SG-IMAGE-EXTRA':
    'K3s imports every image of an archive in agent/images/: remove the image, or add it to the list after review',
  'K3SG-IMAGE-MISSING': 'the nodes would pull it instead: rebuild the archive with every listed image',
  'K3SG-POLICY-REGISTRY': 'pull the image from an allowed registry, or change the policy after review',
  'K3SG-POLICY-REPOSITORY': 'use an allowed repository, or change the policy after review',
  'K3SG-POLICY-DIGEST': 'reference the image by digest (name@sha256:...)',
  'K3SG-IMAGE-ARCHIVE-LINK': LINK_HINT,
  'K3SG-IMAGE-ARCHIVE-THROUGH-LINK': LINK_HINT,
};
const TAMPER_HINT =
  'do not import this archive: it is not what its own digests say; fetch it again from a trusted source';

function checkOf(subject: string, f: Finding): VerifyCheck {
  const where = f.location.slice(1).join(' › ');
  const check: VerifyCheck = {
    kind: f.id.startsWith('K3SG-POLICY-') ? 'policy' : 'image',
    subject,
    status: STATUS[f.id] ?? 'mismatch',
    detail: `${f.id}: ${f.message}${where ? ` (${where})` : ''}`,
    hint: HINTS[f.id] ?? TAMPER_HINT,
  };
  return check;
}

export async function verifyImageArchive(target: string, opts: VerifyImagesOptions = {}): Promise<VerifyImagesResult> {
  const archive = await readImages(target, {
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.maxLayerBytes ? { limits: { maxLayerBytes: opts.maxLayerBytes } } : {}),
  });
  const findings = [...archive.findings];
  // Signature manifests (`sha256-<hex>.sig` tags) sit beside the images: not images to list or judge.
  const images = policyImages(archive);
  if (opts.imagesList) {
    const list = new ImageFindings(target);
    checkImagesList(opts.imagesList, images, list);
    findings.push(...list.list);
  }
  const warnings: string[] = [];
  const signatureChecks: VerifyCheck[] = [];
  if (opts.policy) {
    findings.push(
      ...evaluateImagePolicy(
        opts.policy.policy,
        images.map((i) => ({ names: i.names, ...(i.manifestDigest ? { manifestDigest: i.manifestDigest } : {}) })),
        { target },
      ),
      ...lockedImageFindings(opts.policy.policy, images, target),
    );
    const signatures = await checkSignaturePolicy(opts.policy.policy, archive, {
      ...(opts.trustedRootPath ? { trustedRootPath: opts.trustedRootPath } : {}),
    });
    signatureChecks.push(...signatures.checks);
    warnings.push(...signatures.warnings);
  }
  const checks = [...findings.map((f) => checkOf(target, f)), ...signatureChecks];
  if (!findings.some((f) => f.id.startsWith('K3SG-IMAGE-'))) {
    const names = images.map((i) => i.names[0] ?? i.manifestDigest ?? '(unnamed)');
    checks.unshift({
      kind: 'image',
      subject: target,
      status: 'ok',
      detail: `${images.length} image(s), ${archive.blobs.length} blobs: digests, sizes, manifests and diff_ids consistent${opts.imagesList ? `, exactly the images of ${opts.imagesList.file}` : ''} (${names.join(', ')})`,
    });
  }
  if (opts.policy && !findings.some((f) => f.id.startsWith('K3SG-POLICY-'))) {
    checks.push({
      kind: 'policy',
      subject: target,
      status: 'ok',
      detail: `every image name allowed by ${opts.policy.file}`,
    });
  }
  return { archive, checks, warnings };
}
