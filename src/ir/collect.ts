// `ir collect`: what a responder needs from a K3s node before anything changes, in one
// archive whose manifest is signed with the organisation key. Small files (configuration,
// units, manifests, the agent's state, the lock and policy) are archived after their secrets
// are replaced (redact.ts); every file walked, large or small (the k3s binary, data/<hash>,
// charts, airgap tarballs), is listed with its streamed sha256 in `digests.json`. Nothing is
// written but the output; memory stays bounded (files are hashed in chunks, only small ones
// are held).
import { createHash, createSign } from 'node:crypto';
import { createWriteStream, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createZstdCompress } from 'node:zlib';
import { K3S_BINARY } from '../audit/node/binary.ts';
import { checkProcesses } from '../audit/runtime/processes.ts';
import { buildInventory } from '../inventory/build.ts';
import { sha256File } from '../io/hashing.ts';
import { type TarOwner, type TarWriteEntry, tarChunks } from '../io/tar-writer.ts';
import { TOOL_VERSION } from '../io/tool-version.ts';
import { InputError, isInputError } from '../model/errors.ts';
import { ContainerdClient } from '../readers/containerd/client.ts';
import { inventoryJson } from '../report/json.ts';
import { keyId, loadSigningKey } from '../verify/sigstore/keys.ts';
import { keyedBundleText } from '../verify/sigstore/sign.ts';
import { readAgentEvidence } from './agent-evidence.ts';
import { BUNDLE_NAME, EVIDENCE_SCHEMA, type EvidenceItem, type EvidenceManifest, MANIFEST_NAME } from './manifest.ts';
import { redact } from './redact.ts';

export interface CollectOptions {
  /** The node's root directory (`/` on the node itself). */
  root: string;
  /** K3s's data dir, a node path. */
  dataDir: string;
  /** containerd's socket, a host path; unset: `<root>/run/k3s/containerd/containerd.sock`. */
  containerdSocket?: string;
  /** The proc filesystem to read processes from, a host path; unset: `<root>/proc`. */
  proc?: string;
  /** k3sguard.lock and the image policy in force, host paths. */
  lock?: string;
  policy?: string;
  /** The agent's state dir, a node path. */
  stateDir: string;
  keyPath: string;
  output: string;
}

export interface CollectResult {
  items: number;
  digests: number;
  redactions: number;
  notes: string[];
  keyId: string;
}

/** Files at most this large are archived (after redaction); larger ones only hashed. */
const SMALL_FILE = 1024 * 1024;
/**
 * The most bytes of files archived in all: past it, further files are only hashed (a note says
 * how many), so a state dir of many small files cannot make collection hold gigabytes.
 */
const ARCHIVED_BYTES = 256 * 1024 * 1024;
/** The most files walked under one path: a data dir of a node is a few thousand. */
const MAX_WALK = 200_000;
const OWNER: TarOwner = { uid: 0, gid: 0, uname: 'root', gname: 'root' };

interface Walked {
  source: string;
  kind: 'file' | 'symlink';
  size: number;
  sha256?: string;
  target?: string;
  mode: number;
  /** Archived when small and not an executable or an extracted bundle. */
  archive: boolean;
}

function walk(root: string, nodePath: string, archive: boolean, out: Walked[]): void {
  const host = join(root, nodePath);
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(host);
  } catch {
    return; // absent on this node: the digests list shows what was found
  }
  if (out.length >= MAX_WALK) throw new InputError('TAR_LIMIT', host, `more than ${MAX_WALK} files to collect`);
  if (st.isSymbolicLink()) {
    out.push({ source: nodePath, kind: 'symlink', size: 0, target: readlinkSync(host), mode: st.mode, archive: false });
  } else if (st.isDirectory()) {
    for (const name of readdirSync(host).sort()) walk(root, posix.join(nodePath, name), archive, out);
  } else if (st.isFile()) {
    out.push({
      source: nodePath,
      kind: 'file',
      size: st.size,
      mode: st.mode,
      archive: archive && st.size <= SMALL_FILE,
    });
  }
}

/** What to walk on a K3s node (K3S-FACTS §6), and whether its small files are archived. */
function nodePaths(o: CollectOptions): Array<[string, boolean]> {
  const d = o.dataDir;
  return [
    [K3S_BINARY, false],
    ['/etc/rancher/k3s', true],
    ['/etc/rancher/node', true],
    ...unitPaths(o.root).map((p): [string, boolean] => [p, true]),
    [`${d}/server/manifests`, true],
    [`${d}/server/static`, false],
    [`${d}/server/token`, true],
    [`${d}/server/node-token`, true],
    [`${d}/agent/images`, true],
    [`${d}/data`, false],
    [o.stateDir, true],
  ];
}

function unitPaths(root: string): string[] {
  const found: string[] = [];
  for (const dir of ['/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system']) {
    let names: string[];
    try {
      names = readdirSync(join(root, dir));
    } catch {
      continue;
    }
    for (const n of names.sort()) if (/^k3s/.test(n)) found.push(`${dir}/${n}`);
  }
  return found;
}

export async function collectEvidence(o: CollectOptions): Promise<CollectResult> {
  const key = await loadSigningKey(o.keyPath);
  const collectedAt = new Date().toISOString();
  const notes: string[] = [];
  const walked: Walked[] = [];
  for (const [p, archive] of nodePaths(o)) walk(o.root, p, archive, walked);
  for (const w of walked) if (w.kind === 'file') w.sha256 = sha256File(join(o.root, w.source)).sha256;

  const members: TarWriteEntry[] = [];
  const items: EvidenceItem[] = [];
  let redactions = 0;
  const add = (name: string, data: Buffer, source: string, note?: string) => {
    members.push({ type: 'file', path: name, mode: 0o644, owner: OWNER, data });
    const sha256 = createHash('sha256').update(data).digest('hex');
    items.push({ name, sha256, size: data.length, source, collectedAt, ...(note ? { note } : {}) });
  };
  let archived = 0;
  let overCap = 0;
  for (const w of walked) {
    if (!w.archive) continue;
    if (archived + w.size > ARCHIVED_BYTES) {
      w.archive = false;
      overCap++;
      continue;
    }
    archived += w.size;
    const r = redact(w.source, readFileSync(join(o.root, w.source)));
    redactions += r.redactions.length;
    const note =
      r.redactions.length > 0
        ? `secrets replaced by their sha256: ${r.redactions.map((x) => `${x.what} sha256:${x.sha256}`).join(', ')}`
        : undefined;
    add(`files${w.source}`, r.data, w.source, note);
  }
  const digests = walked.map((w) => ({
    path: w.source,
    type: w.kind,
    ...(w.kind === 'file' ? { sha256: w.sha256, size: w.size, mode: (w.mode & 0o7777).toString(8) } : {}),
    ...(w.target !== undefined ? { target: w.target } : {}),
  }));
  add('digests.json', json(digests), o.root);
  if (overCap > 0) notes.push(`${overCap} small files past ${ARCHIVED_BYTES} bytes archived: only their digests kept`);
  const k3s = walked.find((w) => w.source === K3S_BINARY && w.kind === 'file');
  if (k3s) {
    // What `inspect` says of the binary: its K3s version, the bundle's members and their Go
    // modules, so a replaced binary shows what it brought, not only another digest.
    try {
      add('k3s-inventory.json', Buffer.from(inventoryJson(await buildInventory(join(o.root, K3S_BINARY)))), K3S_BINARY);
    } catch (e) {
      if (!isInputError(e)) throw e;
      notes.push(`${K3S_BINARY}: no inventory: ${e.message}`);
    }
  }
  for (const [opt, name] of [
    [o.lock, 'k3sguard.lock'],
    [o.policy, 'policy.yaml'],
  ] as const) {
    if (opt !== undefined) add(`in-force/${name}`, readFileSync(opt), opt);
  }
  const runtime = await containerdState(o.containerdSocket ?? join(o.root, 'run/k3s/containerd/containerd.sock'));
  if (runtime.note) notes.push(runtime.note);
  add('containerd.json', json(runtime), 'containerd');
  // The agent's process check: k3s, containerd, shims and runc with their executables' digests
  // and whether those match the bundle they came from.
  const proc = o.proc ?? join(o.root, 'proc');
  const processes = checkProcesses({ proc, root: o.root, dataDir: o.dataDir });
  if (!processes.available) notes.push(`no proc filesystem at ${proc}: processes not collected`);
  add(
    'processes.json',
    json({ proc, available: processes.available, processes: processes.processes, notes: processes.notes }),
    proc,
  );
  // The agent's findings standing (each with when it was first seen) and its undelivered events.
  const agent = readAgentEvidence(join(o.root, o.stateDir), o.stateDir);
  if (agent.present) add('agent.json', json(agent), o.stateDir);
  else notes.push(`no agent state at ${o.stateDir}: the agent's findings and events not collected`);

  const manifest: EvidenceManifest = {
    schema: EVIDENCE_SCHEMA,
    tool: { name: 'k3sguard', version: TOOL_VERSION },
    host: hostname(),
    root: o.root,
    dataDir: o.dataDir,
    stateDir: o.stateDir,
    collectedAt,
    items,
  };
  const manifestBytes = json(manifest);
  const digest = createHash('sha256').update(manifestBytes).digest();
  const signature = createSign('sha256').update(manifestBytes).sign({ key, dsaEncoding: 'der' });
  const id = keyId(key);
  const bundle = keyedBundleText(id, {
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') },
      signature: signature.toString('base64'),
    },
  });
  const entries: TarWriteEntry[] = [
    { type: 'file', path: MANIFEST_NAME, mode: 0o644, owner: OWNER, data: manifestBytes },
    { type: 'file', path: BUNDLE_NAME, mode: 0o644, owner: OWNER, data: Buffer.from(bundle) },
    ...members,
  ];
  const mtime = Math.floor(Date.parse(collectedAt) / 1000);
  try {
    await pipeline(
      Readable.from(tarChunks(entries, mtime)),
      createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: 9 } }),
      createWriteStream(o.output, { flags: 'wx', mode: 0o600 }),
    );
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === undefined) throw e;
    throw new InputError('OUTPUT', o.output, code === 'EEXIST' ? 'already exists: not overwriting evidence' : code);
  }
  return { items: items.length, digests: digests.length, redactions, notes, keyId: id };
}

const json = (v: unknown): Buffer => Buffer.from(`${JSON.stringify(v, null, 2)}\n`);

interface RuntimeState {
  socket: string;
  version?: string;
  images: Array<{ name: string; digest: string; mediaType: string }>;
  containers: Array<{ id: string; image: string; labels: Record<string, string> }>;
  note?: string;
}

async function containerdState(socket: string): Promise<RuntimeState> {
  const state: RuntimeState = { socket, images: [], containers: [] };
  if (!existsSync(socket))
    return { ...state, note: `no containerd socket at ${socket}: images and containers not collected` };
  const client = new ContainerdClient(socket, { deadlineMs: 5000 });
  try {
    state.version = (await client.version()).version;
    state.images = (await client.images('k8s.io')).map((i) => ({
      name: i.name,
      digest: i.target.digest,
      mediaType: i.target.mediaType,
    }));
    state.containers = (await client.containers('k8s.io')).map((c) => ({ id: c.id, image: c.image, labels: c.labels }));
  } catch (e) {
    state.note = `containerd at ${socket} did not answer: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    client.close();
  }
  return state;
}
