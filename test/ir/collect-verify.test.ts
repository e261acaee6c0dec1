// `ir collect` and `ir verify` through the CLI, on a node tree built from the K3s-shaped
// fixture with secrets planted where operators put them: none may reach the archive, the
// signed manifest must hold, and every kind of tampering and hostile archive must be named.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { tarChunks } from '../../src/io/tar-writer.ts';
import { goodNode, installK3s, k3sBinary, put, REGISTRIES_YAML, unitFile } from '../audit/node/node-fixtures.ts';
import { k3sguard, tempDir } from '../cli/run.ts';

const TOKEN = 'K10planted-server-token-7c1f9a::server:5e2d8b';
const AGENT_TOKEN = 'planted-agent-token-a41b';
const REGISTRY_PASSWORD = 'pull-token-0f9e8d'; // in REGISTRIES_YAML
const ENV_TOKEN = 'planted-env-token-93de';
const SECRET_DATA = 'cGxhbnRlZC1zZWNyZXQtZGF0YQ=='; // a manifest's Secret, base64 as in data:
const SECRET_STRING = 'planted-string-data-55aa';
const NODE_PASSWORD = 'planted-node-password-6b0c';
const UNIT_TOKEN = 'planted-unit-token-8d21'; // INSTALL_K3S_EXEC="server --token ..." puts it in ExecStart
const { privateKey: planted } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PLANTED_KEY = planted.export({ type: 'pkcs8', format: 'pem' }) as string;
/** A line of the key's base64 body: what would leak if any of the file did. */
const KEY_BODY = PLANTED_KEY.split('\n')[1] as string;

const OWNER = { uid: 0, gid: 0, uname: 'root', gname: 'root' };

describe('ir collect / ir verify', () => {
  let dir: string;
  let evidence: string;
  let pub: string;
  let collectStderr: string;
  let k3sInstalled = false;

  before(async () => {
    // before() has no t.after: clean up in the last test's after via a process hook.
    dir = execFileSync('mktemp', ['-d', '/tmp/k3sg-ir-XXXXXX'], { encoding: 'utf8' }).trim();
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const root = join(dir, 'node');
    goodNode(root);
    assert.ok(REGISTRIES_YAML.includes(REGISTRY_PASSWORD));
    put(
      root,
      'etc/rancher/k3s/config.yaml',
      `${readFileSync(join(root, 'etc/rancher/k3s/config.yaml'), 'utf8')}token: "${TOKEN}"\nagent-token: ${AGENT_TOKEN} # the agent token\n`,
      0o600,
    );
    put(root, 'etc/rancher/k3s/restore-ca.key', PLANTED_KEY, 0o600);
    put(root, 'var/lib/rancher/k3s/server/token', `${TOKEN}\n`, 0o600);
    put(root, 'etc/systemd/system/k3s.service.env', `K3S_TOKEN='${ENV_TOKEN}'\nHTTP_PROXY=http://proxy:3128\n`, 0o600);
    put(
      root,
      'var/lib/rancher/k3s/server/manifests/s3-creds.yaml',
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: s3\ndata:\n  key: ${SECRET_DATA}\nstringData:\n  other: ${SECRET_STRING}\n`,
      0o600,
    );
    put(root, 'etc/rancher/node/password', `${NODE_PASSWORD}\n`, 0o600);
    put(
      root,
      'etc/systemd/system/k3s.service',
      unitFile(
        `/usr/local/bin/k3s \\\n    server \\\n\t'--token' \\\n\t'${UNIT_TOKEN}' \\\n\t'--disable' \\\n\t'traefik' \\\n`,
      ),
    );
    put(root, 'var/lib/k3sguard/state.json', '{"findings":[]}\n');
    const k3s = await k3sBinary({ skip: (m) => console.log(`# no k3s binary in the node tree: ${m}`) });
    if (k3s) {
      installK3s(root, k3s);
      k3sInstalled = true;
    }
    execFileSync(process.execPath, [
      '-e',
      `const {generateKeyPairSync}=require('node:crypto');const fs=require('node:fs');const k=generateKeyPairSync('ec',{namedCurve:'P-256'});fs.writeFileSync(process.argv[1],k.privateKey.export({type:'pkcs8',format:'pem'}));fs.writeFileSync(process.argv[2],k.publicKey.export({type:'spki',format:'pem'}));`,
      join(dir, 'org.pem'),
      join(dir, 'org.pub'),
    ]);
    pub = join(dir, 'org.pub');
    evidence = join(dir, 'evidence.tar.zst');
    const r = k3sguard([
      'ir',
      'collect',
      '--root',
      root,
      '--data-dir',
      '/var/lib/rancher/k3s',
      '-o',
      evidence,
      '--key',
      join(dir, 'org.pem'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    collectStderr = r.stderr;
  });

  test('no planted secret is anywhere in the decompressed archive', () => {
    const tar = zstdDecompressSync(readFileSync(evidence)).toString('latin1');
    for (const secret of [
      TOKEN,
      AGENT_TOKEN,
      REGISTRY_PASSWORD,
      ENV_TOKEN,
      KEY_BODY,
      'PRIVATE KEY',
      SECRET_DATA,
      SECRET_STRING,
      UNIT_TOKEN,
    ]) {
      assert.ok(!tar.includes(secret), `the archive holds ${secret}`);
    }
    // ... while what is not secret is kept, and each secret is named by its sha256.
    for (const kept of [
      /secrets-encryption: true/,
      /HTTP_PROXY=http:\/\/proxy:3128/,
      /\ntoken: "?REDACTED sha256:[0-9a-f]{64}/,
      /agent-token: REDACTED sha256:[0-9a-f]{64}/,
      /password: REDACTED sha256:[0-9a-f]{64}/,
      /username: k3s-pull/,
      /K3S_TOKEN=REDACTED-sha256:[0-9a-f]{64}/,
      /'--token' \\\n\t'REDACTED-sha256:[0-9a-f]{64}' \\\n\t'--disable'/,
      /private key redacted; its sha256 is [0-9a-f]{64}/,
      /name: podinfo/,
    ]) {
      assert.ok(kept.test(tar), `${kept} not in the archive`);
    }
    assert.match(collectStderr, /no proc filesystem at .*: processes not collected/);
    assert.match(collectStderr, /no containerd socket at .*: images and containers not collected/);
  });

  test('the manifest lists each item with sha256, source, time, tool version and host', () => {
    const files = extract(evidence, join(dir, 'x-manifest'));
    const m = JSON.parse(readFileSync(join(files, 'manifest.json'), 'utf8'));
    assert.equal(m.schema, 'k3sguard/ir-evidence@1');
    assert.match(m.tool.version, /^\d+\.\d+\.\d+/);
    assert.ok(m.host.length > 0);
    const names = m.items.map((i: { name: string }) => i.name);
    for (const n of [
      'files/etc/rancher/k3s/config.yaml',
      'files/etc/rancher/k3s/registries.yaml',
      'files/etc/systemd/system/k3s.service',
      'files/var/lib/rancher/k3s/server/manifests/podinfo.yaml',
      'files/var/lib/k3sguard/state.json',
      'digests.json',
      'containerd.json',
      'processes.json',
    ]) {
      assert.ok(names.includes(n), `${n} not in the manifest`);
    }
    for (const i of m.items) {
      assert.match(i.sha256, /^[0-9a-f]{64}$/);
      assert.ok(i.source && i.collectedAt, JSON.stringify(i));
    }
    const digests = JSON.parse(readFileSync(join(files, 'digests.json'), 'utf8'));
    const airgap = digests.find((d: { path: string }) => d.path.endsWith('k3s-airgap-images-amd64.tar.zst'));
    assert.match(airgap.sha256, /^[0-9a-f]{64}$/);
    const binary = digests.find((d: { path: string }) => d.path === '/usr/local/bin/k3s');
    assert.equal(binary !== undefined, k3sInstalled);
    if (binary) {
      assert.match(binary.sha256, /^[0-9a-f]{64}$/);
      assert.ok(names.includes('k3s-inventory.json'));
      const inv = JSON.parse(readFileSync(join(files, 'k3s-inventory.json'), 'utf8'));
      assert.equal(inv.schema, 'k3sguard/inventory@1');
      assert.ok(digests.some((d: { path: string }) => d.path.startsWith('/var/lib/rancher/k3s/data/')));
    }
  });

  test('a clean archive verifies: exit 0', () => {
    const r = k3sguard(['ir', 'verify', evidence, '--key', pub]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /verified: \d+ items intact/);
  });

  test('a changed byte, a removed item and an added item: exit 1, each named', () => {
    const tar = zstdDecompressSync(readFileSync(evidence));
    const at = tar.indexOf('secrets-encryption: true');
    assert.ok(at > 0);
    const changed = Buffer.from(tar);
    changed[at] = 'S'.charCodeAt(0);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['changed', changed, /changed: files\/etc\/rancher\/k3s\/config\.yaml/],
      ['removed', retar(tar, dir, (files) => rmSync(join(files, 'containerd.json'))), /removed: containerd\.json/],
      [
        'added',
        retar(tar, dir, (files) => writeFileSync(join(files, 'files/planted.txt'), 'x')),
        /added: files\/planted\.txt/,
      ],
    ];
    for (const [what, bytes, problem] of cases) {
      const file = join(dir, `${what}.tar.zst`);
      writeFileSync(file, zstdCompressSync(bytes));
      const r = k3sguard(['ir', 'verify', file, '--key', pub]);
      assert.equal(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, problem, what);
    }
  });

  test('another key: exit 1, the signature is named', (t) => {
    const other = join(tempDir(t), 'other.pub');
    writeFileSync(
      other,
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const r = k3sguard(['ir', 'verify', evidence, '--key', other]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /signature in manifest\.sigstore\.json does not verify/);
  });

  test('hostile archives: one line, exit 2', () => {
    const whole = readFileSync(evidence);
    const traversal = zstdCompressSync(
      Buffer.concat([
        ...tarChunks(
          [{ type: 'file', path: '../../etc/cron.d/evil', mode: 0o644, owner: OWNER, data: Buffer.from('x') }],
          0,
        ),
      ]),
    );
    // A frame whose window (2^28) is past LIMITS.zstdWindowLog: refused before it is allocated.
    const window = execFileSync('sh', ['-c', 'head -c 1048576 /dev/zero | zstd -q --long=28 -c']);
    // 1.1 GiB of zeros (the tar's end, then padding) in about 40 KiB: past the evidence cap.
    const zeros = execFileSync('sh', ['-c', 'head -c 1181116006 /dev/zero | zstd -q -1 -c'], { maxBuffer: 1 << 26 });
    const cases: Array<[string, Buffer, RegExp]> = [
      ['zeros-bomb', zeros, /decompresses past 1GiB \(a zstd bomb\)/],
      ['truncated', whole.subarray(0, Math.floor(whole.length / 2)), /truncated|ended|corrupt/],
      ['traversal', traversal, /unsafe member name/],
      ['bomb', window, /window larger than 2\^27/],
      ['not-zstd', Buffer.from('this is not an archive\n'), /corrupt zstd/],
    ];
    for (const [what, bytes, problem] of cases) {
      const file = join(dir, `${what}.tar.zst`);
      writeFileSync(file, bytes);
      const r = k3sguard(['ir', 'verify', file, '--key', pub]);
      assert.equal(r.code, 2, `${what}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: ${r.stderr}`);
      assert.match(r.stderr, problem, what);
    }
  });
});

/** The archive's members in a fresh directory. */
function extract(archive: string, to: string): string {
  mkdirSync(to, { recursive: true });
  execFileSync('sh', ['-c', 'zstd -dc "$0" | tar -x -C "$1"', archive, to]);
  return to;
}

/** The tar rewritten after `edit` changes its extracted files (names without `./`, files only). */
function retar(tar: Buffer, dir: string, edit: (files: string) => void): Buffer {
  const files = join(dir, `retar-${Math.random().toString(36).slice(2)}`);
  mkdirSync(files);
  execFileSync('tar', ['-x', '-C', files], { input: tar });
  edit(files);
  return execFileSync('sh', ['-c', 'cd "$0" && find . -type f | sed "s|^\\./||" | sort | tar -c -T -', files], {
    maxBuffer: 1 << 30,
  });
}
