// The distribution API's authentication: a request without credentials is answered 401 with a
// WWW-Authenticate challenge. `Basic` means: send the username and password with every request.
// `Bearer realm=...,service=...,scope=...` means: ask the token service at `realm` for a token
// for that service and scope (with the username and password, or an identity token as an
// OAuth2 refresh token, or anonymously), then send it as `Authorization: Bearer`. Challenges
// are parsed strictly enough that a quoted comma or an unknown scheme is never misread.
import { InputError } from '../../model/errors.ts';
import type { RegistryAuth } from './config.ts';

export type Challenge =
  | { scheme: 'basic'; realm?: string }
  | { scheme: 'bearer'; realm: string; service?: string; scope?: string };

/** The first challenge of a scheme we speak (bearer preferred), or undefined. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const found: Challenge[] = [];
  // scheme params, scheme params: a scheme is a token followed by a space and key=value pairs.
  const re = /([A-Za-z][\w-]*)\s+((?:[\w-]+=(?:"(?:[^"\\]|\\.)*"|[^\s,"]*)\s*,?\s*)*)/g;
  for (const m of header.matchAll(re)) {
    const scheme = (m[1] ?? '').toLowerCase();
    const params = new Map<string, string>();
    for (const p of (m[2] ?? '').matchAll(/([\w-]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))/g)) {
      params.set((p[1] ?? '').toLowerCase(), p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? ''));
    }
    if (scheme === 'bearer') {
      const realm = params.get('realm');
      if (!realm) continue;
      const c: Challenge = { scheme: 'bearer', realm };
      const service = params.get('service');
      const scope = params.get('scope');
      if (service !== undefined) c.service = service;
      if (scope !== undefined) c.scope = scope;
      found.push(c);
    } else if (scheme === 'basic') {
      const realm = params.get('realm');
      found.push(realm !== undefined ? { scheme: 'basic', realm } : { scheme: 'basic' });
    }
  }
  return found.find((c) => c.scheme === 'bearer') ?? found[0];
}

export function basicHeader(auth: RegistryAuth & { kind: 'basic' }): string {
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

/** The token service's URL and request for a challenge (GET with basic, or POST with a refresh token). */
export function tokenRequest(
  challenge: Challenge & { scheme: 'bearer' },
  scope: string,
  auth: RegistryAuth | undefined,
  registry: string,
): { url: URL; method: 'GET' | 'POST'; headers: Record<string, string>; body?: string } {
  let url: URL;
  try {
    url = new URL(challenge.realm);
  } catch {
    throw new InputError(
      'REGISTRY_PROTOCOL',
      registry,
      `the token realm ${JSON.stringify(challenge.realm.slice(0, 200))} is not a URL`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InputError('REGISTRY_PROTOCOL', registry, `the token realm ${url.protocol} is not http(s)`);
  }
  if (auth?.kind === 'identitytoken') {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: auth.token, client_id: 'k3sguard' });
    if (challenge.service) form.set('service', challenge.service);
    form.set('scope', scope);
    return {
      url,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    };
  }
  if (challenge.service) url.searchParams.set('service', challenge.service);
  url.searchParams.set('scope', scope);
  const headers: Record<string, string> = {};
  if (auth?.kind === 'basic') headers.authorization = basicHeader(auth);
  return { url, method: 'GET', headers };
}

/** The token in a token service's JSON answer (`token`, or OAuth2's `access_token`). */
export function tokenFromAnswer(body: Buffer, registry: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new InputError('REGISTRY_PROTOCOL', registry, 'the token service answered something that is not JSON');
  }
  const o = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  const token = typeof o.token === 'string' && o.token ? o.token : o.access_token;
  if (typeof token !== 'string' || token === '' || /[\r\n]/.test(token)) {
    throw new InputError('REGISTRY_PROTOCOL', registry, 'the token service answered no token');
  }
  return token;
}
