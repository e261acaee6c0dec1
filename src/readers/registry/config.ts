// Registry credentials and TLS settings from a file shaped like K3s's registries.yaml
// (/etc/rancher/k3s/registries.yaml), so the file the nodes already pull with can be mounted
// as is. Only `configs.<host>` (and K3s's `"*"` default entry) is read: `auth` (username/password, the base64 `auth` pair, or
// an `identitytoken`) and `tls` (ca_file, insecure_skip_verify). `mirrors` (and rewrites) are
// accepted and ignored: images are checked at the registry they name, which is what a
// signature names too. Client certificates (tls.cert_file/key_file) are not supported yet and
// refused rather than silently dropped.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { InputError } from '../../model/errors.ts';
import { LIMITS } from '../../model/limits.ts';

export type RegistryAuth =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'identitytoken'; token: string };

export interface RegistryHostConfig {
  auth?: RegistryAuth;
  /** PEM of the CA(s) the registry's certificate must chain to (tls.ca_file), read at load. */
  ca?: string;
  insecureSkipVerify: boolean;
}

export interface RegistryConfig {
  /** By host as references spell it (`docker.io`, `registry.example:5000`). */
  hosts: Map<string, RegistryHostConfig>;
}

export const EMPTY_REGISTRY_CONFIG: RegistryConfig = { hosts: new Map() };

const AUTH_KEYS = ['username', 'password', 'auth', 'identitytoken'];
const TLS_KEYS = ['ca_file', 'insecure_skip_verify', 'cert_file', 'key_file'];

/** Reads and checks a registries.yaml; the CA files it names are read too. */
export async function loadRegistryConfig(file: string): Promise<RegistryConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError('REGISTRY_CONFIG', file, `cannot read: ${(e as Error).message}`, { cause: e });
  }
  if (text.length > LIMITS.optionFile.policy) throw new InputError('REGISTRY_CONFIG', file, 'file too large');
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new InputError('REGISTRY_CONFIG', file, `not YAML: ${(e as Error).message}`, { cause: e });
  }
  return parseRegistryConfig(doc ?? {}, file);
}

/** The parsed document checked against K3s's shape; `file` names it in errors and anchors relative CA paths. */
export async function parseRegistryConfig(doc: unknown, file: string): Promise<RegistryConfig> {
  const bad = (msg: string): never => {
    throw new InputError('REGISTRY_CONFIG', file, msg);
  };
  const top = object(doc, 'the document', bad);
  for (const k of Object.keys(top)) {
    if (k !== 'configs' && k !== 'mirrors') bad(`unknown key "${k}"; allowed: configs, mirrors`);
  }
  const hosts = new Map<string, RegistryHostConfig>();
  const configs = top.configs === undefined ? {} : object(top.configs, 'configs', bad);
  for (const [host, raw] of Object.entries(configs)) {
    const entry = object(raw, `configs."${host}"`, bad);
    for (const k of Object.keys(entry)) if (k !== 'auth' && k !== 'tls') bad(`unknown key "${k}" in configs."${host}"`);
    const cfg: RegistryHostConfig = { insecureSkipVerify: false };
    if (entry.auth !== undefined) cfg.auth = authOf(object(entry.auth, `configs."${host}".auth`, bad), host, bad);
    if (entry.tls !== undefined) {
      const tls = object(entry.tls, `configs."${host}".tls`, bad);
      for (const k of Object.keys(tls)) if (!TLS_KEYS.includes(k)) bad(`unknown key "${k}" in configs."${host}".tls`);
      if (tls.cert_file !== undefined || tls.key_file !== undefined) {
        bad(`configs."${host}".tls: client certificates (cert_file, key_file) are not supported`);
      }
      if (tls.insecure_skip_verify !== undefined) {
        if (typeof tls.insecure_skip_verify !== 'boolean')
          bad(`configs."${host}".tls.insecure_skip_verify must be true or false`);
        cfg.insecureSkipVerify = tls.insecure_skip_verify as boolean;
      }
      if (tls.ca_file !== undefined) {
        if (typeof tls.ca_file !== 'string' || tls.ca_file === '') bad(`configs."${host}".tls.ca_file must be a path`);
        const path = isAbsolute(tls.ca_file as string)
          ? (tls.ca_file as string)
          : join(dirname(file), tls.ca_file as string);
        try {
          cfg.ca = await readFile(path, 'utf8');
        } catch (e) {
          bad(`configs."${host}".tls.ca_file ${path}: cannot read: ${(e as Error).message}`);
        }
        if (!cfg.ca?.includes('-----BEGIN CERTIFICATE-----'))
          bad(`configs."${host}".tls.ca_file ${path} holds no PEM certificate`);
      }
    }
    hosts.set(host, cfg);
  }
  return { hosts };
}

function authOf(a: Record<string, unknown>, host: string, bad: (m: string) => never): RegistryAuth | undefined {
  for (const k of Object.keys(a)) if (!AUTH_KEYS.includes(k)) bad(`unknown key "${k}" in configs."${host}".auth`);
  for (const k of AUTH_KEYS)
    if (a[k] !== undefined && typeof a[k] !== 'string') bad(`configs."${host}".auth.${k} must be a string`);
  const { username, password, auth, identitytoken } = a as Record<string, string | undefined>;
  if (identitytoken) return { kind: 'identitytoken', token: identitytoken };
  if (auth) {
    // Docker's config.json form: base64 of `user:password`.
    const pair = Buffer.from(auth, 'base64').toString('utf8');
    const colon = pair.indexOf(':');
    if (colon <= 0) bad(`configs."${host}".auth.auth is not base64 of user:password`);
    return { kind: 'basic', username: pair.slice(0, colon), password: pair.slice(colon + 1) };
  }
  if (username !== undefined || password !== undefined) {
    if (!username) bad(`configs."${host}".auth: a password without a username`);
    return { kind: 'basic', username: username as string, password: password ?? '' };
  }
  return undefined;
}

function object(v: unknown, what: string, bad: (m: string) => never): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what} must be a mapping`);
  return v as Record<string, unknown>;
}

/**
 * The settings for a host; Docker Hub's names are one host. K3s's `"*"` entry is the default for
 * hosts that have none of their own.
 */
export function hostConfig(config: RegistryConfig, host: string): RegistryHostConfig {
  const found = config.hosts.get(host) ?? (isDockerHub(host) ? dockerHubConfig(config) : undefined);
  return found ?? config.hosts.get('*') ?? { insecureSkipVerify: false };
}

const DOCKER_HUB_NAMES = ['docker.io', 'registry-1.docker.io', 'index.docker.io'];

export function isDockerHub(host: string): boolean {
  return DOCKER_HUB_NAMES.includes(host);
}

function dockerHubConfig(config: RegistryConfig): RegistryHostConfig | undefined {
  for (const n of DOCKER_HUB_NAMES) {
    const c = config.hosts.get(n);
    if (c) return c;
  }
  return undefined;
}
