// A downloaded K3s release folder: every asset against its arch's sums file, files that are no
// release asset, each binary's ELF machine against its name, and the version inside each
// binary. Which absent assets are failures (docs/lockfile.md, "Release folders"): a folder
// holds the arches whose sums file it holds; for those, the binary is required (it is what
// gets installed) and the airgap tarballs are optional (nobody downloads all compressions).
import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BinaryFacts, binaryFacts, examineBinary } from '../inventory/binary-facts.ts';
import { errnoOf, fsError } from '../io/fs-error.ts';
import { type FileDigest, Hasher } from '../io/hashing.ts';
import { InputError } from '../model/errors.ts';
import { LIMITS } from '../model/limits.ts';
import type { BundleSearch } from '../readers/bundle/locate.ts';
import { K3S_VERSION } from '../readers/k3sidentity.ts';
import { checksumCheck, readSums, type SumsEntry } from './checksums.ts';
import { HINTS } from './hints.ts';
import type { VerifyCheck, VerifyKind, VerifyReport } from './model.ts';
import {
  type AssetKind,
  classifyAsset,
  IMAGES_LIST,
  malformedImageLines,
  RELEASE_ARCHES,
  sumsFileName,
  sumsMayList,
} from './release-layout.ts';

export interface ReleaseOptions {
  /** Full K3s version every binary must carry, `+k3sN` included (e.g. `v1.31.4+k3s1`). */
  expectVersion?: string;
  /** Share one with other checks of the same run so no file is hashed twice. */
  hasher?: Hasher;
  /** Also find and check each binary's embedded bundle, in the pass that hashes it (lock add). */
  bundles?: boolean;
}

export interface ReleaseAsset {
  name: string;
  path: string;
  kind: AssetKind;
  arch?: string;
  digest: FileDigest;
  /** The sums file listing it; absent for sums files and an unlisted k3s-images.txt. */
  sums?: string;
  binary?: BinaryFacts;
  /** With `bundles`: a binary's embedded bundle, from the pass that hashed it. */
  bundle?: BundleSearch;
}

export interface ReleaseExamination {
  report: VerifyReport;
  /** Every release asset in the folder, by name. */
  assets: ReleaseAsset[];
  /** expectVersion, or the one version all binaries carry (absent when none or they disagree). */
  version?: string;
}

const KIND_ORDER: VerifyKind[] = ['release', 'checksum', 'arch', 'version'];

interface Sums {
  arch: string;
  file: string;
  entries: Map<string, SumsEntry>;
}

/** Throws InputError for a bad expectVersion, a folder that cannot be read, or no/hostile sums files. */
export async function examineRelease(dir: string, opts: ReleaseOptions = {}): Promise<ReleaseExamination> {
  const expect = opts.expectVersion;
  if (expect !== undefined && !K3S_VERSION.test(expect))
    throw new InputError(
      'USAGE',
      expect,
      'not a full K3s version: give it with its build number, such as v1.31.4+k3s1 (+k3s2 is another release)',
    );
  const checks: VerifyCheck[] = [];
  const present: { name: string; path: string; kind: AssetKind; arch?: string }[] = [];
  for (const entry of listFolder(dir)) {
    const path = join(dir, entry.name);
    const asset = entry.isFile() ? classifyAsset(entry.name) : undefined;
    if (asset) present.push({ name: entry.name, path, ...asset });
    else checks.push(unexpected(path, entry.isFile() ? 'no K3s release asset has this name' : notAFile(entry)));
  }
  const sums = new Map<string, Sums>();
  for (const a of present.filter((p) => p.kind === 'sums')) {
    const arch = a.arch as string;
    sums.set(arch, {
      arch,
      file: a.name,
      entries: new Map(readSums(a.path, { label: 'release sums file' }).map((e) => [e.name, e])),
    });
  }
  if (sums.size === 0)
    throw new InputError(
      'NOT_FOUND',
      dir,
      'no sha256sum-<arch>.txt: download the sums file of each arch you downloaded, from the same release (or verify against a lock file)',
    );
  for (const [arch, s] of sums) {
    for (const e of s.entries.values()) {
      if (!sumsMayList(arch, e.name))
        checks.push({
          kind: 'release',
          subject: join(dir, s.file),
          status: 'unexpected',
          detail: `line ${e.line} lists ${e.name}, which is no ${arch} release asset`,
          hint: HINTS.sumsUnexpected(s.file),
        });
    }
  }
  const assets = await readAssets(present, opts);

  for (const a of assets) {
    if (a.kind === 'sums') continue;
    // Only a sums file that may list the asset vouches for it (sha256sum-arm64.txt not for k3s).
    const listing = [...sums.values()].find((s) => s.entries.has(a.name) && sumsMayList(s.arch, a.name));
    if (listing) {
      a.sums = listing.file;
      checks.push(checksumCheck(a.path, a.digest, listing.entries.get(a.name)?.sha256, listing.file));
    } else if (a.kind === 'images') {
      checks.push(imagesCheck(a.path, a.digest.size));
    } else {
      const want = sumsFileName(a.arch as string);
      checks.push({
        kind: 'checksum',
        subject: a.path,
        status: 'not-listed',
        detail: sums.has(a.arch as string) ? `not listed in ${want}` : `no ${want} in the folder to check it against`,
        actual: a.digest.sha256,
        hint: sums.has(a.arch as string) ? HINTS.checksumNotListed(want) : HINTS.noSumsFile(want),
      });
    }
    if (a.binary) checks.push(archCheck(a));
  }
  checks.push(...missingBinaries(dir, sums, new Set(present.map((p) => p.name))));
  const { version, versionChecks } = versions(assets, expect);
  checks.push(...versionChecks);
  checks.sort((x, y) =>
    x.subject === y.subject ? KIND_ORDER.indexOf(x.kind) - KIND_ORDER.indexOf(y.kind) : x.subject < y.subject ? -1 : 1,
  );
  return version === undefined ? { report: { checks }, assets } : { report: { checks }, assets, version };
}

type PresentAsset = Pick<ReleaseAsset, 'name' | 'path' | 'kind' | 'arch'>;

/**
 * Every byte of every asset, the other assets in parallel. Without `bundles`: the binaries'
 * headers first (small reads), then every asset hashed. With `bundles`: each binary in one
 * pass that hashes it and checks its bundle (on this thread, while the workers hash the rest).
 */
async function readAssets(present: PresentAsset[], opts: ReleaseOptions): Promise<ReleaseAsset[]> {
  const hasher = opts.hasher ?? new Hasher();
  const isBinary = (p: PresentAsset) => p.kind === 'binary';
  if (!opts.bundles) {
    const facts = new Map(present.filter(isBinary).map((p) => [p.name, binaryFacts(p.path)]));
    const digests = await hasher.digestAll(present);
    return present.map((p, i) => {
      const binary = facts.get(p.name);
      return { ...p, digest: digests[i] as FileDigest, ...(binary ? { binary } : {}) };
    });
  }
  const others = present.filter((p) => !isBinary(p));
  const hashed = hasher.digestAll(others, { beside: true });
  const examined = new Map(present.filter(isBinary).map((p) => [p.name, examineBinary(p.path)]));
  const digests = new Map((await hashed).map((d, i) => [(others[i] as PresentAsset).name, d]));
  return present.map((p) => {
    const e = examined.get(p.name);
    if (e) return { ...p, digest: e.digest, binary: e.facts, bundle: e.bundle };
    return { ...p, digest: digests.get(p.name) as FileDigest };
  });
}

/** The checks of examineRelease: any check not `ok` is a verification failure. */
export async function verifyRelease(dir: string, opts: ReleaseOptions = {}): Promise<VerifyReport> {
  return (await examineRelease(dir, opts)).report;
}

/** A folder's entries, sorted by name; InputError when it cannot be listed. */
export function listFolder(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (e) {
    if (errnoOf(e) === 'ENOTDIR')
      throw new InputError('USAGE', dir, 'not a folder: name the folder the release was downloaded into');
    throw fsError(e, dir, { missing: 'no such folder' });
  }
}

function notAFile(entry: Dirent): string {
  return entry.isSymbolicLink() ? 'a symbolic link, not a release asset' : 'not a regular file';
}

export function unexpected(subject: string, detail: string): VerifyCheck {
  return { kind: 'release', subject, status: 'unexpected', detail, hint: HINTS.releaseUnexpected };
}

// No upstream sums file covers the image list, so only its form can be checked here; its
// digest is pinned by a lock file (`k3sguard lock add`). K3s's lists are under 1 KiB.
function imagesCheck(path: string, size: number): VerifyCheck {
  const max = LIMITS.optionFile['images-list'];
  const bad = size > max ? [] : malformedImageLines(readFileSync(path, 'latin1'));
  if (size > max || bad.length > 0)
    return {
      kind: 'release',
      subject: path,
      status: 'mismatch',
      detail:
        bad.length > 0
          ? `line ${bad.join(', ')}: not a fully qualified image reference`
          : `${size} bytes: far larger than an image list`,
      hint: HINTS.imagesMalformed,
    };
  return {
    kind: 'release',
    subject: path,
    status: 'ok',
    detail: `well-formed image list; no sums file covers ${IMAGES_LIST} (pin it with a lock file)`,
  };
}

function archCheck(a: ReleaseAsset): VerifyCheck {
  const want = a.arch as string;
  const got = a.binary?.arch;
  const base = { kind: 'arch' as const, subject: a.path, expected: want };
  if (got === want) return { ...base, status: 'ok', detail: `ELF machine ${got}, as its name says`, actual: got };
  return {
    ...base,
    status: 'mismatch',
    detail: got ? `ELF machine ${got}, but ${a.name} is the ${want} binary` : (a.binary?.notBinary ?? 'not an ELF'),
    actual: got ?? 'not an ELF',
    hint: HINTS.archMismatch(a.name),
  };
}

function missingBinaries(dir: string, sums: Map<string, Sums>, present: Set<string>): VerifyCheck[] {
  const checks: VerifyCheck[] = [];
  for (const { arch, binary } of RELEASE_ARCHES) {
    const s = sums.get(arch);
    if (!s || present.has(binary) || !s.entries.has(binary)) continue;
    checks.push({
      kind: 'release',
      subject: join(dir, binary),
      status: 'missing',
      detail: `listed in ${s.file}, not in the folder`,
      hint: HINTS.releaseMissing(binary, s.file),
    });
  }
  return checks;
}

/**
 * With expectVersion: every binary must carry it. Without: binaries of one release must agree
 * (checked against the first binary's version, in name order, so `k3s` when present).
 */
function versions(
  assets: ReleaseAsset[],
  expect: string | undefined,
): { version?: string; versionChecks: VerifyCheck[] } {
  const binaries = assets.filter((a) => a.binary);
  const found = binaries.map((a) => a.binary?.k3s?.version);
  const reference = expect ?? found.find((v) => v !== undefined);
  const checks: VerifyCheck[] = [];
  binaries.forEach((a, i) => {
    const actual = found[i];
    if (reference === undefined || (expect === undefined && (actual === undefined || actual === reference))) return;
    const ok = actual === reference;
    checks.push({
      kind: 'version',
      subject: a.path,
      status: ok ? 'ok' : 'mismatch',
      detail: ok
        ? `K3s ${actual} inside`
        : actual === undefined
          ? `no K3s version found inside the binary${a.binary?.unreadable ? ` (${a.binary.unreadable})` : ''}`
          : `K3s ${actual} inside, ${expect ? 'not the expected version' : `while another binary of the folder is ${reference}`}`,
      expected: reference,
      actual: actual ?? 'none',
      ...(ok ? {} : { hint: HINTS.versionMismatch }),
    });
  });
  const agreed = checks.every((c) => c.status === 'ok') ? reference : undefined;
  return agreed === undefined ? { versionChecks: checks } : { version: agreed, versionChecks: checks };
}
