// What every node check shares: the root, the policy and lock, and where findings, per-file
// problems and the list of audited files go. Reading a file through here records it.
import type { Finding } from '../../model/inventory.ts';
import type { ImagePolicy } from '../../policy/image-policy.ts';
import type { Lockfile } from '../../verify/lock/format.ts';
import type { FileProblem } from '../result.ts';
import type { NodeRoot, TextRead } from './rootfs.ts';
import { parseYaml, type YamlFile } from './yamlpos.ts';

export interface NodeContext {
  root: NodeRoot;
  policy?: ImagePolicy;
  lock?: Lockfile;
  /** How messages name the lock file. */
  lockName: string;
  maxFileSize: number;
  /** The uid that counts as root in this tree (0, unless the tree was unpacked by another user). */
  rootUid: number;
  findings: Finding[];
  problems: FileProblem[];
  audited: Set<string>;
  /** The text of every text file read, by region file, for inline waivers. */
  texts: Map<string, string>;
}

/** Read a text file; a problem is recorded, an absent file is just absent. */
export function readNodeText(ctx: NodeContext, path: string): Extract<TextRead, { kind: 'text' }> | undefined {
  const read = ctx.root.readText(path, ctx.maxFileSize);
  if (read.kind === 'problem') ctx.problems.push(read.problem);
  if (read.kind !== 'text') return undefined;
  ctx.audited.add(read.file);
  ctx.texts.set(read.file, read.text);
  return read;
}

/** Parse a file read with readNodeText; documents that do not parse are recorded as a problem. */
export function parseNodeYaml(ctx: NodeContext, file: string, text: string): YamlFile {
  const y = parseYaml(file, text);
  if (y.errors.length > 0) {
    const more = y.errors.length > 1 ? ` (and ${y.errors.length - 1} more document(s) with errors)` : '';
    ctx.problems.push({ file, kind: 'invalid-yaml', message: `not valid YAML at ${y.errors[0]}${more}` });
  }
  return y;
}

/** A registry host as the policy compares it: Docker Hub's aliases are docker.io. */
export function normalizeRegistryHost(host: string): string {
  const h = host.toLowerCase();
  return h === 'index.docker.io' || h === 'registry-1.docker.io' ? 'docker.io' : h;
}
