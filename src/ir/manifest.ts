// The evidence archive's table of contents: `manifest.json`, signed into
// `manifest.sigstore.json`. Every other member of the archive is an item here with its sha256,
// so the signature over the manifest covers every byte collected.
export const MANIFEST_NAME = 'manifest.json';
export const BUNDLE_NAME = 'manifest.sigstore.json';
export const EVIDENCE_SCHEMA = 'k3sguard/ir-evidence@1';

export interface EvidenceItem {
  /** The member's name in the archive. */
  name: string;
  sha256: string;
  size: number;
  /** Where it came from: a node path, or what produced it (`containerd`, `k3sguard`). */
  source: string;
  collectedAt: string;
  /** Why the member differs from its source (secrets replaced by their sha256). */
  note?: string;
}

export interface EvidenceManifest {
  schema: typeof EVIDENCE_SCHEMA;
  tool: { name: 'k3sguard'; version: string };
  host: string;
  root: string;
  /** K3s's data dir and the agent's state dir as collected (node paths); absent before they were recorded. */
  dataDir?: string;
  stateDir?: string;
  collectedAt: string;
  items: EvidenceItem[];
}
