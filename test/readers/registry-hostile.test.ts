// The registry client against a registry that lies or attacks (a small loopback server of our
// own): oversized manifests (declared, and streamed without a length), content that does not
// hash to its digest, redirect loops and downgrades, credentials leaking to another host,
// malformed JSON; and the bearer token flow (docker-registry speaks only basic auth), where a
// token service issues tokens for a challenge's realm, service and scope.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { InputError } from '../../src/model/errors.ts';
import { LIMITS } from '../../src/model/limits.ts';
import { parseImageRef } from '../../src/readers/images/refs.ts';
import { RegistryClient, registryEndpoint, splitRepository } from '../../src/readers/registry/client.ts';
import { parseRegistryConfig } from '../../src/readers/registry/config.ts';
import { makeServingCertificate } from '../fixtures/registry.ts';
import { hasTool } from '../fixtures/tools.ts';
import { type LoopbackServer, startScripted } from './registry-servers.ts';

const OCI = 'application/vnd.oci.image.manifest.v1+json';
const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 2 },
    layers: [],
  }),
);
const digestOf = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const DIGEST = digestOf(MANIFEST);

type Route = (req: IncomingMessage, res: ServerResponse, server: LoopbackServer) => void;

/** A server answering by path; anything else is 404. */
function scripted(routes: Record<string, Route>, tls?: { certFile: string; keyFile: string }) {
  return startScripted((req, res, server) => {
    const path = (req.url ?? '').split('?')[0] as string;
    const route = routes[path];
    if (route) route(req, res, server);
    else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"NAME_UNKNOWN"}]}');
    }
  }, tls);
}

const servers: LoopbackServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function serve(routes: Record<string, Route>, tls?: { certFile: string; keyFile: string }) {
  const s = await scripted(routes, tls);
  servers.push(s);
  return s;
}

async function code(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => assert.fail('expected an error'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof InputError, String(e));
  return e;
}

const manifestRoute =
  (body: Buffer | string, headers: Record<string, string> = {}): Route =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': OCI, ...headers });
    res.end(body);
  };

test('a manifest past the limit is REGISTRY_LIMIT, whether declared or streamed without a length', async () => {
  const big = Buffer.alloc(LIMITS.registryManifestBytes + 1, 0x20);
  const s = await serve({
    '/v2/declared/manifests/1': (_req, res) => {
      res.writeHead(200, { 'content-type': OCI, 'content-length': String(big.length) });
      res.end(big);
    },
    '/v2/streamed/manifests/1': (_req, res) => {
      res.writeHead(200, { 'content-type': OCI }); // chunked: no length to refuse up front
      for (let i = 0; i < big.length; i += 1 << 20) res.write(big.subarray(i, i + (1 << 20)));
      res.end();
    },
  });
  const client = new RegistryClient({ plainHttp: [s.host] });
  try {
    for (const repo of ['declared', 'streamed']) {
      const e = await code(client.resolve(`${s.host}/${repo}:1`));
      assert.equal(e.code, 'REGISTRY_LIMIT', e.message);
      assert.match(e.message, /over the limit of 4194304/);
    }
  } finally {
    client.close();
  }
});

test('a registry that stops in the middle of a body is REGISTRY_TIMEOUT at the deadline, not a hang', async () => {
  const s = await serve({
    '/v2/stall/manifests/1': (_req, res) => {
      res.writeHead(200, { 'content-type': OCI, 'content-length': String(MANIFEST.length) });
      res.write(MANIFEST.subarray(0, 10)); // and nothing more, ever
    },
  });
  const client = new RegistryClient({ plainHttp: [s.host], timeoutMs: 300 });
  try {
    const e = await code(client.resolve(`${s.host}/stall:1`));
    assert.equal(e.code, 'REGISTRY_TIMEOUT', e.message);
  } finally {
    client.close();
  }
});

test('content that is not what its digest says is DIGEST_MISMATCH: by digest, by header, a blob', async () => {
  const other = Buffer.from(MANIFEST.toString().replace('"layers":[]', '"layers": []'));
  const s = await serve({
    '/v2/lies/manifests/header': manifestRoute(MANIFEST, { 'docker-content-digest': digestOf(other) }),
    [`/v2/lies/manifests/${DIGEST}`]: manifestRoute(other),
    [`/v2/lies/blobs/${DIGEST}`]: (_req, res) => {
      res.writeHead(200);
      res.end(other);
    },
    '/v2/honest/manifests/1': manifestRoute(MANIFEST, { 'docker-content-digest': DIGEST }),
  });
  const client = new RegistryClient({ plainHttp: [s.host] });
  try {
    const byHeader = await code(client.resolve(`${s.host}/lies:header`));
    assert.equal(byHeader.code, 'DIGEST_MISMATCH');
    assert.match(byHeader.message, /not sha256:.* as Docker-Content-Digest says/);
    const byDigest = await code(client.resolve(`${s.host}/lies@${DIGEST}`));
    assert.equal(byDigest.code, 'DIGEST_MISMATCH');
    assert.match(byDigest.message, /not the digest asked for/);
    assert.equal((await code(client.blob(`${s.host}/lies`, DIGEST, 1 << 20))).code, 'DIGEST_MISMATCH');
    assert.equal((await client.resolve(`${s.host}/honest:1`)).digest, DIGEST);
  } finally {
    client.close();
  }
});

test('malformed, too deep, or non-v2 manifests are REGISTRY_PROTOCOL; server errors are coded by kind', async () => {
  const schema1 = JSON.stringify({
    schemaVersion: 1,
    mediaType: 'application/vnd.docker.distribution.manifest.v1+json',
  });
  const s = await serve({
    '/v2/bad/manifests/json': manifestRoute('{"schemaVersion": 2, "mediaType": '),
    '/v2/bad/manifests/deep': manifestRoute(`${'['.repeat(LIMITS.jsonDepth + 1)}${']'.repeat(LIMITS.jsonDepth + 1)}`),
    '/v2/bad/manifests/array': manifestRoute('[1]'),
    '/v2/bad/manifests/schema1': manifestRoute(schema1),
    '/v2/bad/manifests/html': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('{"schemaVersion":2}');
    },
    '/v2/bad/manifests/500': (_req, res) => {
      res.writeHead(500);
      res.end('{"errors":[{"code":"UNKNOWN\\n injected"},{"code":"NAME_INVALID"}]}');
    },
    '/v2/bad/manifests/503': (_req, res) => {
      res.writeHead(503);
      res.end();
    },
    '/v2/bad/manifests/huge404': (_req, res) => {
      res.writeHead(404); // an error page far past the bound: cut, not read whole
      for (let i = 0; i < 8; i++) res.write(Buffer.alloc(1 << 20, 0x41));
      res.end();
    },
    '/v2/bad/manifests/cut': (_req, res) => {
      res.writeHead(200, { 'content-type': OCI, 'content-length': '1000' });
      res.write(MANIFEST.subarray(0, 100));
      setImmediate(() => res.socket?.destroy());
    },
  });
  const client = new RegistryClient({ plainHttp: [s.host] });
  try {
    for (const [tag, why] of [
      ['json', /not JSON/],
      ['deep', /not JSON/],
      ['array', /not a JSON object/],
      ['schema1', /not an OCI or Docker v2 manifest/],
      ['html', /media type "text\/html"/],
      ['500', /unexpected status 500: NAME_INVALID$/],
    ] as const) {
      const e = await code(client.resolve(`${s.host}/bad:${tag}`));
      assert.equal(e.code, 'REGISTRY_PROTOCOL', `${tag}: ${e.message}`);
      assert.match(e.message, why);
    }
    assert.equal((await code(client.resolve(`${s.host}/bad:503`))).code, 'REGISTRY_UNREACHABLE');
    assert.equal((await code(client.resolve(`${s.host}/bad:huge404`))).code, 'REGISTRY_NOT_FOUND');
    const cut = await code(client.resolve(`${s.host}/bad:cut`));
    assert.equal(cut.code, 'REGISTRY_UNREACHABLE', cut.message);
  } finally {
    client.close();
  }
});

test('redirects: a loop stops at the bound; ftp: and relative redirects; a redirect elsewhere carries no credentials', async () => {
  const storage = await serve({
    [`/bucket/${DIGEST}`]: (req, res) => {
      res.writeHead(200);
      res.end(req.headers.authorization ? 'leaked' : MANIFEST);
    },
  });
  const s = await serve({
    '/v2/loop/manifests/1': (_req, res) => {
      res.writeHead(307, { location: '/v2/loop/manifests/1' });
      res.end();
    },
    '/v2/ftp/manifests/1': (_req, res) => {
      res.writeHead(302, { location: 'ftp://127.0.0.1/x' });
      res.end();
    },
    '/v2/nolocation/manifests/1': (_req, res) => {
      res.writeHead(302);
      res.end();
    },
    '/v2/moved/manifests/1': (_req, res) => {
      res.writeHead(301, { location: '/v2/honest/manifests/1' });
      res.end();
    },
    '/v2/honest/manifests/1': (req, res) => {
      if (req.headers.authorization !== 'Basic dTpw') {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' });
        res.end();
        return;
      }
      manifestRoute(MANIFEST)(req, res, s);
    },
    [`/v2/honest/blobs/${DIGEST}`]: (req, res) => {
      if (req.headers.authorization !== 'Basic dTpw') {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' });
        res.end();
        return;
      }
      res.writeHead(307, { location: `http://${storage.host}/bucket/${DIGEST}` });
      res.end();
    },
  });
  const config = await parseRegistryConfig(
    { configs: { [s.host]: { auth: { username: 'u', password: 'p' } } } },
    'r.yaml',
  );
  const client = new RegistryClient({ plainHttp: [s.host], config });
  try {
    const before = s.requests.length;
    const loop = await code(client.resolve(`${s.host}/loop:1`));
    assert.equal(loop.code, 'REGISTRY_PROTOCOL');
    assert.match(loop.message, /more than 5 redirects/);
    assert.equal(s.requests.length - before, LIMITS.registryRedirects + 1, 'the bound, no more');
    const ftp = await code(client.resolve(`${s.host}/ftp:1`));
    assert.match(ftp.message, /a redirect to ftp: refused/);
    assert.match(
      (await code(client.resolve(`${s.host}/nolocation:1`))).message,
      /a redirect \(302\) without a Location/,
    );
    assert.equal((await client.resolve(`${s.host}/moved:1`)).digest, DIGEST);
    // The blob is served by "storage" on another port: it gets the request without the registry's credentials.
    assert.deepEqual(await client.blob(`${s.host}/honest`, DIGEST, 1 << 20), MANIFEST);
    assert.equal(storage.requests.length, 1);
  } finally {
    client.close();
  }
});

test('https registry: a redirect down to http is refused, and so is a token realm on http', {
  skip: hasTool('openssl') ? false : 'openssl not installed',
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k3sguard-hostile-'));
  try {
    const tls = makeServingCertificate(dir);
    const s = await serve(
      {
        '/v2/down/manifests/1': (_req, res) => {
          res.writeHead(302, { location: 'http://127.0.0.1:1/v2/down/manifests/1' });
          res.end();
        },
        '/v2/up/manifests/1': manifestRoute(MANIFEST),
        '/v2/plaintoken/manifests/1': (_req, res) => {
          res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/token",service="s"' });
          res.end();
        },
      },
      tls,
    );
    const config = await parseRegistryConfig(
      { configs: { [s.host]: { tls: { ca_file: tls.caFile } } } },
      join(dir, 'r.yaml'),
    );
    const client = new RegistryClient({ config });
    try {
      assert.equal((await client.resolve(`${s.host}/up:1`)).digest, DIGEST);
      const e = await code(client.resolve(`${s.host}/down:1`));
      assert.equal(e.code, 'REGISTRY_PROTOCOL');
      assert.match(e.message, /a redirect to http: refused \(only https is followed\)/);
      // Nor are credentials sent to a token service over http.
      const token = await code(client.resolve(`${s.host}/plaintoken:1`));
      assert.equal(token.code, 'REGISTRY_PROTOCOL');
      assert.match(token.message, /the token realm http:\/\/127\.0\.0\.1:1 is not https/);
    } finally {
      client.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bearer tokens: the challenge realm is asked with the credentials for service and scope; the token is reused', async () => {
  const issued: string[] = [];
  const tokens = await serve({
    '/token': (req, res) => {
      const url = new URL(req.url ?? '', 'http://x');
      const body: Buffer[] = [];
      req.on('data', (c: Buffer) => body.push(c));
      req.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(body).toString());
        const basicOk = req.headers.authorization === `Basic ${Buffer.from('robot:s3cret').toString('base64')}`;
        const refreshOk =
          req.method === 'POST' && form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === 'idtok';
        const scope = url.searchParams.get('scope') ?? form.get('scope');
        const service = url.searchParams.get('service') ?? form.get('service');
        if ((!basicOk && !refreshOk) || service !== 'test-registry' || scope !== 'repository:team/app:pull') {
          res.writeHead(401);
          res.end();
          return;
        }
        issued.push(req.method ?? '');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(refreshOk ? { access_token: 'tok-refresh' } : { token: 'tok-basic' }));
      });
    },
  });
  const s = await serve({
    '/v2/team/app/manifests/1': (req, res) => {
      if (req.headers.authorization !== 'Bearer tok-basic' && req.headers.authorization !== 'Bearer tok-refresh') {
        res.writeHead(401, {
          'www-authenticate': `Bearer realm="http://${tokens.host}/token",service="test-registry",scope="repository:team/app:pull"`,
        });
        res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      manifestRoute(MANIFEST)(req, res, s);
    },
  });
  const ref = `${s.host}/team/app:1`;
  const client = (auth: Record<string, string> | undefined) =>
    parseRegistryConfig(auth ? { configs: { [s.host]: { auth } } } : {}, 'r.yaml').then(
      (config) => new RegistryClient({ plainHttp: [s.host, tokens.host], config }),
    );
  const basic = await client({ username: 'robot', password: 's3cret' });
  const refresh = await client({ identitytoken: 'idtok' });
  const wrong = await client({ username: 'robot', password: 'nope' });
  const anonymous = await client(undefined);
  try {
    assert.equal((await basic.resolve(ref)).digest, DIGEST);
    assert.equal((await basic.resolve(ref)).digest, DIGEST);
    assert.deepEqual(issued, ['GET'], 'one token, reused by the second request');
    assert.equal((await refresh.resolve(ref)).digest, DIGEST);
    assert.deepEqual(issued, ['GET', 'POST']);
    const refused = await code(wrong.resolve(ref));
    assert.equal(refused.code, 'REGISTRY_AUTH');
    assert.match(refused.message, /the token service 127\.0\.0\.1:\d+ refused the credentials \(401\)/);
    assert.equal((await code(anonymous.resolve(ref))).code, 'REGISTRY_AUTH');
  } finally {
    for (const c of [basic, refresh, wrong, anonymous]) c.close();
  }
});

test('Docker Hub names: short names are docker.io/library/..., served at registry-1.docker.io', () => {
  for (const [text, repository] of [
    ['debian:12', 'docker.io/library/debian'],
    ['docker.io/rancher/k3s:v1.31.0-k3s1', 'docker.io/rancher/k3s'],
    [`registry.example:5000/team/app@sha256:${'a'.repeat(64)}`, 'registry.example:5000/team/app'],
  ] as const) {
    assert.equal(parseImageRef(text)?.repository, repository);
  }
  assert.deepEqual(splitRepository('docker.io/library/debian'), { host: 'docker.io', path: 'library/debian' });
  for (const host of ['docker.io', 'index.docker.io', 'registry-1.docker.io']) {
    assert.equal(registryEndpoint(host), 'https://registry-1.docker.io');
  }
  assert.equal(registryEndpoint('127.0.0.1:5000', true), 'http://127.0.0.1:5000');
  assert.equal(registryEndpoint('ghcr.io'), 'https://ghcr.io');
});
