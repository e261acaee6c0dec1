// A read-only client of the OCI distribution API (the registry HTTP API v2): resolve a
// reference to the digest of its manifest, fetch manifests and blobs by digest. Nothing a
// registry says is trusted: a manifest's digest is computed from its bytes (and must equal
// Docker-Content-Digest when the registry sends one, and the digest asked for when one was),
// every body is bounded (model/limits.ts), every call has a deadline. Authentication follows
// the registry's challenge (auth.ts) with the credentials of registries.yaml (config.ts).
import { createHash } from 'node:crypto';
import { parseJsonText } from '../../io/json-text.ts';
import { InputError } from '../../model/errors.ts';
import { LIMITS } from '../../model/limits.ts';
import { type ImageRef, parseImageRef } from '../images/refs.ts';
import { basicHeader, parseChallenge, tokenFromAnswer, tokenRequest } from './auth.ts';
import { EMPTY_REGISTRY_CONFIG, hostConfig, isDockerHub, type RegistryConfig } from './config.ts';
import { type HttpAnswer, HttpTransport, type TlsSettings } from './http.ts';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

/** What we ask for: every manifest kind a signature can name (not Docker's schema 1, which has no stable digest). */
const MANIFEST_ACCEPT = Object.values(MEDIA_TYPES).join(', ');
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const DEFAULT_TIMEOUT_MS = 10_000;
const USER_AGENT = 'k3sguard (registry client)';

export interface RegistryClientOptions {
  /** registries.yaml: credentials and TLS per host. */
  config?: RegistryConfig;
  /** Hosts spoken to over plain http (a registry without TLS, like containerd's `http://` endpoints); all others https. */
  plainHttp?: readonly string[];
  /** Each call's deadline when the caller gives none (default 10 s). */
  timeoutMs?: number;
}

export interface CallOptions {
  /** Absolute time (Date.now() scale) by which the call must be over, retries and auth included. */
  deadline?: number;
}

export interface FetchedManifest {
  /** `sha256:<hex>` of the bytes, checked. */
  digest: string;
  mediaType: string;
  bytes: Buffer;
  /** The parsed manifest. */
  json: Record<string, unknown>;
}

export interface ResolvedReference {
  /** Normalized, as refs.ts spells it: `docker.io/library/debian`. */
  repository: string;
  /** The tag or digest asked for. */
  reference: string;
  digest: string;
  mediaType: string;
}

/** `docker.io/library/debian` -> host `docker.io`, path `library/debian`. */
export function splitRepository(repository: string): { host: string; path: string } {
  const slash = repository.indexOf('/');
  if (slash <= 0) throw new InputError('USAGE', repository, 'not a normalized repository (host/path)');
  return { host: repository.slice(0, slash), path: repository.slice(slash + 1) };
}

/** Where a registry host is served: Docker Hub's names at registry-1.docker.io; https unless `plainHttp`. */
export function registryEndpoint(host: string, plainHttp = false): string {
  return `${plainHttp ? 'http' : 'https'}://${isDockerHub(host) ? 'registry-1.docker.io' : host}`;
}

export class RegistryClient {
  readonly #config: RegistryConfig;
  readonly #plainHttp: ReadonlySet<string>;
  readonly #timeoutMs: number;
  readonly #http = new HttpTransport();
  /** Authorization header per `host\0scope`, learned from challenges, reused until refused. */
  readonly #authorization = new Map<string, string>();

  constructor(opts: RegistryClientOptions = {}) {
    this.#config = opts.config ?? EMPTY_REGISTRY_CONFIG;
    this.#plainHttp = new Set(opts.plainHttp ?? []);
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** The deadline a call gets when its caller gives none: now plus the client's timeout. */
  defaultDeadline(): number {
    return Date.now() + this.#timeoutMs;
  }

  /** Ends kept-alive connections. */
  close(): void {
    this.#http.close();
  }

  /**
   * The digest a reference names. A tag is looked up (GET: a HEAD's digest header could not be
   * checked against the bytes); a digest reference is fetched too, so a digest the registry
   * does not have is REGISTRY_NOT_FOUND here rather than later.
   */
  async resolve(ref: ImageRef | string, opts: CallOptions = {}): Promise<ResolvedReference> {
    const parsed = typeof ref === 'string' ? parseImageRef(ref) : ref;
    if (!parsed) throw new InputError('USAGE', String(ref), 'not an image reference');
    const reference = parsed.digest ?? parsed.tag ?? 'latest';
    const m = await this.manifest(parsed.repository, reference, opts);
    return { repository: parsed.repository, reference, digest: m.digest, mediaType: m.mediaType };
  }

  /** A manifest or index by tag or digest, its digest checked. */
  async manifest(repository: string, reference: string, opts: CallOptions = {}): Promise<FetchedManifest> {
    const byDigest = DIGEST.test(reference);
    const what = `${repository}${byDigest ? '@' : ':'}${reference}`;
    const a = await this.#get(
      repository,
      `manifests/${reference}`,
      MANIFEST_ACCEPT,
      LIMITS.registryManifestBytes,
      what,
      opts,
    );
    const digest = sha256(a.body);
    const announced = header(a, 'docker-content-digest');
    if (byDigest && digest !== reference) {
      throw new InputError('DIGEST_MISMATCH', what, `the manifest sent hashes to ${digest}, not the digest asked for`);
    }
    if (announced !== undefined && announced !== digest) {
      throw new InputError(
        'DIGEST_MISMATCH',
        what,
        `the manifest sent hashes to ${digest}, not ${announced} as Docker-Content-Digest says`,
      );
    }
    let json: unknown;
    try {
      json = parseJsonText(a.body.toString('utf8'));
    } catch (e) {
      throw new InputError('REGISTRY_PROTOCOL', what, `the manifest is not JSON: ${(e as Error).message}`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new InputError('REGISTRY_PROTOCOL', what, 'the manifest is not a JSON object');
    }
    const doc = json as Record<string, unknown>;
    // The body's own mediaType wins (it is what the digest covers); Content-Type is the fallback.
    const mediaType =
      typeof doc.mediaType === 'string'
        ? doc.mediaType
        : ((header(a, 'content-type') ?? '').split(';')[0]?.trim() ?? '');
    if (!(Object.values(MEDIA_TYPES) as string[]).includes(mediaType)) {
      throw new InputError(
        'REGISTRY_PROTOCOL',
        what,
        `not an OCI or Docker v2 manifest (media type ${JSON.stringify(mediaType.slice(0, 100))})`,
      );
    }
    if (doc.schemaVersion !== 2) throw new InputError('REGISTRY_PROTOCOL', what, 'not a schemaVersion 2 manifest');
    return { digest, mediaType, bytes: a.body, json: doc };
  }

  /**
   * The OCI 1.1 referrers of a digest (manifests whose `subject` is it), filtered by
   * `artifactType` here too (a registry may ignore the filter); undefined when the registry has
   * no referrers API (404, as registries before OCI 1.1 answer). The list is not
   * content-addressed: each manifest it names is fetched by digest and checked.
   */
  async referrers(
    repository: string,
    digest: string,
    artifactType: string,
    opts: CallOptions = {},
  ): Promise<Array<{ digest: string; mediaType: string; size: number }> | undefined> {
    const what = `${repository}@${digest} referrers`;
    if (!DIGEST.test(digest)) throw new InputError('REGISTRY_PROTOCOL', what, 'not a sha256 digest');
    const path = `referrers/${digest}?artifactType=${encodeURIComponent(artifactType)}`;
    let a: HttpAnswer;
    try {
      a = await this.#get(repository, path, MEDIA_TYPES.ociIndex, LIMITS.registryManifestBytes, what, opts);
    } catch (e) {
      if (e instanceof InputError && e.code === 'REGISTRY_NOT_FOUND') return undefined;
      throw e;
    }
    let doc: unknown;
    try {
      doc = parseJsonText(a.body.toString('utf8'));
    } catch (e) {
      throw new InputError('REGISTRY_PROTOCOL', what, `the referrers list is not JSON: ${(e as Error).message}`);
    }
    const manifests = (doc as { manifests?: unknown } | null)?.manifests;
    if (!Array.isArray(manifests))
      throw new InputError('REGISTRY_PROTOCOL', what, 'the referrers answer is not an image index');
    const out: Array<{ digest: string; mediaType: string; size: number }> = [];
    for (const m of manifests) {
      const d = m as Record<string, unknown>;
      if (typeof d !== 'object' || d === null || d.artifactType !== artifactType) continue;
      if (typeof d.digest !== 'string' || !DIGEST.test(d.digest) || typeof d.mediaType !== 'string') continue;
      if (!Number.isSafeInteger(d.size)) continue;
      out.push({ digest: d.digest, mediaType: d.mediaType, size: d.size as number });
    }
    return out;
  }

  /** A blob by digest, at most `maxBytes`, its sha256 checked. */
  async blob(repository: string, digest: string, maxBytes: number, opts: CallOptions = {}): Promise<Buffer> {
    const what = `${repository}@${digest}`;
    if (!DIGEST.test(digest)) throw new InputError('REGISTRY_PROTOCOL', what, 'not a sha256 digest');
    const a = await this.#get(repository, `blobs/${digest}`, '*/*', maxBytes, what, opts);
    const got = sha256(a.body);
    if (got !== digest) throw new InputError('DIGEST_MISMATCH', what, `the blob sent hashes to ${got}`);
    return a.body;
  }

  async #get(
    repository: string,
    path: string,
    accept: string,
    maxBytes: number,
    what: string,
    opts: CallOptions,
  ): Promise<HttpAnswer> {
    const { host, path: name } = splitRepository(repository);
    const deadline = opts.deadline ?? Date.now() + this.#timeoutMs;
    const cfg = hostConfig(this.#config, host);
    const tls: TlsSettings = { insecureSkipVerify: cfg.insecureSkipVerify, ...(cfg.ca ? { ca: cfg.ca } : {}) };
    const allowHttp = this.#plainHttp.has(host);
    const url = new URL(`${registryEndpoint(host, allowHttp)}/v2/${name}/${path}`);
    const scope = `repository:${name}:pull`;
    const key = `${host}\0${scope}`;
    const send = (authorization: string | undefined) =>
      this.#http.send(url, {
        method: 'GET',
        headers: { accept, 'user-agent': USER_AGENT, ...(authorization ? { authorization } : {}) },
        maxBytes,
        deadline,
        tls,
        allowHttp,
      });
    const known = this.#authorization.get(key);
    let a = await send(known);
    if (a.status === 401) {
      const challenge = parseChallenge(header(a, 'www-authenticate'));
      if (!challenge)
        throw new InputError(
          'REGISTRY_AUTH',
          what,
          'the registry asks for credentials (401) without a usable challenge',
        );
      let authorization: string;
      if (challenge.scheme === 'basic') {
        if (cfg.auth?.kind !== 'basic') {
          throw new InputError(
            'REGISTRY_AUTH',
            what,
            `the registry asks for a username and password, and registries.yaml has none for ${host}`,
          );
        }
        authorization = basicHeader(cfg.auth);
      } else {
        const t = tokenRequest(challenge, scope, cfg.auth, host);
        // Credentials go to the token service in the clear only if the registry itself is plain http.
        if (t.url.protocol === 'http:' && !allowHttp) {
          throw new InputError('REGISTRY_PROTOCOL', what, `the token realm ${t.url.origin} is not https`);
        }
        const sameHost = t.url.host === url.host;
        const tokenAnswer = await this.#http.send(t.url, {
          method: t.method,
          headers: { ...t.headers, 'user-agent': USER_AGENT },
          ...(t.body !== undefined ? { body: t.body } : {}),
          maxBytes: LIMITS.registryTokenBytes,
          deadline,
          tls: sameHost ? tls : { insecureSkipVerify: false },
          allowHttp: allowHttp && t.url.protocol === 'http:',
        });
        if (tokenAnswer.status === 401 || tokenAnswer.status === 403) {
          throw new InputError(
            'REGISTRY_AUTH',
            what,
            `the token service ${t.url.host} refused the credentials (${tokenAnswer.status})`,
          );
        }
        if (tokenAnswer.status !== 200) {
          throw new InputError(
            'REGISTRY_PROTOCOL',
            what,
            `the token service ${t.url.host} answered ${tokenAnswer.status}`,
          );
        }
        authorization = `Bearer ${tokenFromAnswer(tokenAnswer.body, host)}`;
      }
      a = await send(authorization);
      if (a.status === 200) this.#authorization.set(key, authorization);
      else this.#authorization.delete(key);
    }
    if (a.status === 200) return a;
    const said = errorText(a.body);
    if (a.status === 401 || a.status === 403) {
      throw new InputError(
        'REGISTRY_AUTH',
        what,
        `access refused (${a.status})${said}${cfg.auth ? '' : `; registries.yaml has no credentials for ${host}`}`,
      );
    }
    if (a.status === 404) throw new InputError('REGISTRY_NOT_FOUND', what, `not found (404)${said}`);
    if (a.status === 502 || a.status === 503 || a.status === 504) {
      throw new InputError('REGISTRY_UNREACHABLE', what, `the registry is unavailable (${a.status})${said}`);
    }
    if (a.status >= 300 && a.status < 400)
      throw new InputError('REGISTRY_PROTOCOL', what, `a redirect (${a.status}) without a Location`);
    throw new InputError('REGISTRY_PROTOCOL', what, `unexpected status ${a.status}${said}`);
  }
}

function header(a: HttpAnswer, name: string): string | undefined {
  const v = a.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** The distribution API's error codes from a body (`{"errors":[{"code":...}]}`), shown quoted; nothing else of it. */
function errorText(body: Buffer): string {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: unknown }> };
    const codes = (doc.errors ?? [])
      .map((e) => e.code)
      .filter((c): c is string => typeof c === 'string' && /^[A-Z_]{1,64}$/.test(c))
      .slice(0, 5);
    return codes.length ? `: ${codes.join(', ')}` : '';
  } catch {
    return '';
  }
}
