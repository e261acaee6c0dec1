// dist/k3sguard-image.cdx.json: a CycloneDX 1.6 SBOM of the image. The image itself (by its
// manifest digest) is the subject; its components are the executable (with its sha256) and
// every Debian package a file of the image came from, with the purl k3sguard's own image reader
// gives it, so `k3sguard sbom` of the image and this file name the packages alike. When the
// single-executable build left its own SBOM beside the executable, that SBOM's components (Node,
// the bundled npm packages) are nested under the executable and its dependency graph kept, after
// checking it describes this very file. Written as plain JSON with a fixed key order: the same
// image gives the same bytes (timestamp SOURCE_DATE_EPOCH, serial number derived from the digest).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { encodePurlSegment, genericFilePurl } from '../../src/model/purl.ts';
import type { OsRelease } from '../../src/readers/images/osrelease.ts';
import { osPackagePurl } from '../../src/readers/images/packagedb.ts';
import type { DebianPackage } from './debian.ts';
import { type ImageMeta, rfc3339 } from './oci-image.ts';
import { EXECUTABLE_PATH } from './rootfs.ts';

interface CdxHash {
  alg: string;
  content: string;
}
interface CdxComponent {
  'bom-ref'?: string;
  type: string;
  name: string;
  version?: string;
  hashes?: CdxHash[];
  purl?: string;
  components?: CdxComponent[];
  properties?: Array<{ name: string; value: string }>;
  [key: string]: unknown;
}
interface CdxDependency {
  ref: string;
  dependsOn?: string[];
}
interface CdxBom {
  metadata?: { component?: CdxComponent };
  components?: CdxComponent[];
  dependencies?: CdxDependency[];
}

export interface ImageSbomInput {
  meta: ImageMeta;
  manifestDigest: string;
  executableSha256: string;
  os: OsRelease;
  packages: DebianPackage[];
  /** The single executable's own SBOM (dist/sea/<name>.cdx.json), when there is one. */
  seaSbom?: string;
}

/** A name-based (version 5) UUID, so one image always gets the same serial number. */
function uuidV5(name: string): string {
  const urlNamespace = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');
  const h = createHash('sha1').update(urlNamespace).update(name).digest().subarray(0, 16);
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The executable's component: from the single executable's SBOM when it has one for this file. */
function executableComponent(input: ImageSbomInput): { component: CdxComponent; dependencies: CdxDependency[] } {
  const { meta, executableSha256 } = input;
  const own: CdxComponent = {
    'bom-ref': genericFilePurl(meta.name, executableSha256, meta.version),
    type: 'application',
    name: meta.name,
    version: meta.version,
    hashes: [{ alg: 'SHA-256', content: executableSha256 }],
    purl: genericFilePurl(meta.name, executableSha256, meta.version),
  };
  const path = { name: 'k3sguard:image:path', value: EXECUTABLE_PATH };
  if (!input.seaSbom || !existsSync(input.seaSbom))
    return { component: { ...own, properties: [path] }, dependencies: [] };
  const sea = JSON.parse(readFileSync(input.seaSbom, 'utf8')) as CdxBom;
  const subject = sea.metadata?.component;
  if (!subject) throw new Error(`${input.seaSbom}: no metadata.component to describe the executable`);
  const listed = subject.hashes?.find((h) => h.alg === 'SHA-256')?.content;
  if (listed !== undefined && listed !== executableSha256) {
    throw new Error(
      `${input.seaSbom}: describes an executable with sha256 ${listed}, not this one (${executableSha256})`,
    );
  }
  const component: CdxComponent = {
    ...subject,
    'bom-ref': subject['bom-ref'] ?? own['bom-ref'],
    hashes: listed === undefined ? [...(subject.hashes ?? []), ...(own.hashes ?? [])] : subject.hashes,
    properties: [...(subject.properties ?? []), path],
    components: [...(subject.components ?? []), ...(sea.components ?? [])],
  };
  return { component, dependencies: sea.dependencies ?? [] };
}

export function imageSbom(input: ImageSbomInput): string {
  const { meta, manifestDigest, os } = input;
  const imageRef = `${meta.name}:${meta.version}`;
  const imagePurl = `pkg:oci/${encodePurlSegment(meta.name)}@${encodePurlSegment(manifestDigest)}?arch=amd64&tag=${encodePurlSegment(meta.version)}`;
  const exe = executableComponent(input);
  const osRef = `os:${os.id}-${os.versionId ?? 'unknown'}`;
  const packages: CdxComponent[] = input.packages.map((p) => {
    const purl = osPackagePurl('dpkg', p.name, p.version, p.arch, os);
    return {
      'bom-ref': purl,
      type: 'library',
      name: p.name,
      version: p.version,
      purl,
      properties: [
        { name: 'k3sguard:package:source', value: p.source.name },
        { name: 'k3sguard:package:source-version', value: p.source.version },
        { name: 'k3sguard:package:db', value: `/var/lib/dpkg/status.d/${p.name}` },
      ],
    };
  });
  const bom = {
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${uuidV5(`k3sguard-image:${manifestDigest}`)}`,
    version: 1,
    metadata: {
      timestamp: rfc3339(meta.epoch),
      lifecycles: [{ phase: 'build' }],
      tools: { components: [{ type: 'application', name: `${meta.name} build:image`, version: meta.version }] },
      component: {
        'bom-ref': imagePurl,
        type: 'container',
        name: meta.name,
        version: meta.version,
        hashes: [{ alg: 'SHA-256', content: manifestDigest.replace(/^sha256:/, '') }],
        purl: imagePurl,
        properties: [
          { name: 'k3sguard:image:reference', value: imageRef },
          { name: 'k3sguard:image:revision', value: meta.revision },
        ],
      },
    },
    components: [
      exe.component,
      {
        'bom-ref': osRef,
        type: 'operating-system',
        name: os.id,
        ...(os.versionId ? { version: os.versionId } : {}),
        ...(os.prettyName ? { description: os.prettyName } : {}),
      },
      ...packages,
    ],
    dependencies: [
      {
        ref: imagePurl,
        dependsOn: [exe.component['bom-ref'] as string, osRef, ...packages.map((p) => p['bom-ref'] as string)],
      },
      ...exe.dependencies,
    ],
  };
  return `${JSON.stringify(bom, null, 2)}\n`;
}
