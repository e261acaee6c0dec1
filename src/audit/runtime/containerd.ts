// The agent's containerd check: what a node really holds and runs, through containerd's own
// API on its socket (namespace k8s.io, where K3s keeps everything), held against the image
// policy and the lock, and each distinct image read from the content store (read-only, with
// the image readers that read airgap tarballs) for its OS packages and Go binaries, scanned
// against the vulnerability database. Readings are kept by digest (image-cache.ts): a check
// in which nothing changed reads no image.
//
// containerd being down is a state to report, not an error: the result says so (a coded
// reason) and the agent carries on. Every finding is located by a stable subject (the scope,
// then `image` and `repo@digest` or `name@digest`, or `container` and its id), never by
// anything that changes from one check to the next.
import { isInputError } from '../../model/errors.ts';
import type { Finding, Location } from '../../model/inventory.ts';
import { ruleFinding } from '../../model/rules/rule.ts';
import { RUNTIME_RULES } from '../../model/rules/runtime.ts';
import type { ImagePolicy } from '../../policy/image-policy.ts';
import { ContainerdClient } from '../../readers/containerd/client.ts';
import { type ContentStoreImage, distinctImages } from '../../readers/containerd/content-store.ts';
import { K8S_NAMESPACE, type TaskStatus } from '../../readers/containerd/types.ts';
import { normalizeImageRef } from '../../readers/images/refs.ts';
import { matchRecords } from '../../scan/match.ts';
import type { Lockfile } from '../../verify/lock/format.ts';
import { openVulnDb, type VulnDb } from '../../vulndb/db.ts';
import { splitSignatureRecords } from './cosign-artifacts.ts';
import { type ImageReading, loadReading, pruneReadings, storeReading } from './image-cache.ts';
import { readStoreImage } from './image-read.ts';
import { imageSubject, judgeContainer, judgeImageNames, judgeLockedTags, lockedImageDigests } from './judge.ts';

export interface ContainerdCheckOptions {
  /** containerd's socket (K3s: /run/k3s/containerd/containerd.sock). */
  socket: string;
  /** Default k8s.io. */
  namespace?: string;
  /** The content store directory (`<containerd root>/io.containerd.content.v1.content`). */
  contentRoot: string;
  policy?: ImagePolicy;
  lock?: Lockfile;
  /** Path of the vulnerability database (sqlite); without it images are listed, not scanned. */
  vulnDb?: string;
  /**
   * Where image readings are kept by digest (one directory per namespace: entries of images the
   * namespace no longer holds are removed after each check); without it every check reads every image.
   */
  cacheDir?: string;
  /** Milliseconds each containerd call may take (default: the client's). */
  deadlineMs?: number;
  /** `os/arch[/variant]` an image index is resolved for; default this node's. */
  platform?: string;
  /** For keyless signature requirements: the Sigstore trusted root (default: `trust update`'s, else the shipped one). */
  trustedRootPath?: string;
}

export type ImageVerdict = 'trusted' | 'untrusted' | 'unknown';

export interface RuntimeImage {
  /** Every name containerd has for the target, sorted (CRI's `sha256:<hex>` records included). */
  names: string[];
  /** The target digest (an index or a manifest). */
  digest: string;
  /** untrusted: a policy or lock finding; unknown: no policy, or the image could not be read or checked. */
  verdict: ImageVerdict;
  packages: number;
  goBinaries: number;
  vulnerabilities: Finding[];
  /** The reading was kept from an earlier check: the image was not read this time. */
  fromCache: boolean;
}

export interface RuntimeContainer {
  id: string;
  /** The image reference it was created from. */
  image: string;
  /** That name's target digest now, when containerd still has the name. */
  imageDigest?: string;
  pod?: { name: string; namespace: string };
  /** Its task's status; `stopped` also when it has no task. */
  status: TaskStatus;
  /** The task's init process, while it has one. */
  pid?: number;
}

export interface ContainerdCheckResult {
  containerd: { ok: true; version: string } | { ok: false; code: string; message: string };
  images: RuntimeImage[];
  containers: RuntimeContainer[];
  /** Policy, lock, signature and integrity findings (vulnerabilities are on each image). */
  findings: Finding[];
}

/** Image findings from the readers that mean the content could not be (fully) read, not that it is wrong. */
const INCOMPLETE_READ = new Set(['K3SG-IMAGE-BLOB-MISSING', 'K3SG-IMAGE-LAYER-UNREADABLE', 'K3SG-IMAGE-PLATFORM']);

/** Task states with a process (created, running or paused): the container is live. */
const LIVE: ReadonlySet<TaskStatus> = new Set(['created', 'running', 'paused', 'pausing']);

export function nodePlatform(): string {
  const arch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as const)[
    process.arch as 'x64'
  ];
  return `linux/${arch ?? process.arch}`;
}

/**
 * One check. containerd unreachable is in the result (`containerd.ok: false`), never thrown;
 * what is thrown is an InputError about the check's own inputs: a vulnerability database or a
 * signature key that cannot be read.
 */
export async function checkContainerd(opts: ContainerdCheckOptions): Promise<ContainerdCheckResult> {
  const namespace = opts.namespace ?? K8S_NAMESPACE;
  const scope: Location = [`containerd:${namespace}`];
  const client = new ContainerdClient(opts.socket, opts.deadlineMs ? { deadlineMs: opts.deadlineMs } : {});
  let listed: Awaited<ReturnType<typeof list>>;
  try {
    listed = await list(client, namespace);
  } catch (e) {
    if (!isInputError(e) || !e.code.startsWith('CONTAINERD_')) throw e;
    return { containerd: { ok: false, code: e.code, message: e.message }, images: [], containers: [], findings: [] };
  } finally {
    client.close();
  }

  const findings: Finding[] = [];
  const digestOf = new Map<string, string>();
  for (const r of listed.images) {
    digestOf.set(r.name, r.target.digest);
    const normalized = normalizeImageRef(r.name);
    if (normalized && !digestOf.has(normalized)) digestOf.set(normalized, r.target.digest);
  }

  const images: RuntimeImage[] = [];
  const platform = opts.platform ?? nodePlatform();
  const locked = opts.lock ? lockedImageDigests(opts.lock) : undefined;
  // The database is opened once a check (and closed after), so `db update` swapping it in
  // between two checks is seen at the next one.
  const db = opts.vulnDb ? openVulnDb(opts.vulnDb, { readonly: true }) : undefined;
  const { images: imageRecords, signatures } = splitSignatureRecords(listed.images);
  try {
    for (const image of distinctImages(imageRecords)) {
      const judged = await judgeImage(image, { ...opts, platform, scope, locked, db, signatures });
      images.push(judged.image);
      findings.push(...judged.findings);
    }
  } finally {
    db?.close();
  }
  if (opts.cacheDir)
    pruneReadings(
      opts.cacheDir,
      platform,
      images.map((i) => i.digest),
    );

  const tasks = new Map(listed.tasks.map((t) => [t.containerId, t]));
  const containers: RuntimeContainer[] = listed.containers.map((c) => {
    const task = tasks.get(c.id);
    const digest = digestOf.get(c.image) ?? digestOf.get(normalizeImageRef(c.image) ?? '');
    const out: RuntimeContainer = { id: c.id, image: c.image, status: task?.status ?? 'stopped' };
    if (digest) out.imageDigest = digest;
    if (c.pod) out.pod = c.pod;
    if (task && task.pid > 0 && LIVE.has(task.status)) out.pid = task.pid;
    return out;
  });
  if (opts.policy) {
    for (const c of containers) if (LIVE.has(c.status)) findings.push(...judgeContainer(opts.policy, c, scope));
  }
  return { containerd: { ok: true, version: listed.version }, images, containers, findings };
}

async function list(client: ContainerdClient, namespace: string) {
  const version = await client.version();
  // One after the other: a node's containerd serves the kubelet first.
  const images = await client.images(namespace);
  const containers = await client.containers(namespace);
  const tasks = await client.tasks(namespace);
  return { version: version.version, images, containers, tasks };
}

interface ImageContext extends ContainerdCheckOptions {
  platform: string;
  scope: Location;
  locked: ReturnType<typeof lockedImageDigests> | undefined;
  db: VulnDb | undefined;
  signatures: ReturnType<typeof splitSignatureRecords>['signatures'];
}

async function judgeImage(
  image: ContentStoreImage,
  ctx: ImageContext,
): Promise<{ image: RuntimeImage; findings: Finding[] }> {
  const digest = image.target.digest;
  const subject: Location = [...ctx.scope, 'image', imageSubject(image.names, digest)];
  const findings: Finding[] = [];
  let unknown = !ctx.policy;

  let reading = ctx.cacheDir ? loadReading(ctx.cacheDir, digest, ctx.platform) : undefined;
  const fromCache = reading !== undefined;
  if (!reading) {
    const outcome = await readStoreImage(ctx.contentRoot, image.target, ctx.platform);
    if (outcome.kind === 'read') {
      reading = outcome.reading;
      // Only a clean reading is kept: a missing or damaged blob may be repaired by the next pull.
      if (ctx.cacheDir && reading.findings.length === 0) storeReading(ctx.cacheDir, reading);
    } else {
      unknown = true;
      findings.push(
        ruleFinding(
          RUNTIME_RULES['K3SG-RUNTIME-IMAGE-UNREADABLE'],
          `${image.names.join(', ')} (${digest}): ${outcome.why}; its packages and binaries were not listed`,
          subject,
        ),
      );
    }
  }
  let untrusted = false;
  for (const f of reading?.findings ?? []) {
    if (INCOMPLETE_READ.has(f.id)) unknown = true;
    else untrusted = true;
    findings.push({ ...f, location: [...subject, ...f.location] });
  }

  if (ctx.policy) {
    const named = judgeImageNames(ctx.policy, image.names, digest, ctx.scope);
    if (named.length > 0) untrusted = true;
    findings.push(...named);
    if (ctx.policy.requireSignature) {
      // The cosign verifier (and Sigstore's libraries) is loaded only by a policy that needs it.
      const { checkStoredSignature } = await import('./signatures.ts');
      const signature = await checkStoredSignature({
        store: ctx.contentRoot,
        image,
        ...(reading?.manifestDigest ? { manifestDigest: reading.manifestDigest } : {}),
        signatures: ctx.signatures,
        policy: ctx.policy,
        platform: ctx.platform,
        ...(ctx.trustedRootPath ? { trustedRootPath: ctx.trustedRootPath } : {}),
        subject,
      });
      if (signature.kind === 'failed') {
        untrusted = true;
        findings.push(...signature.findings);
      } else if (signature.kind !== 'verified') {
        unknown = true;
        const why =
          signature.kind === 'absent'
            ? `containerd holds no ${signature.tags.join(' or ')} for it to check`
            : `its signatures in containerd could not be read: ${signature.why}`;
        findings.push(
          ruleFinding(
            RUNTIME_RULES['K3SG-RUNTIME-SIGNATURE-UNVERIFIED'],
            `${image.names.join(', ')} (${digest}): ${ctx.policy.file} requires a signature, and ${why}`,
            subject,
          ),
        );
      }
    }
  }
  if (ctx.locked) {
    const digests = { target: digest, ...(reading?.manifestDigest ? { manifest: reading.manifestDigest } : {}) };
    const moved = judgeLockedTags(ctx.locked, 'the lock', image.names, digests, ctx.scope);
    if (moved.length > 0) untrusted = true;
    findings.push(...moved);
  }

  const vulnerabilities = reading?.image && ctx.db ? scanImage(reading, ctx.db, subject) : [];
  return {
    image: {
      names: [...image.names],
      digest,
      verdict: untrusted ? 'untrusted' : unknown ? 'unknown' : 'trusted',
      packages: reading?.packages ?? 0,
      goBinaries: reading?.goBinaries ?? 0,
      vulnerabilities,
      fromCache,
    },
    findings,
  };
}

/**
 * The image's packages and Go binaries matched against the database. The components were
 * read under the content store's name and the image's digest: their findings are located
 * under the image's subject instead, the path inside the image kept.
 */
function scanImage(reading: ImageReading, db: VulnDb, subject: Location): Finding[] {
  const image = reading.image;
  if (!image) return [];
  const found = matchRecords(
    image,
    (ecosystem, name) => db.recordsFor(ecosystem, name),
    (ids) => db.recordsOfVulnerability(ids),
  );
  const inner = image.location.length;
  return found.map((f) => {
    const location = [...subject, ...f.location.slice(inner)];
    return { ...f, location, ...(f.component ? { component: location.join('!') } : {}) };
  });
}
