import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { Database, DatabaseUrl } from '../../src/server/db/database.ts';
import { agentReport, buildNodeTree, type NodeTree, type Report } from './agent-report.ts';
import { type PrivatePostgres, postgresBinDir, startPostgres } from './postgres.ts';

export type { Report } from './agent-report.ts';

const work = mkdtempSync(join(tmpdir(), 'k3sguard-server-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A K3s-shaped node tree (binary, bundle, units, manifests) with its lock and policy. */
export function nodeTree(): Promise<NodeTree | { skip: string }> {
  return buildNodeTree(mkdtempSync(join(work, 'node-')));
}

let made: Promise<{ report: Report } | { skip: string }> | undefined;

/** The real report of one check of a node tree (exit 1: it has a finding). */
export function realReport(): Promise<{ report: Report } | { skip: string }> {
  made ??= agentReport(mkdtempSync(join(work, 'node-')));
  return made;
}

/** The report as another node on the same release would send it: same inventory, its own name and time. */
export function asNode(report: Report, n: number, finishedAt = report.check.finishedAt): Report {
  const copy = structuredClone(report);
  copy.node.hostname = `node-${n}`;
  copy.node.machineId = createHash('md5').update(`node-${n}`).digest('hex');
  copy.check.finishedAt = finishedAt;
  return copy;
}

/** A message id as the agent makes them: 64 hex. */
export const idOf = (text: string) => createHash('sha256').update(text).digest('hex');

// --- databases ---------------------------------------------------------------------------

export type Kind = 'sqlite' | 'postgres';
export const KINDS: readonly Kind[] = ['sqlite', 'postgres'];

let cluster: Promise<PrivatePostgres | { skip: string }> | undefined;
after(async () => {
  const c = await cluster;
  if (c && !('skip' in c)) await c.stop();
});

/** Why PostgreSQL tests cannot run here, or undefined when they can (decided without starting it). */
export function postgresSkip(): string | undefined {
  return postgresBinDir() ? undefined : 'PostgreSQL is not installed (apt-get install postgresql)';
}

/** A fresh, empty database of that kind: `--db` text and its parsed form. */
export async function freshDatabase(kind: Kind): Promise<{ text: string; url: DatabaseUrl }> {
  if (kind === 'sqlite') {
    const path = join(mkdtempSync(join(work, 'db-')), 'fleet.sqlite');
    return { text: `sqlite:${path}`, url: { kind: 'sqlite', path } };
  }
  cluster ??= startPostgres();
  const c = await cluster;
  if ('skip' in c) throw new Error(c.skip);
  const url = await c.createDatabase();
  return { text: url, url: { kind: 'postgres', url } };
}

export async function count(db: Database, table: string, where = ''): Promise<number> {
  const [row] = await db.all<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} ${where}`);
  return Number(row?.n);
}

// --- HTTP --------------------------------------------------------------------------------

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export async function post(
  base: string,
  path: string,
  opts: { token?: string; id?: string; body: string; contentType?: string },
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.id !== undefined) headers['x-k3sguard-event-id'] = opts.id;
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers,
    body: opts.body,
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
