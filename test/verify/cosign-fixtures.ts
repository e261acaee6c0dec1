// Image archives carrying cosign signatures, for the cosign verifier tests. Two sources, both
// cached under CACHE_DIR/cosign/v1:
//
// 1. REAL cosign signatures: containers/image's test fixtures, shipped in Debian's
//    golang-github-containers-image-dev (fetched with apt-get download, never copied into the
//    repo). Their payloads and ECDSA signatures were made by cosign itself with the key whose
//    public half is fixtures/cosign.pub; the image manifest they sign is fixtures/
//    dir-img-cosign-valid/manifest.json. The OCI layout around them is assembled here (index.json,
//    the .sig manifest), the way cosign stores them: our code never signs anything.
// 2. The skopeo flow, for the storage convention: Debian's skopeo cannot sign with sigstore keys
//    (its containers/image is built with "Debian-local change: sigstore disabled"), so openssl
//    signs a simple-signing payload for the umoci image; skopeo (containers/image's sigstore
//    attachment writer) pushes image + signatures to a local docker-registry, which writes the
//    `sha256-<hex>.sig` manifest (test/fixtures/registry.ts starts it); skopeo then copies both
//    tags into an OCI layout.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR } from '../fixtures/realbins.ts';
import { startRegistry } from '../fixtures/registry.ts';
import { hasTool } from '../fixtures/tools.ts';
import { imageFixtures } from '../images/fixtures.ts';

export const COSIGN_DIR = join(CACHE_DIR, 'cosign', 'v1');
const CIMAGE_PKG = 'golang-github-containers-image-dev=5.23.1-4';
const CIMAGE_FIXTURES = 'usr/share/gocode/src/github.com/containers/image/signature/fixtures';
export const SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIG_ANNOTATION = 'dev.cosignproject.cosign/signature';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// --- OCI layout writing (test side) -------------------------------------------------------

export interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** Writes a blob into a layout and returns its descriptor. */
export function putBlob(layout: string, bytes: Buffer | string, mediaType: string): Desc {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const hex = sha256(b);
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layout, 'blobs', 'sha256', hex), b);
  return { mediaType, digest: `sha256:${hex}`, size: b.length };
}

export interface SigLayer {
  payload: Buffer;
  annotations: Record<string, string>;
}

/** A `.sig` manifest as cosign writes it: an empty-platform config, one simplesigning layer per signature. */
export function putSignatureManifest(layout: string, layers: SigLayer[]): Desc {
  const descs = layers.map((l) => ({ ...putBlob(layout, l.payload, SIMPLESIGNING), annotations: l.annotations }));
  const config = putBlob(
    layout,
    JSON.stringify({
      architecture: '',
      os: '',
      config: {},
      rootfs: { type: 'layers', diff_ids: descs.map((d) => d.digest) },
    }),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: descs };
  return putBlob(layout, JSON.stringify(manifest), 'application/vnd.oci.image.manifest.v1+json');
}

export function writeIndex(layout: string, entries: Array<{ desc: Desc; ref: string }>): void {
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const manifests = entries.map((e) => ({
    ...e.desc,
    annotations: { 'org.opencontainers.image.ref.name': e.ref },
  }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
}

export const sigTag = (digest: string) => `sha256-${digest.slice('sha256:'.length)}.sig`;

// --- 1. real cosign signatures from containers/image's fixtures ----------------------------

export interface RealCosign {
  /** fixtures/cosign.pub: the public key of the cosign key that made the signatures. */
  pub: string;
  /** The image manifest (Docker v2s2) the signatures name. */
  manifest: Buffer;
  manifestDigest: string;
  /** Payload + annotations of real cosign signatures. */
  valid: SigLayer;
  valid2: SigLayer;
  withTag: SigLayer;
  /** Made by cosign with another key. */
  unknownKey: SigLayer;
  /** A manifest of another image (fixtures/dir-img-cosign-modified-manifest/manifest.json). */
  otherManifest: Buffer;
}

/** c/image's persistent form: `\0sigstore-json\n` + {mimeType, payload (base64), annotations}. */
function readCImageSignature(path: string): SigLayer {
  const raw = readFileSync(path);
  const prefix = Buffer.from('\0sigstore-json\n');
  if (!raw.subarray(0, prefix.length).equals(prefix)) throw new Error(`${path}: not a c/image sigstore signature`);
  const doc = JSON.parse(raw.subarray(prefix.length).toString('utf8')) as {
    payload: string;
    annotations: Record<string, string>;
  };
  return { payload: Buffer.from(doc.payload, 'base64'), annotations: doc.annotations };
}

let realCached: RealCosign | { skip: string } | undefined;

export function realCosign(): RealCosign | { skip: string } {
  realCached ??= fetchRealCosign();
  return realCached;
}

function fetchRealCosign(): RealCosign | { skip: string } {
  const dir = join(COSIGN_DIR, 'cimage-fixtures');
  if (!existsSync(join(dir, 'cosign.pub'))) {
    for (const tool of ['apt-get', 'dpkg-deb']) if (!hasTool(tool)) return { skip: `${tool} not available` };
    mkdirSync(COSIGN_DIR, { recursive: true });
    const work = join(COSIGN_DIR, `fetch-${process.pid}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work);
    try {
      try {
        run('apt-get', ['download', CIMAGE_PKG], work);
      } catch (e) {
        return { skip: `apt-get download ${CIMAGE_PKG} failed: ${(e as Error).message.split('\n')[0]}` };
      }
      const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
      if (!deb) return { skip: `apt-get download ${CIMAGE_PKG} produced no .deb` };
      run('dpkg-deb', ['-x', deb, 'x'], work);
      rmSync(dir, { recursive: true, force: true });
      // dereference: the fixture dirs are symlinks into each other
      cpSync(join(work, 'x', CIMAGE_FIXTURES), `${dir}.tmp`, { recursive: true, dereference: true });
      renameSync(`${dir}.tmp`, dir);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const manifest = readFileSync(join(dir, 'dir-img-cosign-valid', 'manifest.json'));
  return {
    pub: join(dir, 'cosign.pub'),
    manifest,
    manifestDigest: `sha256:${sha256(manifest)}`,
    valid: readCImageSignature(join(dir, 'dir-img-cosign-valid', 'signature-1')),
    valid2: readCImageSignature(join(dir, 'dir-img-cosign-valid-2', 'signature-2')),
    withTag: readCImageSignature(join(dir, 'dir-img-cosign-valid-with-tag', 'signature-1')),
    unknownKey: readCImageSignature(join(dir, 'unknown-cosign-key.signature')),
    otherManifest: readFileSync(join(dir, 'dir-img-cosign-modified-manifest', 'manifest.json')),
  };
}

/**
 * An OCI layout holding a manifest (its config and layers are not there: only the digest
 * matters to a signature, and readImages reports the missing blobs as findings) and a `.sig`
 * tag with the given signature layers, named after `sigFor` (default: the manifest's digest).
 */
export function layoutWithSignatures(dir: string, manifest: Buffer, layers: SigLayer[], sigFor?: string): string {
  mkdirSync(dir, { recursive: true });
  const image = putBlob(dir, manifest, 'application/vnd.docker.distribution.manifest.v2+json');
  const entries = [{ desc: image, ref: 'docker.io/library/cosign-signed-single-sample:latest' }];
  if (layers.length > 0) entries.push({ desc: putSignatureManifest(dir, layers), ref: sigTag(sigFor ?? image.digest) });
  writeIndex(dir, entries);
  return dir;
}

// --- 2. the skopeo + docker-registry flow ---------------------------------------------------

export interface SkopeoSigned {
  /** OCI layout written by skopeo: docker.io/rancher/test:1.0, docker.io/rancher/extra:2.0 and their .sig tags. */
  layout: string;
  /** The same layout packed with GNU tar (an oci-archive). */
  archive: string;
  testDigest: string;
  extraDigest: string;
  /** Public keys (PEM) of the signing keys, and one that signed nothing. */
  keys: { p256: string; p384: string; ed25519: string; unused: string };
  /** skopeo `dir:` copies of the two images with their signatures (signature-N files), to push again. */
  dirs: { test: string; extra: string };
  /** registries.d telling skopeo to push those signatures as `.sig` tags (use-sigstore-attachments). */
  registriesD: string;
}

let skopeoCached: Promise<SkopeoSigned | { skip: string }> | undefined;

export function skopeoSigned(): Promise<SkopeoSigned | { skip: string }> {
  skopeoCached ??= buildSkopeoSigned();
  return skopeoCached;
}

async function buildSkopeoSigned(): Promise<SkopeoSigned | { skip: string }> {
  const dir = join(COSIGN_DIR, 'skopeo');
  const result: SkopeoSigned = {
    layout: join(dir, 'layout'),
    archive: join(dir, 'layout.tar'),
    testDigest: '',
    extraDigest: '',
    keys: {
      p256: join(dir, 'keys', 'p256.pub'),
      p384: join(dir, 'keys', 'p384.pub'),
      ed25519: join(dir, 'keys', 'ed25519.pub'),
      unused: join(dir, 'keys', 'unused.pub'),
    },
    dirs: { test: join(dir, 'dir-test'), extra: join(dir, 'dir-extra') },
    registriesD: join(dir, 'registries.d'),
  };
  const done = join(dir, 'digests.json');
  if (existsSync(done)) return { ...result, ...(JSON.parse(readFileSync(done, 'utf8')) as object) };
  for (const tool of ['skopeo', 'docker-registry', 'openssl', 'tar']) {
    if (!hasTool(tool)) return { skip: `${tool} not installed (apt-get install -y skopeo docker-registry openssl)` };
  }
  const images = imageFixtures();
  if ('skip' in images) return images;
  const work = `${dir}.work-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'keys'), { recursive: true });
  const keyGen: Record<string, string[]> = {
    p256: ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    p384: ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
    ed25519: ['genpkey', '-algorithm', 'ed25519'],
    unused: ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  };
  for (const [name, args] of Object.entries(keyGen)) {
    run('openssl', [...args, '-out', join(work, 'keys', `${name}.pem`)]);
    run('openssl', [
      'pkey',
      '-in',
      join(work, 'keys', `${name}.pem`),
      '-pubout',
      '-out',
      join(work, 'keys', `${name}.pub`),
    ]);
  }
  const registry = await startRegistry({ dir: join(work, 'registry') });
  try {
    const host = registry.host;
    const regd = join(work, 'registries.d');
    mkdirSync(regd);
    writeFileSync(join(regd, 'default.yaml'), 'default-docker:\n  use-sigstore-attachments: true\n');
    const digests: Record<string, string> = {};
    for (const [tag, repo, signers] of [
      ['test', 'rancher/test:1.0', ['p384', 'ed25519', 'p256']],
      ['extra', 'rancher/extra:2.0', ['p256']],
    ] as const) {
      // dir: holds the manifest bytes skopeo will push, so their digest is known before pushing.
      const d = join(work, `dir-${tag}`);
      run('skopeo', ['copy', '-q', `oci:${images.layout}:${tag}`, `dir:${d}`]);
      const digest = `sha256:${sha256(readFileSync(join(d, 'manifest.json')))}`;
      digests[tag] = digest;
      signers.forEach((key, i) => {
        const payload = JSON.stringify({
          critical: {
            identity: { 'docker-reference': `${host}/${repo}` },
            image: { 'docker-manifest-digest': digest },
            type: 'cosign container image signature',
          },
          optional: { signer: `openssl ${key}` },
        });
        const payloadFile = join(work, `payload-${tag}-${key}.json`);
        writeFileSync(payloadFile, payload);
        const sigFile = `${payloadFile}.sig`;
        const keyFile = join(work, 'keys', `${key}.pem`);
        // ECDSA: SHA-256 whatever the curve, as cosign and containers/image sign; Ed25519: pure.
        if (key === 'ed25519')
          run('openssl', ['pkeyutl', '-sign', '-rawin', '-inkey', keyFile, '-in', payloadFile, '-out', sigFile]);
        else run('openssl', ['dgst', '-sha256', '-sign', keyFile, '-out', sigFile, payloadFile]);
        const blob = {
          mimeType: SIMPLESIGNING,
          payload: Buffer.from(payload).toString('base64'),
          annotations: { [SIG_ANNOTATION]: readFileSync(sigFile).toString('base64') },
        };
        writeFileSync(
          join(d, `signature-${i + 1}`),
          Buffer.concat([Buffer.from('\0sigstore-json\n'), Buffer.from(JSON.stringify(blob))]),
        );
      });
      const reg = ['--registries.d', regd];
      run('skopeo', [...reg, 'copy', '-q', '--dest-tls-verify=false', `dir:${d}`, `docker://${host}/${repo}`]);
      const layout = join(work, 'layout');
      const src = ['copy', '-q', '--src-tls-verify=false'];
      run('skopeo', [
        ...reg,
        ...src,
        '--remove-signatures',
        `docker://${host}/${repo}`,
        `oci:${layout}:docker.io/${repo}`,
      ]);
      const sigRef = `${host}/${repo.split(':')[0]}:${sigTag(digest)}`;
      run('skopeo', [...reg, ...src, `docker://${sigRef}`, `oci:${layout}:${sigTag(digest)}`]);
    }
    run('tar', ['-cf', join(work, 'layout.tar'), '-C', join(work, 'layout'), '.']);
    for (const k of Object.keys(keyGen)) rmSync(join(work, 'keys', `${k}.pem`));
    const saved = { testDigest: digests.test, extraDigest: digests.extra };
    writeFileSync(join(work, 'digests.json'), JSON.stringify(saved));
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
    return { ...result, ...saved } as SkopeoSigned;
  } finally {
    await registry.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
