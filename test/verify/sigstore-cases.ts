// The real Sigstore material in ../shared/data/sigstore, as verification cases: the 35
// sigstore-conformance bundle-verify cases (rules in ../shared/data/README.md and
// conformance/SOURCES.md) and the extra bundles with the expectation k3sguard adopts for each
// (docs/signing.md, "Real-world bundles"). Shared by the library tests and the CLI's tests:
// every case carries its artifact, policy, trusted root and expected answer.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SigstorePolicy } from '../../src/verify/sigstore/verify.ts';
import { CACHE_DIR, SHARED_DATA } from '../fixtures/realbins.ts';

export const SIGSTORE_DATA = join(SHARED_DATA, 'sigstore');
export const CONFORMANCE_DIR = join(SIGSTORE_DATA, 'conformance');
export const EXTRA_DIR = join(SIGSTORE_DATA, 'extra');
/** The public-good root the suite fetches over TUF, stored offline (equal to the shipped one). */
export const PRODUCTION_ROOT = join(SIGSTORE_DATA, 'trust', 'production.trusted_root.json');

const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';
const GITHUB_OAUTH = 'https://github.com/login/oauth';

export interface SigstoreCase {
  /** `conformance/<case>` or `extra/<item>[/<variant>]`. */
  name: string;
  bundle: string;
  /** The artifact file, when there is one (some extras only have a digest). */
  artifact?: string;
  /** `sha256:<hex>` of the artifact. */
  digest: string;
  policy: SigstorePolicy;
  trustedRoot: string;
  /** The answer for the file, and for the digest in its place (they differ only for a few extras). */
  expected: { file: 'pass' | 'fail'; digest: 'pass' | 'fail' };
  /** Why the expectation is what it is, for extras. */
  why?: string;
}

/** Why the shared data cannot be used, or undefined when it can. */
export function sigstoreDataMissing(): string | undefined {
  if (!existsSync(join(CONFORMANCE_DIR, 'CASES.tsv')))
    return `no Sigstore test data at ${SIGSTORE_DATA} (../shared absent)`;
  return undefined;
}

export function sha256Ref(path: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
}

/** Every conformance case dir, with the suite's rules applied. */
export function conformanceCases(): SigstoreCase[] {
  return readdirSync(CONFORMANCE_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const dir = join(CONFORMANCE_DIR, name);
      const own = (f: string) => (existsSync(join(dir, f)) ? join(dir, f) : undefined);
      const artifact = own('artifact') ?? join(CONFORMANCE_DIR, 'a.txt');
      const key = own('key.pub');
      const text = (f: string, dflt: string) => (own(f) ? readFileSync(join(dir, f), 'utf8').trim() : dflt);
      const policy: SigstorePolicy = key
        ? { keyPath: key }
        : { identity: text('identity', DEFAULT_IDENTITY), issuer: text('issuer', DEFAULT_ISSUER) };
      const answer = name.endsWith('_fail') ? 'fail' : 'pass';
      return {
        name: `conformance/${name}`,
        bundle: join(dir, 'bundle.sigstore.json'),
        artifact,
        digest: sha256Ref(artifact),
        policy,
        trustedRoot: own('trusted_root.json') ?? PRODUCTION_ROOT,
        expected: { file: answer, digest: answer },
      };
    });
}

/** The expectation column of CASES.tsv, and @sigstore/verify 4.1.3's recorded result. */
export function casesTsv(): Map<string, { expected: string; library: string }> {
  const rows = readFileSync(join(CONFORMANCE_DIR, 'CASES.tsv'), 'utf8').trimEnd().split('\n');
  const header = rows[0]?.split('\t') ?? [];
  const exp = header.indexOf('expected');
  const lib = header.length - 1;
  return new Map(
    rows.slice(1).map((r) => {
      const f = r.split('\t');
      return [f[0] ?? '', { expected: f[exp] ?? '', library: f[lib] ?? '' }];
    }),
  );
}

/** An npm tarball (the real artifact of npm provenance bundles), fetched once into the cache. */
export function npmTarball(spec: string): { path: string } | { skip: string } {
  const dest = join(CACHE_DIR, 'npm', `${spec.replace(/[@/]/g, '_')}.tgz`);
  if (existsSync(dest)) return { path: dest };
  mkdirSync(join(CACHE_DIR, 'npm'), { recursive: true });
  const work = mkdtempSync(join(CACHE_DIR, 'npm', 'fetch-'));
  try {
    execFileSync('npm', ['pack', '--silent', spec], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tgz) return { skip: `npm pack ${spec} produced no tarball` };
    renameSync(join(work, tgz), dest);
    return { path: dest };
  } catch (e) {
    return { skip: `npm pack ${spec} failed (needs the npm registry): ${(e as Error).message.split('\n')[0]}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The extra bundles. `npm` names the npm package whose tarball is the artifact (fetched by
 * the caller with npmTarball); otherwise the artifact is in the item dir or only a digest.
 */
export interface ExtraCase extends Omit<SigstoreCase, 'artifact' | 'digest'> {
  artifact?: string;
  digest?: string;
  npm?: string;
}

export function extraCases(): ExtraCase[] {
  const x = (item: string, f: string) => join(EXTRA_DIR, item, f);
  const bundle = (item: string) => x(item, 'bundle.sigstore.json');
  const both = (a: 'pass' | 'fail') => ({ file: a, digest: a });
  return [
    {
      name: 'extra/sigstore-go_bundle-provenance',
      bundle: bundle('sigstore-go_bundle-provenance'),
      npm: 'sigstore@1.3.0',
      policy: {
        identity: 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
        issuer: DEFAULT_ISSUER,
      },
      trustedRoot: PRODUCTION_ROOT,
      expected: { file: 'pass', digest: 'fail' },
      why: 'npm provenance names its subject by sha512 only: a sha256 digest cannot be matched, the file can',
    },
    {
      name: 'extra/sigstore-go_bundle-publish-keyed',
      bundle: bundle('sigstore-go_bundle-publish-keyed'),
      npm: 'sigstore@1.3.0',
      policy: { keyPath: x('sigstore-go_bundle-publish-keyed', 'key.pub'), requireTlog: true },
      trustedRoot: PRODUCTION_ROOT,
      expected: { file: 'pass', digest: 'fail' },
      why: 'the npm registry key, logged in Rekor (so requireTlog holds); subject by sha512 only',
    },
    {
      name: 'extra/sigstore-go_dsse-2sigs_fail',
      bundle: bundle('sigstore-go_dsse-2sigs_fail'),
      // The subject (slsa-provenance-0.0.7.tgz) is not needed: two signatures fail first.
      artifact: join(CONFORMANCE_DIR, 'a.txt'),
      policy: { identity: 'brian@dehamer.com', issuer: GITHUB_OAUTH },
      trustedRoot: PRODUCTION_ROOT,
      expected: both('fail'),
    },
    {
      name: 'extra/sigstore-go_othername-san',
      bundle: bundle('sigstore-go_othername-san'),
      digest: 'sha256:bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b',
      policy: { identity: 'foo!oidc.local', issuer: 'http://oidc.local:8080' },
      trustedRoot: x('sigstore-go_othername-san', 'trusted_root.json'),
      expected: both('fail'),
      why: 'sigstore-go passes it; @sigstore/verify (and so k3sguard) requires the checkpoint origin to be the log named in the trusted root, and it is not',
    },
    {
      name: 'extra/sigstore-go_public-key-validity-keyed-no-rekor',
      bundle: bundle('sigstore-go_public-key-validity-keyed-no-rekor'),
      artifact: x('sigstore-go_public-key-validity-keyed-no-rekor', 'artifact'),
      policy: { keyPath: x('sigstore-go_public-key-validity-keyed-no-rekor', 'key.pub') },
      trustedRoot: x('sigstore-go_public-key-validity-keyed-no-rekor', 'trusted_root.json'),
      expected: both('pass'),
      why: 'keyed: no log entry required (threshold 0), the RFC 3161 timestamp still verified; a --key has no validity window',
    },
    ...['trusted_root_pgi.json', 'production'].map(
      (root): ExtraCase => ({
        name: `extra/cosign_oci-attestation/${root}`,
        bundle: bundle('cosign_oci-attestation'),
        digest: 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4',
        policy: { identity: 'cody@soyland.com', issuer: GITHUB_OAUTH },
        trustedRoot: root === 'production' ? PRODUCTION_ROOT : x('cosign_oci-attestation', root),
        expected: both('pass'),
        why: 'an OCI image attestation: only the image digest exists',
      }),
    ),
    {
      name: 'extra/sigstore-js_bundleV01-full-cert-chain',
      bundle: bundle('sigstore-js_bundleV01-full-cert-chain'),
      npm: 'sigstore@1.0.0',
      policy: { identity: 'brian@dehamer.com', issuer: GITHUB_OAUTH },
      trustedRoot: PRODUCTION_ROOT,
      expected: { file: 'pass', digest: 'fail' },
      why: 'a root certificate in the chain is ignored, as the bundle spec asks of verifiers; subject by sha512 only',
    },
    ...['own', 'production'].map(
      (root): ExtraCase => ({
        name: `extra/sigstore-js_fixture-v1-keyed-hashedrekord/${root}`,
        bundle: bundle('sigstore-js_fixture-v1-keyed-hashedrekord'),
        artifact: x('sigstore-js_fixture-v1-keyed-hashedrekord', 'artifact'),
        policy: { keyPath: x('sigstore-js_fixture-v1-keyed-hashedrekord', 'key.pub') },
        trustedRoot:
          root === 'own' ? x('sigstore-js_fixture-v1-keyed-hashedrekord', 'trusted_root.json') : PRODUCTION_ROOT,
        expected: both('fail'),
        why:
          root === 'own'
            ? 'sigstore-js passes it, but its own root gives the localhost TSA `validFor: {}` (no start), which k3sguard leaves out as the TrustedRoot spec requires'
            : 'its RFC 3161 timestamp comes from a localhost TSA that the production root does not list',
      }),
    ),
    {
      name: 'extra/sigstore-js_fixture-v3-hashedrekord-v002-rekor2-prod',
      bundle: bundle('sigstore-js_fixture-v3-hashedrekord-v002-rekor2-prod'),
      artifact: x('sigstore-js_fixture-v3-hashedrekord-v002-rekor2-prod', 'artifact'),
      policy: { identity: 'brian@dehamer.com', issuer: GITHUB_OAUTH },
      trustedRoot: PRODUCTION_ROOT,
      expected: both('pass'),
    },
    {
      name: 'extra/sigstore-js_fixture-v3-dsse-v002-rekor2-prod',
      bundle: bundle('sigstore-js_fixture-v3-dsse-v002-rekor2-prod'),
      artifact: x('sigstore-js_fixture-v3-dsse-v002-rekor2-prod', 'payload.txt'),
      policy: { identity: 'brian@dehamer.com', issuer: GITHUB_OAUTH },
      trustedRoot: PRODUCTION_ROOT,
      expected: both('pass'),
      why: 'a text/plain DSSE payload: the artifact is the payload itself',
    },
  ];
}
