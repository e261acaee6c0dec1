// k3sguard-deploy.yaml: deploy/**/*.yaml with the released image's digest in place of
// `${K3SGUARD_IMAGE_DIGEST}`, so what a cluster applies pins the very image of this release
// (the repository's copies cannot: the digest exists only once the image is built from the
// commit they are part of). The image is read with k3sguard's own archive reader, which checks
// the archive as `verify` does.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readImages } from '../src/readers/images/read.ts';
import { ReleaseError } from './release-error.ts';

// Spelled in pieces: it is the literal text in deploy/, not a template of this file.
export const DIGEST_PLACEHOLDER = ['$', '{K3SGUARD_IMAGE_DIGEST}'].join('');

/** The digest the image's name resolves to in containerd (the index's, for a multi-platform image). */
export async function imageDigest(archive: string, name: string): Promise<string> {
  const result = await readImages(archive);
  const image = result.images.find((i) => i.names.includes(name));
  const digest = image?.indexDigest ?? image?.manifestDigest;
  if (!digest) {
    const names = result.images.flatMap((i) => i.names).join(', ') || 'none';
    throw new ReleaseError(`${archive}: no image named ${name} (it has: ${names})`);
  }
  return digest;
}

/**
 * Every deploy/*.yaml as one multi-document file, the placeholder replaced. Each must reference
 * `imageName@${K3SGUARD_IMAGE_DIGEST}`: a manifest naming another version would deploy another image.
 */
export function renderDeploy(deployDir: string, imageName: string, digest: string, out: string): void {
  // deploy/kubernetes/ too (the agent's DaemonSet); deploy/systemd/ holds no YAML.
  const files = readdirSync(deployDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  const docs: string[] = [];
  for (const f of files) {
    const text = readFileSync(join(deployDir, f), 'utf8');
    for (const m of text.matchAll(/image:\s*(\S+)/g)) {
      if (m[1] !== `${imageName}@${DIGEST_PLACEHOLDER}`) {
        throw new ReleaseError(`deploy/${f}: image ${m[1]}: expected ${imageName}@${DIGEST_PLACEHOLDER}`);
      }
    }
    docs.push(`# deploy/${f}\n${text.replaceAll(DIGEST_PLACEHOLDER, digest).trimEnd()}\n`);
  }
  if (docs.length === 0) throw new ReleaseError(`${deployDir}: no manifests`);
  writeFileSync(out, docs.join('---\n'));
}
