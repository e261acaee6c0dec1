// One result model for every verification (checksum files, release dirs, the lock file,
// Sigstore bundles): a list of checks, each passed or failed with what was expected and
// found, and what to do about a failure. The CLI renders it as a table or JSON; any failed
// check gives exit code 1.

export type VerifyKind =
  | 'checksum' // a file against a sums file
  | 'release' // a release dir's layout: unexpected files, missing assets
  | 'arch' // an ELF's machine against its asset name
  | 'version' // the version inside a binary against --expect-version
  | 'lock' // a file against k3sguard.lock
  | 'sigstore' // a Sigstore bundle
  | 'image' // an image archive's integrity: blobs, manifests, diff_ids, the images list
  | 'policy' // image names against an image policy
  | 'cosign'; // the cosign signatures (`sha256-<hex>.sig` tags) of an image in an archive or layout

export type VerifyStatus =
  | 'ok'
  | 'mismatch' // digest, arch or version differs
  | 'not-listed' // the file is not in the sums file / lock file
  | 'missing' // listed, but no such file
  | 'unexpected' // present, but nothing says it should be
  | 'invalid'; // a signature or bundle that does not verify

export interface VerifyCheck {
  kind: VerifyKind;
  /** The file or artifact checked, as the user named it. */
  subject: string;
  status: VerifyStatus;
  /** One line: what was checked against what. */
  detail: string;
  expected?: string;
  actual?: string;
  /** For a failure: what to do next (e.g. "review it, then run `k3sguard lock add`"). */
  hint?: string;
}

export interface VerifyReport {
  checks: VerifyCheck[];
}

export function passed(c: VerifyCheck): boolean {
  return c.status === 'ok';
}
