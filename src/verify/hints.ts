// What to do after each kind of verification failure: one place, so the table, the JSON and
// the docs say the same thing, and each hint names the next step rather than the problem.

export const HINTS = {
  checksumMismatch: (sums: string) =>
    `do not use this file: it is not what ${sums} says; download it again, and if it still differs, the file or ${sums} was tampered with`,
  checksumNotListed: (sums: string) =>
    `${sums} does not vouch for this file: use the sums file of the file's own release and arch`,
  releaseMissing: (name: string, sums: string) =>
    `download ${name} from the same release (${sums} lists it), or leave ${sums} out of the folder if you do not need that arch`,
  releaseUnexpected: 'not a K3s release asset: move it out of the release folder',
  sumsUnexpected: (sums: string) =>
    `${sums} names a file that is no asset of its arch: get ${sums} again from the release`,
  noSumsFile: (sums: string) => `download ${sums} from the same release, next to this file`,
  imagesMalformed: 'not the image list K3s publishes: download k3s-images.txt again',
  archMismatch: (name: string) =>
    `a renamed or swapped binary: download ${name} again and check you took the asset of your arch`,
  versionMismatch: 'not the release you expected: check the tag you downloaded from',
  bundleMismatch: 'the binary was altered after it was built: do not use it; download it again',
  lockNotListed: (lock: string) => `not in ${lock}: review it, then run \`k3sguard lock add\``,
  lockMismatch: (lock: string) =>
    `differs from the digest reviewed in ${lock}: do not deploy it; find out which one is genuine`,
} as const;
