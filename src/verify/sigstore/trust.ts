// Where Sigstore trust comes from, and the checks of a trusted root that @sigstore/verify
// does not make. Three sources, in order: `--trusted-root FILE`; the public-good root that
// `k3sguard trust update` last fetched over TUF into the trust dir; the root shipped in
// src/verify/sigstore/trust/ (see its README for provenance), which the single executable
// carries as an asset instead of a file.
import type { KeyObject } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PublicKey, TimeRange, TrustedRoot } from '@sigstore/protobuf-specs';
import { TrustedRoot as TrustedRootCodec } from '@sigstore/protobuf-specs';
import { type TrustMaterial, toTrustMaterial } from '@sigstore/verify';
import { parseJsonText } from '../../io/json-text.ts';
import { readOptionText } from '../../io/option-file.ts';
import { IN_SEA, SEA_ASSET, seaAssetText } from '../../io/sea.ts';
import { InputError } from '../../model/errors.ts';

/** The shipped root's file, in a git clone and the npm package (not in the single executable). */
export const SHIPPED_TRUSTED_ROOT: string = fileURLToPath(new URL('./trust/trusted_root.json', import.meta.url));
/** Where the shipped root in use comes from, as reports name it: its file, or the executable. */
export const SHIPPED_TRUSTED_ROOT_NAME: string = IN_SEA
  ? `${process.execPath} (embedded ${SEA_ASSET.trustedRoot})`
  : SHIPPED_TRUSTED_ROOT;
export const TRUSTED_ROOT_FILE = 'trusted_root.json';

export type TrustSource = 'file' | 'cache' | 'shipped';

export interface LoadedTrust {
  source: TrustSource;
  path: string;
  root: TrustedRoot;
  /** Authorities left out of the root because of a defect, one line each. */
  excluded: string[];
  /** Why a cached root was passed over, if it was. */
  warnings: string[];
}

/** The per-user trust dir: $K3SGUARD_TRUST_DIR, else $XDG_CACHE_HOME/k3sguard/trust, else ~/.cache/k3sguard/trust. */
export function defaultTrustDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.K3SGUARD_TRUST_DIR) return env.K3SGUARD_TRUST_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'k3sguard', 'trust');
}

export interface ResolveTrustOptions {
  /** An explicit trusted root (`--trusted-root`): used as is, never replaced. */
  trustedRootPath?: string;
  /** Where `trust update` keeps its root (default: defaultTrustDir()). */
  trustDir?: string;
}

/** The trusted root a verification uses: explicit file, else the updated cache, else shipped. */
export async function resolveTrustedRoot(opts: ResolveTrustOptions = {}): Promise<LoadedTrust> {
  if (opts.trustedRootPath) return loadTrustedRoot(opts.trustedRootPath, 'file');
  const cached = join(opts.trustDir ?? defaultTrustDir(), TRUSTED_ROOT_FILE);
  const warnings: string[] = [];
  try {
    return await loadTrustedRoot(cached, 'cache');
  } catch (e) {
    // A cached root is only ever written after validation, so a bad one means someone else
    // wrote it: say so, and fall back to the shipped root rather than trusting nothing.
    if (!(e instanceof InputError) || e.code !== 'NOT_FOUND') {
      warnings.push(`ignored ${cached}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { ...loadShippedTrustedRoot(), warnings };
}

export async function loadTrustedRoot(path: string, source: TrustSource): Promise<LoadedTrust> {
  // Only an explicit --trusted-root is an option's file; the cached and shipped ones are ours.
  const text = readOptionText(path, 'trusted-root', source === 'file' ? {} : { label: `the ${source} trusted root` });
  return loadedTrust(text, path, source);
}

/** The root shipped with k3sguard: its file, or the single executable's asset. */
function loadShippedTrustedRoot(): LoadedTrust {
  const text = IN_SEA
    ? seaAssetText(SEA_ASSET.trustedRoot)
    : readOptionText(SHIPPED_TRUSTED_ROOT, 'trusted-root', { label: 'the shipped trusted root' });
  return loadedTrust(text, SHIPPED_TRUSTED_ROOT_NAME, 'shipped');
}

function loadedTrust(text: string, path: string, source: TrustSource): LoadedTrust {
  const { root, excluded } = parseTrustedRoot(text, path);
  return { source, path, root, excluded, warnings: [] };
}

/** Parses and checks a trusted root; throws InputError('BAD_JSON' | 'BAD_TRUSTED_ROOT'). */
export function parseTrustedRoot(text: string, label: string): { root: TrustedRoot; excluded: string[] } {
  let json: unknown;
  try {
    json = parseJsonText(text);
  } catch (e) {
    throw new InputError('BAD_JSON', label, `the trusted root is not JSON: ${(e as Error).message}`);
  }
  const mediaType = (json as { mediaType?: unknown } | null)?.mediaType;
  if (typeof mediaType !== 'string' || !/^application\/vnd\.dev\.sigstore\.trustedroot[+.]/.test(mediaType)) {
    throw new InputError('BAD_TRUSTED_ROOT', label, 'not a Sigstore trusted root (mediaType is not trustedroot+json)');
  }
  // The generated decoder turns a field of the wrong type into an empty list: a root that
  // silently trusts nothing would still win over the shipped one as a cached update.
  for (const field of ['tlogs', 'ctlogs', 'certificateAuthorities', 'timestampAuthorities']) {
    const value = (json as Record<string, unknown>)[field];
    if (value !== undefined && !Array.isArray(value)) {
      throw new InputError('BAD_TRUSTED_ROOT', label, `the trusted root cannot be used: ${field} is not a list`);
    }
  }
  let root: TrustedRoot;
  try {
    root = TrustedRootCodec.fromJSON(json);
    const excluded: string[] = [];
    root = sanitize(root, excluded);
    toTrustMaterial(root); // parses every key and certificate: a bad one is caught here, not mid-verify
    return { root, excluded };
  } catch (e) {
    throw new InputError('BAD_TRUSTED_ROOT', label, `the trusted root cannot be used: ${(e as Error).message}`);
  }
}

/**
 * @sigstore/verify treats a validity range without `start` as valid since 1970, but the
 * TrustedRoot spec makes `start` required (sigstore-conformance
 * trust-root-tlog-missing-validity-start_fail): such an authority, or one without a key or
 * certificates, is left out, so whatever only it could vouch for fails verification.
 */
function sanitize(root: TrustedRoot, excluded: string[]): TrustedRoot {
  const logOk = (kind: string) => (log: { baseUrl: string; publicKey: PublicKey | undefined }) => {
    const problem = !log.publicKey?.rawBytes?.length ? 'has no public key' : rangeProblem(log.publicKey.validFor);
    if (problem) excluded.push(`${kind} ${log.baseUrl || '(no baseUrl)'} ${problem}`);
    return !problem;
  };
  const caOk =
    (kind: string) =>
    (ca: TrustedRoot['certificateAuthorities'][number]): boolean => {
      const problem = !ca.certChain?.certificates.length ? 'has no certificates' : rangeProblem(ca.validFor);
      if (problem) excluded.push(`${kind} ${ca.uri || ca.subject?.commonName || '(unnamed)'} ${problem}`);
      return !problem;
    };
  return {
    ...root,
    tlogs: root.tlogs.filter(logOk('transparency log')),
    ctlogs: root.ctlogs.filter(logOk('CT log')),
    certificateAuthorities: root.certificateAuthorities.filter(caOk('certificate authority')),
    timestampAuthorities: root.timestampAuthorities.filter(caOk('timestamp authority')),
  };
}

function rangeProblem(range: TimeRange | undefined): string | undefined {
  if (!range) return undefined; // no range: valid for all time, which the spec allows
  if (!range.start) return 'has a validity range without a start';
  if (range.end && range.end < range.start) return 'has a validity range that ends before it starts';
  return undefined;
}

/**
 * The library's trust material. With a key (`--key`), every bundle hint resolves to that key,
 * valid at any time: the operator named it, so neither the bundle's unauthenticated hint nor a
 * validity window from elsewhere can select another.
 */
export function trustMaterial(trust: LoadedTrust, key?: KeyObject): TrustMaterial {
  if (!key) return toTrustMaterial(trust.root);
  return toTrustMaterial(trust.root, () => ({ publicKey: key, validFor: () => true }));
}

/** One line naming the trust in use, for reports. */
export function describeTrust(trust: LoadedTrust): string {
  const what = { file: 'trusted root', cache: 'updated public-good root', shipped: 'shipped public-good root' }[
    trust.source
  ];
  return `${what} ${trust.path}`;
}
