// The image policy file: which registries and repositories K3s may pull from, whether
// references must pin a digest, and (parsed and validated now, enforced later) which
// signature an image must carry. Parsing is strict: a misspelt key would otherwise
// silently switch a protection off, so every unknown key or wrong type is an error that
// names file:line:col and says what to write instead.
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import { InputError, type InputErrorCode } from '../model/errors.ts';
import { compileRepositoryGlob, type RepositoryGlob } from './glob.ts';

export const POLICY_API_VERSION = 'k3sguard.dev/v1';
export const POLICY_KIND = 'ImagePolicy';

export type SignatureRequirement =
  | { kind: 'key'; key: string }
  | { kind: 'keyless'; issuer: string; identity: { exact: string } | { regexp: string } };

export interface ImagePolicy {
  /** The policy's path as the user named it, for findings. */
  file: string;
  /** Hosts (with port when not the default), compared after Docker Hub normalization. */
  allowedRegistries?: string[];
  allowedRepositories?: RepositoryGlob[];
  requireDigest: boolean;
  requireSignature?: SignatureRequirement;
  /**
   * A k3sguard.lock: every image's digest must be one of its reviewed images. As written; a
   * relative path is relative to the policy file's directory (lockedImagesPath resolves it).
   */
  requireLocked?: string;
}

const REGISTRY = /^[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[0-9]+)?$/;

/** Strict reading of a k3sguard YAML file (the policy, the agent's config): every error names file:line:col. */
export class PolicyReader {
  readonly file: string;
  private readonly lines: LineCounter;
  private readonly code: InputErrorCode;

  constructor(file: string, lines: LineCounter, code: InputErrorCode = 'POLICY_INVALID') {
    this.file = file;
    this.lines = lines;
    this.code = code;
  }

  fail(node: Node | null | undefined, message: string): never {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(offset);
    throw new InputError(this.code, this.file, `${this.file}:${line}:${col}: ${message}`);
  }

  /** The map's entries by key; any key not in `allowed` is an error. */
  map(node: unknown, what: string, allowed: readonly string[]): Map<string, Node> {
    if (!isMap(node)) this.fail(node as Node, `${what} must be a mapping (key: value)`);
    const entries = new Map<string, Node>();
    for (const pair of (node as YAMLMap).items) {
      const key = pair.key as Node;
      if (!isScalar(key) || typeof key.value !== 'string') this.fail(key, `${what} keys must be strings`);
      const name = key.value as string;
      if (!allowed.includes(name)) {
        this.fail(key, `unknown key "${name}" in ${what}; allowed: ${allowed.join(', ')}`);
      }
      if (entries.has(name)) this.fail(key, `duplicate key "${name}" in ${what}`);
      entries.set(name, pair.value as Node);
    }
    return entries;
  }

  string(node: Node | undefined, what: string): string {
    if (!isScalar(node) || typeof node.value !== 'string' || node.value === '') {
      this.fail(node, `${what} must be a non-empty string`);
    }
    return node.value as string;
  }

  boolean(node: Node | undefined, what: string): boolean {
    if (!isScalar(node) || typeof node.value !== 'boolean') this.fail(node, `${what} must be true or false`);
    return node.value as boolean;
  }

  strings(node: Node | undefined, what: string): Array<{ value: string; node: Node }> {
    if (!isSeq(node)) this.fail(node, `${what} must be a list, e.g. [docker.io, ghcr.io]`);
    return node.items.map((item) => ({
      value: this.string(item as Node, `each entry of ${what}`),
      node: item as Node,
    }));
  }
}

/** Parse a policy's text; `file` names it in errors and findings. */
export function parseImagePolicy(file: string, text: string): ImagePolicy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const r = new PolicyReader(file, lines);
  const yamlError = doc.errors[0];
  if (yamlError) {
    // yamlError.linePos is filled only with prettyErrors, which also rewrites the message.
    const { line, col } = lines.linePos(yamlError.pos[0]);
    const where = `${file}:${line}:${col}`;
    throw new InputError('POLICY_INVALID', file, `${where}: not valid YAML: ${yamlError.message.split('\n')[0]}`);
  }
  if (doc.contents === null) r.fail(null, `empty policy; start with "apiVersion: ${POLICY_API_VERSION}"`);
  // `audit:` (waivers of audit findings) is read by src/audit/waivers.ts from the same text.
  const top = r.map(doc.contents, 'the policy', ['apiVersion', 'kind', 'images', 'audit']);
  const apiVersion = top.get('apiVersion');
  if (apiVersion === undefined) r.fail(doc.contents, `missing "apiVersion: ${POLICY_API_VERSION}"`);
  if (r.string(apiVersion, 'apiVersion') !== POLICY_API_VERSION) {
    r.fail(apiVersion, `unsupported apiVersion; this k3sguard reads "${POLICY_API_VERSION}"`);
  }
  const kind = top.get('kind');
  if (kind === undefined) r.fail(doc.contents, `missing "kind: ${POLICY_KIND}"`);
  if (r.string(kind, 'kind') !== POLICY_KIND) r.fail(kind, `kind must be "${POLICY_KIND}"`);
  const imagesNode = top.get('images');
  if (imagesNode === undefined) r.fail(doc.contents, 'missing "images:" section');
  const images = r.map(imagesNode, 'images', [
    'allowedRegistries',
    'allowedRepositories',
    'requireDigest',
    'requireSignature',
    'requireLocked',
  ]);

  const policy: ImagePolicy = { file, requireDigest: false };
  const registries = images.get('allowedRegistries');
  if (registries !== undefined) {
    policy.allowedRegistries = r.strings(registries, 'allowedRegistries').map(({ value, node }) => {
      const host = value === 'index.docker.io' || value === 'registry-1.docker.io' ? 'docker.io' : value;
      if (!REGISTRY.test(host)) {
        r.fail(node, `"${value}" is not a registry host; write a host like docker.io or registry.example.com:5000`);
      }
      return host;
    });
  }
  const repositories = images.get('allowedRepositories');
  if (repositories !== undefined) {
    policy.allowedRepositories = r.strings(repositories, 'allowedRepositories').map(({ value, node }) => {
      const glob = compileRepositoryGlob(value);
      if ('error' in glob) return r.fail(node, glob.error);
      return glob;
    });
  }
  const requireDigest = images.get('requireDigest');
  if (requireDigest !== undefined) policy.requireDigest = r.boolean(requireDigest, 'requireDigest');
  const signature = images.get('requireSignature');
  if (signature !== undefined) policy.requireSignature = readSignature(r, signature);
  const locked = images.get('requireLocked');
  if (locked !== undefined) policy.requireLocked = r.string(locked, 'requireLocked (the k3sguard.lock file)');
  return policy;
}

function readSignature(r: PolicyReader, node: Node): SignatureRequirement {
  const entries = r.map(node, 'requireSignature', ['key', 'keyless']);
  const key = entries.get('key');
  const keyless = entries.get('keyless');
  if ((key === undefined) === (keyless === undefined)) {
    r.fail(node, 'requireSignature takes exactly one of "key: <public key file>" or "keyless: {issuer, identity}"');
  }
  if (key !== undefined) return { kind: 'key', key: r.string(key, 'requireSignature.key') };
  const k = r.map(keyless, 'requireSignature.keyless', ['issuer', 'identity', 'identityRegexp']);
  const issuerNode = k.get('issuer');
  if (issuerNode === undefined)
    r.fail(keyless, 'keyless needs "issuer:", e.g. https://token.actions.githubusercontent.com');
  const issuer = r.string(issuerNode, 'keyless.issuer');
  const exact = k.get('identity');
  const pattern = k.get('identityRegexp');
  if ((exact === undefined) === (pattern === undefined)) {
    r.fail(keyless, 'keyless takes exactly one of "identity:" (the exact certificate identity) or "identityRegexp:"');
  }
  if (exact !== undefined) return { kind: 'keyless', issuer, identity: { exact: r.string(exact, 'keyless.identity') } };
  const regexp = r.string(pattern, 'keyless.identityRegexp');
  try {
    new RegExp(regexp, 'u');
  } catch (e) {
    r.fail(pattern, `identityRegexp is not a valid regular expression: ${(e as Error).message}`);
  }
  return { kind: 'keyless', issuer, identity: { regexp } };
}
