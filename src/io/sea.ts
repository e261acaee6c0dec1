// Whether this process is k3sguard's single executable (`npm run build:sea`), and what the
// build embedded in it. The executable has no files beside it: what the other forms read from
// the package (package.json, the shipped trusted root, the worker modules) is in its assets,
// under the keys below, which tools/sea/ writes.
import sea from 'node:sea';

/** True inside the single executable; false for the script and npm-package forms. */
export const IN_SEA: boolean = sea.isSea();

/**
 * What the bundler makes `import.meta.url` in the executable: this base plus the module's path
 * in the repository (a bundle has no files, but `new URL('./x.ts', import.meta.url)` must still
 * name a module, which the worker assets are keyed by). Never read from disk.
 */
export const SEA_MODULE_BASE = 'file:///k3sguard-sea/';

export const SEA_ASSET = {
  packageJson: 'package.json',
  trustedRoot: 'trusted_root.json',
  /** The executable's CycloneDX SBOM, the same bytes as dist/sea/k3sguard-linux-<arch>.cdx.json. */
  sbom: 'sbom.cdx.json',
} as const;

/** The asset key of a worker entry's bundle, by the module's path in the repository. */
export function seaWorkerAsset(modulePath: string): string {
  return `worker:${modulePath}`;
}

/** An embedded asset as text; only inside the executable. */
export function seaAssetText(key: string): string {
  return sea.getAsset(key, 'utf8');
}
