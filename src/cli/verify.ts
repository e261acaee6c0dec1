// `k3sguard verify`: every verification the user asked for in one run (a sums file, a release
// dir, the lock file, a Sigstore bundle), one report, one exit code: 0 all verified, 1 any
// check failed, 2 usage or unreadable input. What only some checks need is loaded when asked
// for: verify of one file against its sums starts without the image, lock and release readers.
import { basename } from 'node:path';
import { Hasher } from '../io/hashing.ts';
import { readOptionText } from '../io/option-file.ts';
import { namesImageTarget } from '../io/target.ts';
import { InputError, type InputErrorCode, isInputError } from '../model/errors.ts';
import { verifyJson, verifyTable } from '../report/verify.ts';
import { verifyChecksums } from '../verify/checksums.ts';
import { passed, type VerifyCheck } from '../verify/model.ts';
import type { SigstorePolicy } from '../verify/sigstore/verify.ts';
import { EXIT_CLEAN, EXIT_FINDINGS } from './exit.ts';
import { imageBuildOptions } from './options.ts';
import { planOutput } from './output.ts';
import { terminalProgress } from './progress.ts';
import { warn } from './stderr.ts';
import { colorWanted } from './terminal.ts';

export interface VerifyOptions {
  checksums?: string;
  release?: string;
  expectVersion?: string;
  lock?: string;
  bundle?: string;
  key?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  trustedRoot?: string;
  requireTlog?: boolean;
  json?: boolean;
  output?: string;
  /** Image archives and layouts: a policy file, the images list, the platform. */
  policy?: string;
  imagesList?: string;
  platform?: string;
  maxLayerSize?: number;
  progress?: boolean;
}

function usage(message: string): InputError {
  return new InputError('USAGE', undefined, `${message} (see k3sguard verify --help)`);
}

function sigstorePolicy(opts: VerifyOptions): SigstorePolicy {
  const identity = opts.certificateIdentity ?? opts.certificateIdentityRegexp;
  if (opts.key) {
    if (identity || opts.certificateOidcIssuer) throw usage('give --key or a certificate identity policy, not both');
    return { keyPath: opts.key, requireTlog: opts.requireTlog === true };
  }
  if (opts.certificateIdentity && opts.certificateIdentityRegexp)
    throw usage('give --certificate-identity or --certificate-identity-regexp, not both');
  if (!identity || !opts.certificateOidcIssuer)
    throw usage(
      '--bundle needs --key PUBKEY.pem, or --certificate-identity (or -regexp) with --certificate-oidc-issuer',
    );
  return opts.certificateIdentity
    ? { identity: opts.certificateIdentity, issuer: opts.certificateOidcIssuer }
    : { identityRegexp: identity, issuer: opts.certificateOidcIssuer };
}

/**
 * What the image readers say of a gzip, zstd or tar file that does not read as an image archive:
 * no index.json or manifest.json (an npm package, a source tarball), or damaged on the way.
 */
const NOT_AN_IMAGE: ReadonlySet<InputErrorCode> = new Set(['IMAGE_CORRUPT', 'TAR_CORRUPT', 'ZSTD_CORRUPT']);

/** The named targets that are image archives or OCI layouts (their integrity is always checked). */
function imageTargets(files: string[]): string[] {
  return files.filter((f) => !/^sha256:/.test(f) && namesImageTarget(f));
}

export async function runVerify(files: string[], opts: VerifyOptions): Promise<number> {
  const images = imageTargets(files);
  if ((opts.policy || opts.imagesList) && images.length === 0)
    throw usage('--policy and --images-list check image archives or OCI layouts: name one');
  if (
    !opts.checksums &&
    !opts.release &&
    !opts.lock &&
    !opts.bundle &&
    (images.length === 0 || images.length < files.length)
  )
    throw usage(
      'say what to verify against: --checksums SUMS, --release DIR, --lock FILE or --bundle B (image archives need none)',
    );
  if (opts.release && files.length > 0) throw usage('give files or --release DIR, not both');
  if (!opts.release && files.length === 0) throw usage('name the files to verify, or --release DIR');
  if (opts.expectVersion && !opts.release) throw usage('--expect-version goes with --release');
  if (opts.checksums && opts.release)
    throw usage('a release dir is checked against its own sha256sum-*.txt: drop --checksums');
  if (opts.bundle && files.length !== 1) throw usage('--bundle verifies one artifact: a file or sha256:<hex>');

  const hasher = new Hasher();
  const checks: VerifyCheck[] = [];
  const warnings: string[] = [];
  const onDisk = files.filter((f) => !/^sha256:/.test(f));
  const output = planOutput(opts.output, [
    ...onDisk,
    opts.release,
    opts.checksums,
    opts.lock,
    opts.bundle,
    opts.key,
    opts.trustedRoot,
    opts.policy,
    opts.imagesList,
  ]);
  if (opts.checksums) checks.push(...(await verifyChecksums(onDisk, opts.checksums, { hasher })).checks);
  if (opts.release) {
    const { verifyRelease } = await import('../verify/release.ts');
    const release = await verifyRelease(opts.release, {
      hasher,
      ...(opts.expectVersion ? { expectVersion: opts.expectVersion } : {}),
    });
    checks.push(...release.checks);
  }
  if (opts.lock) {
    const { verifyAgainstLock } = await import('../verify/lock/verify.ts');
    const target = opts.release ? { release: opts.release } : onDisk;
    checks.push(...(await verifyAgainstLock(opts.lock, target, { hasher })).checks);
  }
  if (images.length > 0) {
    const { verifyImageArchive } = await import('../verify/images.ts');
    const { parseImagePolicy } = await import('../policy/image-policy.ts');
    const policy = opts.policy
      ? { file: opts.policy, policy: parseImagePolicy(opts.policy, readOptionText(opts.policy, 'policy')) }
      : undefined;
    const list = imageBuildOptions(opts);
    const progress = terminalProgress(opts.progress !== false);
    // Beside a check the user asked for (sums, lock, bundle), an archive's image integrity is
    // a bonus: a file that is no image archive at all, or one damaged so its tar cannot be
    // read, is judged by that check (a damaged copy fails it, exit 1), with a warning, instead
    // of the whole run ending as unreadable input (exit 2) with the asked-for verdict unsaid.
    const asked = Boolean(opts.checksums || opts.lock || opts.bundle);
    for (const target of images) {
      const name = basename(target);
      let r: Awaited<ReturnType<typeof verifyImageArchive>>;
      try {
        r = await verifyImageArchive(target, {
          onProgress: (read, total) =>
            progress.update(`reading ${name}: ${Math.min(99, Math.floor((100 * read) / total))}%`),
          ...list,
          ...(policy ? { policy } : {}),
          ...(opts.trustedRoot ? { trustedRootPath: opts.trustedRoot } : {}),
        });
      } catch (e) {
        if (!asked || opts.policy || opts.imagesList || !isInputError(e) || !NOT_AN_IMAGE.has(e.code)) throw e;
        warnings.push(`${target}: not checked as an image archive (${e.message})`);
        continue;
      }
      checks.push(...r.checks);
      warnings.push(...r.warnings);
    }
    progress.done();
  }
  if (opts.bundle) {
    const { verifySigstore } = await import('../verify/sigstore/verify.ts');
    const report = await verifySigstore({
      artifact: files[0] as string,
      bundlePath: opts.bundle,
      policy: sigstorePolicy(opts),
      ...(opts.trustedRoot ? { trustedRootPath: opts.trustedRoot } : {}),
    });
    checks.push(...report.checks);
    warnings.push(...report.trust.warnings);
  }
  for (const w of warnings) warn(w);
  const color = !opts.json && colorWanted(opts.output);
  output.write(opts.json ? verifyJson({ checks }) : verifyTable({ checks }, color));
  return checks.every(passed) ? EXIT_CLEAN : EXIT_FINDINGS;
}
