// The image `npm run build:image` makes, as a user gets it: built twice from this commit with one
// SOURCE_DATE_EPOCH into two temp dirs (the same digest and the same archive bytes), its layer
// read back (the executable, every library the loader opens for it, CA certificates, a non-root
// user, no shell), its SBOM checked against the CycloneDX 1.6 schema and against what k3sguard's
// own image reader finds, k3sguard's `inspect` and `verify` run on the archive and the layout,
// and the archive imported into a real containerd that runs the image with `ctr run`.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createGunzip } from 'node:zlib';
import { type TarEvent, TarReader } from '../../src/io/tar.ts';
import { k3sguard } from '../cli/run.ts';
import { realBinary } from '../fixtures/realbins.ts';
import { hasTool } from '../fixtures/tools.ts';
import { withContainerd } from '../images/containerd.ts';
import { validateCycloneDx } from '../report/schemas.ts';
import { httpsTestServer } from './https-test-server.ts';
import { ROOT, type SeaExecutable, seaExecutable } from './sea-executable.ts';

const BUILD = join(ROOT, 'tools', 'image', 'build.ts');
const EPOCH = 1_700_000_000;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const REF = `docker.io/library/k3sguard:${VERSION}`;
const GO_BINARY = 'lefthook-2.2.2';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const MiB = 1024 * 1024;

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

interface Built {
  dir: string;
  layout: string;
  archive: string;
  sbom: string;
  manifestDigest: string;
  manifest: { layers: Array<{ digest: string; size: number }> };
  config: {
    config: { User: string; Env: string[]; Entrypoint: string[]; WorkingDir: string; Labels: Record<string, string> };
  };
}

function build(exe: string, dir: string): Built {
  execFileSync(process.execPath, [BUILD, '--executable', exe, '--out-dir', dir], {
    env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const layout = join(dir, 'image');
  const blob = (digest: string) => json(join(layout, 'blobs', 'sha256', digest.slice(7)));
  const index = json(join(layout, 'index.json'));
  const manifestDigest = index.manifests[0].digest as string;
  const manifest = blob(manifestDigest);
  return {
    dir,
    layout,
    archive: join(dir, 'k3sguard-image.tar'),
    sbom: join(dir, 'k3sguard-image.cdx.json'),
    manifestDigest,
    manifest,
    config: blob(manifest.config.digest),
  };
}

interface LayerEntry {
  type: string;
  mode: number;
  size: number;
  linkname: string;
  /** Contents of the small files (config files, the dpkg records). */
  text?: string;
}

/** The layer's entries by absolute path, read with k3sguard's own tar reader. */
async function readLayer(path: string): Promise<Map<string, LayerEntry>> {
  const entries = new Map<string, LayerEntry>();
  const reader = new TarReader(path);
  let current: { entry: LayerEntry; parts: Buffer[] } | undefined;
  const handle = (events: Iterable<TarEvent>) => {
    for (const ev of events) {
      if (ev.type === 'entry') {
        const { name, type, mode, size, linkname } = ev.entry;
        current = { entry: { type, mode, size, linkname }, parts: [] };
        entries.set(`/${name.replace(/\/$/, '')}`, current.entry);
      } else if (ev.type === 'data' && current && current.entry.size < 1 << 20) {
        current.parts.push(Buffer.from(ev.data));
      } else if (ev.type === 'end-entry' && current?.entry.type === 'file' && current.entry.size < 1 << 20) {
        current.entry.text = Buffer.concat(current.parts).toString('utf8');
      }
    }
  };
  for await (const chunk of createReadStream(path).pipe(createGunzip())) handle(reader.feed(chunk as Buffer));
  reader.finish();
  return entries;
}

/** Where `path` leads inside the image, following its symlinks there (absolute ones from the image's root). */
function resolveInImage(entries: Map<string, LayerEntry>, path: string): string | undefined {
  let pending = path.split('/').filter(Boolean);
  let at = '/';
  for (let hops = 0; pending.length > 0 && hops < 40; ) {
    const [head, ...rest] = pending as [string, ...string[]];
    const next = posix.join(at, head);
    const e = entries.get(next);
    if (!e) return undefined;
    if (e.type === 'symlink') {
      hops++;
      pending = [...posix.resolve(at, e.linkname).split('/').filter(Boolean), ...rest];
      at = '/';
      continue;
    }
    at = next;
    pending = rest;
  }
  return pending.length === 0 ? at : undefined;
}

function ldd(exe: string): string[] {
  return execFileSync('ldd', [exe], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /(\/\S+) \(0x/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
}

describe('the image (npm run build:image)', () => {
  let work = '';
  let exe: SeaExecutable;
  let first: Built;
  let second: Built;
  let layer: Map<string, LayerEntry>;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'k3sguard-image-'));
    exe = seaExecutable(join(work, 'sea'));
    const started = Date.now();
    first = build(exe.path, join(work, 'a'));
    const seconds = (Date.now() - started) / 1000;
    second = build(exe.path, join(work, 'b'));
    const layerBlob = join(first.layout, 'blobs', 'sha256', (first.manifest.layers[0]?.digest ?? '').slice(7));
    layer = await readLayer(layerBlob);
    console.log(
      `image: ${REF} ${first.manifestDigest}, archive ${(statSync(first.archive).size / MiB).toFixed(1)} MiB, built in ${seconds.toFixed(1)} s`,
    );
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('two builds of one commit give the same digest and the same bytes', () => {
    assert.equal(second.manifestDigest, first.manifestDigest);
    assert.equal(sha256(second.archive), sha256(first.archive));
    assert.equal(readFileSync(second.sbom, 'utf8'), readFileSync(first.sbom, 'utf8'));
    assert.equal(first.manifest.layers.length, 1);
  });

  test('the config: the non-root user, the executable as entrypoint, the build in its labels', () => {
    const c = first.config.config;
    assert.equal(c.User, '65532:65532');
    assert.deepEqual(c.Entrypoint, ['/usr/local/bin/k3sguard']);
    assert.equal(c.WorkingDir, '/home/nonroot');
    assert.ok(c.Env.includes('NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt'), c.Env.join(' '));
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    assert.equal(c.Labels['org.opencontainers.image.version'], VERSION);
    assert.equal(c.Labels['org.opencontainers.image.revision'], head);
    assert.equal(
      c.Labels['org.opencontainers.image.created'],
      new Date(EPOCH * 1000).toISOString().replace('.000Z', 'Z'),
    );
    const index = json(join(first.layout, 'index.json'));
    assert.equal(index.manifests[0].annotations['io.containerd.image.name'], REF);
    assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], VERSION);
  });

  test('the layer: the executable and every library its loader opens, and no shell', () => {
    const k3sguardEntry = layer.get('/usr/local/bin/k3sguard');
    assert.equal(k3sguardEntry?.type, 'file');
    assert.equal(k3sguardEntry.mode, 0o755);
    assert.equal(k3sguardEntry.size, statSync(exe.path).size);
    const libs = ldd(exe.path);
    assert.ok(
      libs.some((l) => l.includes('ld-linux')),
      'the interpreter is among them',
    );
    const libFiles = new Set<string>();
    for (const lib of libs) {
      const at = resolveInImage(layer, lib);
      assert.ok(at && layer.get(at)?.type === 'file', `${lib} resolves to a file in the image`);
      libFiles.add(at);
    }
    for (const shell of ['/bin/sh', '/usr/bin/sh', '/bin/bash', '/bin/busybox'])
      assert.equal(resolveInImage(layer, shell), undefined, shell);
    // Nothing else could be run: the executable files are k3sguard and the libraries.
    const executables = [...layer].filter(([, e]) => e.type === 'file' && e.mode & 0o111).map(([p]) => p);
    assert.deepEqual(
      executables.filter((p) => p !== '/usr/local/bin/k3sguard' && !libFiles.has(p)),
      [],
    );
  });

  test('the layer: a non-root user, /tmp, CA certificates and a dpkg record of each package', () => {
    assert.match(layer.get('/etc/passwd')?.text ?? '', /^nonroot:x:65532:65532:[^:]*:\/home\/nonroot:/m);
    assert.match(layer.get('/etc/group')?.text ?? '', /^nonroot:x:65532:$/m);
    assert.equal(layer.get('/tmp')?.mode, 0o1777);
    const listing = execFileSync(
      'tar',
      [
        '--numeric-owner',
        '-tvzf',
        join(first.layout, 'blobs', 'sha256', (first.manifest.layers[0]?.digest ?? '').slice(7)),
      ],
      {
        encoding: 'utf8',
        maxBuffer: 16 * MiB,
      },
    );
    assert.match(listing, /^d\S+ 65532\/65532 .* home\/nonroot\/$/m);
    const certs = layer.get('/etc/ssl/certs/ca-certificates.crt');
    assert.equal(certs?.type, 'file');
    const count = (certs.text ?? '').split('-----BEGIN CERTIFICATE-----').length - 1;
    const shipped = execFileSync('dpkg-query', ['-L', 'ca-certificates'], { encoding: 'utf8' })
      .split('\n')
      .filter((p) => p.startsWith('/usr/share/ca-certificates/') && p.endsWith('.crt')).length;
    assert.equal(count, shipped, "Debian's certificates, and no local one of the build host");
    const records = [...layer.keys()].filter((p) => p.startsWith('/var/lib/dpkg/status.d/'));
    for (const pkg of ['libc6', 'libstdc++6', 'libgcc-s1', 'ca-certificates', 'base-files'])
      assert.ok(records.includes(`/var/lib/dpkg/status.d/${pkg}`), pkg);
    for (const r of records) {
      assert.match(layer.get(r)?.text ?? '', new RegExp(`^Package: ${posix.basename(r).replace(/\+/g, '\\+')}$`, 'm'));
      assert.doesNotMatch(layer.get(r)?.text ?? '', /^Status:/m, 'no field of the build host');
    }
  });

  test('k3sguard verify and inspect read the archive and the layout; the SBOM names what inspect finds', () => {
    for (const target of [first.archive, first.layout]) {
      const v = k3sguard(['verify', '--no-progress', target]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      const r = k3sguard(['inspect', '--json', '--no-progress', target]);
      assert.equal(r.code, 0, r.stderr);
      const inv = JSON.parse(r.stdout);
      assert.deepEqual(inv.findings, []);
      const image = inv.root.children[0];
      assert.deepEqual(image.names, [REF]);
      const purls = image.children
        .filter((c: { type: string }) => c.type === 'os-package')
        .map((c: { purl: string }) => c.purl);
      const sbom = json(first.sbom);
      const debs = sbom.components
        .filter((c: { purl?: string }) => c.purl?.startsWith('pkg:deb/'))
        .map((c: { purl: string }) => c.purl);
      assert.deepEqual([...purls].sort(), [...debs].sort());
    }
  });

  test('the SBOM: valid CycloneDX 1.6, the image by digest, the executable by sha256', () => {
    const text = readFileSync(first.sbom, 'utf8');
    assert.deepEqual(validateCycloneDx(text), []);
    const sbom = JSON.parse(text);
    assert.equal(sbom.metadata.component.type, 'container');
    assert.equal(sbom.metadata.component.hashes[0].content, first.manifestDigest.slice(7));
    const executable = sbom.components.find((c: { type: string }) => c.type === 'application');
    assert.equal(executable.hashes.find((h: { alg: string }) => h.alg === 'SHA-256').content, sha256(exe.path));
  });

  test('containerd imports it as docker.io/library/k3sguard:<version> and runs it as the non-root user, trusting the CA bundle its config names', async (t) => {
    if (!hasTool('runc')) return t.skip('runc not installed (apt-get install -y runc)');
    if (!hasTool('openssl')) return t.skip('openssl not installed (apt-get install -y openssl)');
    const go = realBinary(GO_BINARY);
    if ('skip' in go) return t.skip(go.skip);
    const out = mkdtempSync(join(work, 'out-'));
    chmodSync(out, 0o777); // the container's user writes its result here
    const cli = ['/usr/local/bin/k3sguard'];
    const server = await httpsTestServer(mkdtempSync(join(work, 'tls-')));
    t.after(() => server.close());
    const r = await withContainerd(async ({ ctr, address, namespace }) => {
      ctr('images', 'import', first.archive);
      assert.match(ctr('images', 'ls', '-q'), new RegExp(`^${REF.replace(/\./g, '\\.')}$`, 'm'));
      const run = (id: string, flags: string[], args: string[]) => ctrRun(address, namespace, id, flags, args);

      const version = await run('k3sguard-version', [], ['/usr/local/bin/k3sguard', '--version']);
      assert.equal(version.code, 0, version.stderr);
      assert.equal(version.stdout.trim(), exe.version);

      const inspect = await run(
        'k3sguard-inspect',
        [mount(go.path, '/work/lefthook'), mount(out, '/out', 'rw')],
        [...cli, 'inspect', '--json', '--no-progress', '-o', '/out/inspect.json', '/work/lefthook'],
      );
      assert.equal(inspect.code, 0, inspect.stderr);

      // TLS from inside the image, on the host's loopback: the test server's certificate is in no
      // bundle, so the handshake fails; with it mounted over the bundle's path, the one the
      // config's NODE_EXTRA_CA_CERTS names, it succeeds and the server's 404 comes back.
      const dbUpdate = (id: string, flags: string[]) =>
        run(
          id,
          ['--net-host', ...flags],
          [...cli, 'db', 'update', '--no-progress', '--db', '/tmp/vulndb.sqlite', '--source', `${server.url}/all.zip`],
        );
      const untrusted = await dbUpdate('k3sguard-tls-debian', []);
      assert.match(untrusted.stderr, /self-signed certificate/, untrusted.stderr);
      const trusted = await dbUpdate('k3sguard-tls-bundle', [mount(server.certFile, CA_BUNDLE)]);
      assert.match(trusted.stderr, /HTTP 404/, trusted.stderr);
      return { ran: true } as const;
    });
    if ('skip' in r) return t.skip(r.skip);
    const written = join(out, 'inspect.json');
    assert.equal(statSync(written).uid, 65532, 'written by the non-root user');
    const inContainer = json(written).root;
    const onHost = JSON.parse(k3sguard(['inspect', '--json', '--no-progress', go.path]).stdout).root;
    assert.equal(inContainer.sha256, onHost.sha256);
    assert.deepEqual(
      inContainer.children.map((c: { purl?: string }) => c.purl),
      onHost.children.map((c: { purl?: string }) => c.purl),
    );
    assert.ok(inContainer.children.length > 10, 'the Go modules were read');
  });
});

/**
 * `ctr run --rm` of the image, without blocking this process (the test's HTTPS server answers
 * from its event loop while the container runs).
 */
function ctrRun(
  address: string,
  namespace: string,
  id: string,
  flags: string[],
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((ok, fail) => {
    const c = spawn('ctr', ['--address', address, '-n', namespace, 'run', '--rm', ...flags, REF, id, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    c.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    c.on('error', fail);
    c.on('close', (code) => ok({ code, stdout, stderr }));
  });
}

/** A `ctr run --mount` of a host path, read-only unless said otherwise. */
function mount(src: string, dst: string, mode: 'ro' | 'rw' = 'ro'): string {
  return `--mount=type=bind,src=${src},dst=${dst},options=rbind:${mode}`;
}
