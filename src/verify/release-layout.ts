// The assets of a K3s GitHub release (K3S-FACTS §1; scripts/validate-artifacts and the release
// workflow in k3s-io/k3s): per arch a binary, airgap image tarballs in three compressions and
// a sums file covering exactly those; plus k3s-images.txt, which no sums file covers.

export interface ReleaseArch {
  /** GOARCH name, also the ELF machine the binary must have. */
  arch: string;
  binary: string;
}

// riscv64 is built by scripts/package-cli (k3s-riscv64) though not yet published; knowing it
// keeps such a file from being called unexpected.
export const RELEASE_ARCHES: readonly ReleaseArch[] = [
  { arch: 'amd64', binary: 'k3s' },
  { arch: 'arm64', binary: 'k3s-arm64' },
  { arch: 'arm', binary: 'k3s-armhf' },
  { arch: 's390x', binary: 'k3s-s390x' },
  { arch: 'riscv64', binary: 'k3s-riscv64' },
];

export const IMAGES_LIST = 'k3s-images.txt';
const AIRGAP_EXTS = ['tar', 'tar.gz', 'tar.zst'];

export type AssetKind = 'binary' | 'airgap' | 'images' | 'sums';

export interface AssetName {
  kind: AssetKind;
  /** Absent only for k3s-images.txt, which serves every arch. */
  arch?: string;
}

export function sumsFileName(arch: string): string {
  return `sha256sum-${arch}.txt`;
}

export function airgapNames(arch: string): string[] {
  return AIRGAP_EXTS.map((ext) => `k3s-airgap-images-${arch}.${ext}`);
}

/** What a file name is in a release, or undefined: not a release asset. */
export function classifyAsset(name: string): AssetName | undefined {
  if (name === IMAGES_LIST) return { kind: 'images' };
  for (const { arch, binary } of RELEASE_ARCHES) {
    if (name === binary) return { kind: 'binary', arch };
    if (name === sumsFileName(arch)) return { kind: 'sums', arch };
    if (airgapNames(arch).includes(name)) return { kind: 'airgap', arch };
  }
  return undefined;
}

/** May `sha256sum-<arch>.txt` list `name`? Its arch's binary and tarballs, and the image list. */
export function sumsMayList(arch: string, name: string): boolean {
  const asset = classifyAsset(name);
  return asset !== undefined && (asset.kind === 'images' || (asset.kind !== 'sums' && asset.arch === arch));
}

// A fully qualified reference by tag or digest, as K3s lists them: a registry host with a dot
// or a port, repository path components, then `:tag` and/or `@sha256:<hex>`.
const HOST = String.raw`[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?`;
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_REF = new RegExp(
  `^(?=[^/]*[.:])${HOST}(?:/${COMPONENT})+(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$`,
);

/** The lines of k3s-images.txt that are not an image reference (1-based), at most `max`. */
export function malformedImageLines(text: string, max = 3): number[] {
  const bad: number[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    const plain = line === '' || IMAGE_REF.test(line);
    const qualified = line === '' || /[:@]/.test(line.slice(line.lastIndexOf('/')));
    if ((!plain || !qualified) && bad.length < max) bad.push(i + 1);
  });
  return lines.some((l) => l !== '') ? bad : [1];
}
