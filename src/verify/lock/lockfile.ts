// k3sguard.lock: the digests an operator has reviewed, independent of the release that serves
// the files. `lock add` records artifacts only after they passed their own checks (a release
// against its sums files, a K3s binary's bundle against its name); a second channel that
// gives another digest for a locked artifact stops the add, since two independent channels
// must agree. `verify --lock` (verify.ts) then accepts a file only if its digest is
// locked under its name.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { type BinaryExamination, type BinaryFacts, examineBinary } from '../../inventory/binary-facts.ts';
import { type FileDigest, Hasher } from '../../io/hashing.ts';
import { detectTarget, isImageTarget } from '../../io/target.ts';
import { InputError } from '../../model/errors.ts';
import type { BundleSearch } from '../../readers/bundle/locate.ts';
import { platformText } from '../../readers/images/resolve-oci.ts';
import type { ImageInfo } from '../../readers/images/types.ts';
import { checksumCheck, readSums, requireFile } from '../checksums.ts';
import { policyImages } from '../cosign/policy-signatures.ts';
import { HINTS } from '../hints.ts';
import { type VerifyImagesResult, verifyImageArchive } from '../images.ts';
import { passed, type VerifyCheck, type VerifyReport } from '../model.ts';
import { examineRelease } from '../release.ts';
import { withLockHeld } from './exclusive.ts';
import {
  artifactKey,
  describeArtifact,
  type LockArtifact,
  type Lockfile,
  type LockImage,
  type LockK3s,
  readLock,
  writeLock,
} from './format.ts';

export { verifyAgainstLock } from './verify.ts';

export interface LockAddOptions {
  /** Where the digests came from (a mirror, a colleague's download): default `local`. */
  source?: string;
  /** Version to record (and, for a release, every binary must carry it). */
  expectVersion?: string;
  hasher?: Hasher;
}

export interface LockAddResult {
  /** What was checked before locking. Any failed check: nothing was written. */
  report: VerifyReport;
  written: boolean;
  /** The entries added or given another source, as now in the lock (empty when not written). */
  artifacts: LockArtifact[];
}

const DEFAULT_SOURCE = 'local';

/** Lock every asset of a release folder after verifyRelease's checks (and the bundles') pass. */
export async function lockAddRelease(lockPath: string, dir: string, opts: LockAddOptions = {}): Promise<LockAddResult> {
  const source = sourceName(opts.source);
  readLock(lockPath, { create: true }); // a lock that cannot be read fails now, not after the checks
  const exam = await examineRelease(dir, { ...opts, bundles: true });
  const checks = [...exam.report.checks];
  const candidates = exam.assets.map((a) => {
    const artifact = entry(a.name, a.digest, source, a.sums, exam.version, a.arch);
    if (a.binary?.k3s && a.bundle) artifact.k3s = k3sFacts(a.path, a.binary, a.bundle, checks);
    return artifact;
  });
  return commit(lockPath, checks, candidates);
}

/**
 * Lock single files (any file: an installer, a tarball, a binary). With `checksums`, each file
 * must first match that sums file. A K3s binary's embedded version is recorded as its version.
 * Each file is read once: an image archive by the image read that checks it (its sha256 comes
 * from the same read), an ELF binary by the pass that hashes it and checks its bundle, any
 * other file by the hasher.
 */
export async function lockAddFiles(
  lockPath: string,
  files: readonly string[],
  opts: LockAddOptions & { checksums?: string } = {},
): Promise<LockAddResult> {
  const source = sourceName(opts.source);
  const v = opts.expectVersion;
  if (v !== undefined && (v === '' || /[\s\p{Cc}]/u.test(v)))
    throw new InputError('USAGE', v, 'not a version: give it as the release names it, such as v1.31.4+k3s1');
  for (const f of files) requireFile(f);
  readLock(lockPath, { create: true }); // a lock that cannot be read fails now, not after the checks
  const sumsEntries = opts.checksums ? readSums(opts.checksums) : undefined;
  const reads = await readAll(files, opts.hasher ?? new Hasher());
  const checks: VerifyCheck[] = [];
  const sums = opts.checksums ? basename(opts.checksums) : undefined;
  if (sumsEntries && sums) {
    const expected = new Map(sumsEntries.map((e) => [e.name, e.sha256]));
    files.forEach((f, i) => {
      checks.push(checksumCheck(f, (reads[i] as FileRead).digest, expected.get(basename(f)), sums));
    });
  }
  const candidates = files.map((f, i) => {
    const { digest, binary } = reads[i] as FileRead;
    const facts = binary?.facts ?? {};
    const embedded = facts.k3s?.version;
    if (embedded && opts.expectVersion && embedded !== opts.expectVersion)
      checks.push({
        kind: 'version',
        subject: f,
        status: 'mismatch',
        detail: `K3s ${embedded} inside, not the expected version`,
        expected: opts.expectVersion,
        actual: embedded,
        hint: HINTS.versionMismatch,
      });
    const artifact = entry(basename(f), digest, source, sums, embedded ?? opts.expectVersion, facts.arch);
    if (binary && facts.k3s) artifact.k3s = k3sFacts(f, facts, binary.bundle, checks);
    return artifact;
  });
  // An image archive is locked with its images, and only when it passes its own checks.
  reads.forEach(({ image }, i) => {
    if (!image) return;
    checks.push(...image.checks);
    (candidates[i] as LockArtifact).images = policyImages(image.archive).map(lockImage);
  });
  return commit(lockPath, checks, candidates);
}

/** One read of a file: its digest, and what that read checked of it. */
interface FileRead {
  digest: FileDigest;
  binary?: BinaryExamination;
  image?: VerifyImagesResult;
}

async function readAll(files: readonly string[], hasher: Hasher): Promise<FileRead[]> {
  const reads: (FileRead | undefined)[] = new Array(files.length);
  const plain: number[] = [];
  for (const [i, f] of files.entries()) {
    const target = detectTarget(f);
    if (isImageTarget(target)) {
      const image = await verifyImageArchive(f);
      const { digest, whole } = archiveDigest(image, statSync(f).size);
      reads[i] = { digest, image };
      if (!whole)
        image.checks.push({
          kind: 'lock',
          subject: f,
          status: 'mismatch',
          detail: `the image read covered ${digest.size} bytes, not the whole file: it changed while it was being checked`,
          hint: 'make sure nothing writes the file, then run lock add again',
        });
    } else if (target.kind === 'elf') {
      const binary = examineBinary(f);
      reads[i] = { digest: binary.digest, binary };
    } else plain.push(i);
  }
  const digests = await hasher.digestAll(plain.map((i) => ({ path: files[i] as string })));
  plain.forEach((i, n) => {
    reads[i] = { digest: digests[n] as FileDigest };
  });
  return reads as FileRead[];
}

/**
 * The digest the image read computed of the archive, and whether it covers the file as it is
 * now: a read that stopped short of the file's end (the file changed, or holds bytes past the
 * archive) did not check every byte that would be locked.
 */
function archiveDigest(image: VerifyImagesResult, fileSize: number): { digest: FileDigest; whole: boolean } {
  const { sha256 = '', size = 0 } = image.archive;
  return { digest: { sha256, size }, whole: sha256 !== '' && size === fileSize };
}

function lockImage(i: ImageInfo): LockImage {
  const out: LockImage = { digest: (i.manifestDigest ?? i.configDigest) as string };
  if (i.names[0] !== undefined) out.name = i.names[0];
  if (i.platform) out.platform = platformText(i.platform);
  return out;
}

function sourceName(source: string | undefined): string {
  const name = source ?? DEFAULT_SOURCE;
  if (name === '' || name.length > 200 || /[\p{Cc}]/u.test(name))
    throw new InputError('USAGE', name, 'not a source name: use a short label such as github or mirror');
  return name;
}

function entry(
  name: string,
  digest: FileDigest,
  source: string,
  sums: string | undefined,
  version: string | undefined,
  arch: string | undefined,
): LockArtifact {
  const a: LockArtifact = { name, size: digest.size, sha256: digest.sha256, sources: [{ name: source }] };
  if (sums !== undefined) a.sources = [{ name: source, sums }];
  if (version !== undefined) a.version = version;
  if (arch !== undefined) a.arch = arch;
  return a;
}

/**
 * The K3s facts of a binary, with its embedded bundle (found in the pass that hashed it)
 * checked against its name: a bundle altered after the build is refused.
 */
function k3sFacts(path: string, facts: BinaryFacts, scan: BundleSearch, checks: VerifyCheck[]): LockK3s {
  const k3s: LockK3s = {};
  if (facts.k3s?.version) k3s.version = facts.k3s.version;
  if (facts.k3s?.commit) k3s.commit = facts.k3s.commit;
  if (scan.declaredHashes.length === 0) return k3s; // no embedded bundle: recorded without one
  const bundle = scan.bundle;
  if (bundle?.hashMatches) {
    k3s.bundleHash = bundle.declaredHash;
    checks.push({
      kind: 'checksum',
      subject: `${path}!bundle`,
      status: 'ok',
      detail: 'embedded bundle matches its name',
      actual: bundle.sha256,
    });
  } else {
    checks.push({
      kind: 'checksum',
      subject: `${path}!bundle`,
      status: bundle ? 'mismatch' : 'missing',
      detail: bundle ? "embedded bundle's sha256 is not its name" : 'names an embedded bundle but holds none',
      expected: scan.declaredHashes[0],
      ...(bundle ? { actual: bundle.sha256 } : {}),
      hint: HINTS.bundleMismatch,
    });
  }
  return k3s;
}

/**
 * Merge and write, unless a check failed; a conflicting digest throws, leaving the lock as it
 * was. The lock is read again holding its marker (exclusive.ts): what another `lock add` wrote
 * while this one was checking files is merged, never overwritten.
 */
function commit(lockPath: string, checks: VerifyCheck[], candidates: LockArtifact[]): LockAddResult {
  const report = { checks };
  if (!checks.every(passed)) return { report, written: false, artifacts: [] };
  return withLockHeld(lockPath, () => merge(lockPath, readLock(lockPath, { create: true }), report, candidates));
}

function merge(lockPath: string, lock: Lockfile, report: VerifyReport, candidates: LockArtifact[]): LockAddResult {
  const byKey = new Map(lock.artifacts.map((a) => [artifactKey(a), a]));
  const locked = new Set(byKey.keys());
  const touched = new Set<string>();
  for (const c of candidates) {
    const key = artifactKey(c);
    const had = byKey.get(key);
    if (had && had.sha256 !== c.sha256) {
      const theirs = had.sources.map((s) => s.name).join(', ');
      const ours = c.sources.map((s) => s.name).join(', ');
      const where = locked.has(key) ? `the lock has ${had.sha256}` : `another file of this add is ${had.sha256}`;
      throw new InputError(
        'LOCK_CONFLICT',
        lockPath,
        `${describeArtifact(c)}: source ${ours} gives sha256 ${c.sha256} (${c.size} bytes), but ${where} (${had.size} bytes) from ${theirs}: the channels disagree; find out which is genuine before locking (the lock was left unchanged)`,
      );
    }
    const merged = had ? { ...had, sources: unionSources(had.sources, c.sources) } : c;
    if (!had || merged.sources.length !== had.sources.length) touched.add(key);
    byKey.set(key, merged);
  }
  const next: Lockfile = { schema: lock.schema, artifacts: [...byKey.values()] };
  writeLock(lockPath, next);
  return { report, written: true, artifacts: [...touched].map((k) => byKey.get(k) as LockArtifact) };
}

function unionSources(a: LockArtifact['sources'], b: LockArtifact['sources']): LockArtifact['sources'] {
  const out = [...a];
  for (const s of b) if (!out.some((o) => o.name === s.name && o.sums === s.sums)) out.push(s);
  return out;
}
