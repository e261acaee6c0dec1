// One HTTP exchange with a registry, on node:http/https (fetch cannot take a per-registry CA):
// every request has a deadline covering connect, headers and body; every body a byte bound,
// checked against Content-Length before reading and again as it streams; redirects are followed
// a bounded number of times, only to https (or http when the registry itself is plain http),
// and credentials are never sent to another host than the one they were meant for (blob
// redirects to a storage bucket carry their own signed URL).
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { InputError } from '../../model/errors.ts';
import { LIMITS } from '../../model/limits.ts';

export interface TlsSettings {
  ca?: string;
  insecureSkipVerify: boolean;
}

export interface SendOptions {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** Bytes of body accepted; more is REGISTRY_LIMIT. */
  maxBytes: number;
  /** Absolute time (Date.now() scale) by which the whole exchange must be over. */
  deadline: number;
  /** For the registry's own host; a redirect elsewhere uses the system's trust. */
  tls: TlsSettings;
  /** The registry is plain http: a redirect may stay on http. */
  allowHttp: boolean;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The URL that answered, after redirects. */
  url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
]);

/** Connections kept alive between requests of one client; close() ends them. */
export class HttpTransport {
  readonly #http = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  readonly #https = new HttpsAgent({ keepAlive: true, maxSockets: 16 });

  async send(url: URL, opts: SendOptions): Promise<HttpAnswer> {
    const origin = url.host;
    let current = url;
    for (let hop = 0; ; hop++) {
      const sameHost = current.host === origin;
      const headers = sameHost ? opts.headers : withoutAuthorization(opts.headers);
      const answer = await this.#once(current, {
        ...opts,
        headers,
        tls: sameHost ? opts.tls : { insecureSkipVerify: false },
      });
      const location = answer.headers.location;
      if (!REDIRECTS.has(answer.status) || location === undefined) return answer;
      if (hop >= LIMITS.registryRedirects) {
        throw new InputError(
          'REGISTRY_PROTOCOL',
          origin,
          `more than ${LIMITS.registryRedirects} redirects (from ${url.pathname})`,
        );
      }
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new InputError(
          'REGISTRY_PROTOCOL',
          origin,
          `a redirect to something that is not a URL: ${JSON.stringify(location.slice(0, 200))}`,
        );
      }
      if (next.protocol !== 'https:' && !(next.protocol === 'http:' && opts.allowHttp)) {
        throw new InputError(
          'REGISTRY_PROTOCOL',
          origin,
          `a redirect to ${next.protocol} refused (only https is followed)`,
        );
      }
      current = next;
    }
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }

  #once(url: URL, opts: SendOptions): Promise<HttpAnswer> {
    const host = url.host;
    const remaining = opts.deadline - Date.now();
    if (remaining <= 0) return Promise.reject(timeout(host, url));
    const secure = url.protocol === 'https:';
    const request = secure ? httpsRequest : httpRequest;
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (e: Error | undefined, a?: HttpAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (e) {
          // Whatever was not read is not waited for, and the connection is not reused.
          req.destroy();
          reject(e);
        } else resolve(a as HttpAnswer);
      };
      const req = request(
        url,
        {
          method: opts.method,
          headers: {
            ...opts.headers,
            ...(opts.body !== undefined ? { 'content-length': Buffer.byteLength(opts.body) } : {}),
          },
          agent: secure ? this.#https : this.#http,
          ...(secure ? { ca: opts.tls.ca, rejectUnauthorized: !opts.tls.insecureSkipVerify } : {}),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const declared = Number(res.headers['content-length']);
          // A redirect's or an error's body is only read for what it says: bounded small.
          const wanted = !REDIRECTS.has(status) && status < 400;
          const max = wanted ? opts.maxBytes : Math.min(opts.maxBytes, LIMITS.registryTokenBytes);
          const answer = (body: Buffer): HttpAnswer => ({ status, headers: res.headers, body, url });
          if (wanted && Number.isFinite(declared) && declared > max) {
            finish(tooLarge(host, url, `declares ${declared} bytes`, max));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (settled) return;
            size += c.length;
            if (size <= max) {
              chunks.push(c);
              return;
            }
            if (wanted) finish(tooLarge(host, url, `sends more than ${max} bytes`, max));
            else {
              // Enough of an error page to say what it was; the rest is not read.
              finish(undefined, answer(Buffer.concat(chunks)));
              req.destroy();
            }
          });
          res.on('end', () => finish(undefined, answer(Buffer.concat(chunks))));
          res.on('error', (e) => finish(networkError(host, e)));
          res.on('close', () => {
            if (!res.complete)
              finish(new InputError('REGISTRY_UNREACHABLE', host, `the connection broke during ${url.pathname}`));
          });
        },
      );
      timer = setTimeout(() => finish(timeout(host, url)), remaining);
      req.on('error', (e) => finish(networkError(host, e)));
      req.end(opts.body);
    });
  }
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'authorization') out[k] = v;
  return out;
}

function timeout(host: string, url: URL): InputError {
  return new InputError('REGISTRY_TIMEOUT', host, `no complete answer to ${url.pathname} before the deadline`);
}

function tooLarge(host: string, url: URL, what: string, max: number): InputError {
  return new InputError('REGISTRY_LIMIT', host, `${url.pathname} ${what}, over the limit of ${max}`);
}

function networkError(host: string, e: unknown): InputError {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const why = NETWORK_ERRORS.has(code) ? code : (e as Error).message;
  return new InputError('REGISTRY_UNREACHABLE', host, `cannot reach the registry: ${why}`, { cause: e });
}
