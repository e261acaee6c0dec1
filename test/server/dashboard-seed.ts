// A small fleet for the dashboard tests, sent through the real ingest API of a real server: the
// real node report of `k3sguard agent --once` (fixtures.ts) as several nodes on two K3s builds
// in two clusters (one with a hostile name), finding and containerd events spread over the last
// days, so every page and both charts have something to show, and one node whose report and
// events a real `k3sguard agent` process delivers itself.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AgentProcess, startAgentProcess } from '../agent/agent-process.ts';
import { k3sguard } from '../cli/run.ts';
import { asNode, idOf, nodeTree, post, type Report } from './fixtures.ts';

/** Markup where the data may hold any text: it must show as text, and never run. */
export const HOSTILE = '<script>alert("k3sguard")</script><img src=x onerror=alert(2)>';

export const OLDER_K3S = 'v1.30.8+k3s1';

/** An advisory for a module inside the fixture's K3s binary (github.com/pkg/errors v0.9.1), made up for the test. */
export const ADVISORY = {
  id: 'GO-2099-0101',
  alias: 'CVE-2099-0101',
  module: 'github.com/pkg/errors',
  fixed: '0.9.2',
} as const;

/**
 * `dir/vulndb.sqlite`, imported by the CLI (`db import`) from the advisory's OSV record, rated
 * high the way GitHub's records are: the server's monitor matches the fleet's inventories with it.
 */
export function advisoryDb(dir: string): string {
  const record = join(dir, `${ADVISORY.id}.json`);
  writeFileSync(
    record,
    JSON.stringify({
      schema_version: '1.6.0',
      id: ADVISORY.id,
      aliases: [ADVISORY.alias],
      modified: '2099-01-01T00:00:00Z',
      summary: `A made-up flaw in ${ADVISORY.module} for the dashboard test <b>bold</b>`,
      database_specific: { severity: 'HIGH' },
      affected: [
        {
          package: { ecosystem: 'Go', name: ADVISORY.module },
          ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: ADVISORY.fixed }] }],
        },
      ],
    }),
  );
  const db = join(dir, 'vulndb.sqlite');
  const imported = k3sguard(['db', 'import', '--no-progress', '--db', db, record]);
  assert.equal(imported.code, 0, imported.stderr);
  return db;
}

export interface SeededNode {
  readonly name: string;
  readonly cluster: string;
  /** Never reports: its token exists, no report came. */
  readonly silent?: boolean;
  readonly older?: boolean;
  readonly hostname?: string;
}

export const FLEET: readonly SeededNode[] = [
  { name: 'edge-1', cluster: 'lab' },
  { name: 'edge-2', cluster: 'lab' },
  { name: 'edge-3', cluster: 'lab', older: true },
  { name: 'store-1', cluster: HOSTILE, hostname: HOSTILE },
  { name: 'quiet-1', cluster: 'lab', silent: true },
];

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The report as a node on another K3s build would send it: another binary digest and version. */
function onOlderK3s(report: Report): Report {
  const copy = structuredClone(report);
  const binary = copy.node.k3s.binary;
  assert.ok(binary, 'the real report names its k3s binary');
  const older = `sha256:${sha256(`k3s ${OLDER_K3S}`)}`;
  const entry = copy.inventory[binary.digest] as Record<string, unknown> & {
    k3sVersion?: string;
    components?: { binaries: Array<{ k3s?: { version: string } }> };
  };
  delete copy.inventory[binary.digest];
  entry.k3sVersion = OLDER_K3S;
  for (const b of entry.components?.binaries ?? []) if (b.k3s) b.k3s.version = OLDER_K3S;
  copy.inventory[older] = entry;
  copy.node.k3s.version = OLDER_K3S;
  binary.digest = older;
  return copy;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Finding and containerd events of a node over the last days (ids made unique per node). */
function events(report: Report, node: string, now: Date): Array<Record<string, unknown>> {
  const tracked = (report as unknown as { findings: Array<{ key: string; finding: unknown }> }).findings[0];
  assert.ok(tracked, 'the real report has a finding');
  const identity = {
    hostname: report.node.hostname,
    ...(report.node.machineId ? { machineId: report.node.machineId } : {}),
  };
  const out: Array<Record<string, unknown>> = [];
  for (let day = 0; day < 6; day++) {
    const time = new Date(now.getTime() - day * DAY_MS - 3_600_000).toISOString();
    const key = sha256(`${node} finding ${day}`);
    out.push({
      schema: 'k3sguard/event@1',
      id: idOf(`${node} new ${day}`),
      type: 'finding',
      status: 'new',
      time,
      node: identity,
      key,
      firstSeen: time,
      lastSeen: time,
      finding: tracked.finding,
    });
    if (day % 2 === 0) {
      out.push({
        schema: 'k3sguard/event@1',
        id: idOf(`${node} resolved ${day}`),
        type: 'finding',
        status: 'resolved',
        time: new Date(Date.parse(time) + 600_000).toISOString(),
        node: identity,
        key,
        firstSeen: time,
        lastSeen: time,
        finding: tracked.finding,
      });
    }
  }
  out.push({
    schema: 'k3sguard/event@1',
    id: idOf(`${node} containerd down`),
    type: 'status',
    component: 'containerd',
    ok: false,
    message: 'containerd does not answer',
    time: new Date(now.getTime() - 2 * DAY_MS).toISOString(),
    node: identity,
  });
  return out;
}

/** Tokens by `server token create`, then each node's report and events through POST /api/v1/... */
export async function seedFleet(dbText: string, serverUrl: string, report: Report): Promise<void> {
  const now = new Date();
  for (const [i, n] of FLEET.entries()) {
    const created = k3sguard(['server', 'token', 'create', '--node', n.name, '--cluster', n.cluster, '--db', dbText]);
    assert.equal(created.code, 0, created.stderr);
    if (n.silent) continue;
    const token = created.stdout.trim();
    const base = asNode(n.older ? onOlderK3s(report) : report, i + 1, new Date(now.getTime() - 60_000).toISOString());
    if (n.hostname) base.node.hostname = n.hostname;
    const body = JSON.stringify(base);
    const sent = await post(serverUrl, '/api/v1/reports', { token, id: idOf(`${n.name} report`), body });
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    for (const event of events(base, n.name, now)) {
      const res = await post(serverUrl, '/api/v1/events', {
        token,
        id: event.id as string,
        body: JSON.stringify(event),
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
  }
}

/** The node a real agent process reports as. */
export const AGENT_NODE = 'agent-1';

/**
 * A real `k3sguard agent` on a K3s-shaped node tree, delivering to the server with its own token
 * (as docs/agent.md shows it); resolves once it said its first finding (it sends at once).
 */
export async function startRealAgent(
  dbText: string,
  serverUrl: string,
  dir: string,
): Promise<AgentProcess | { skip: string }> {
  const tree = await nodeTree();
  if ('skip' in tree) return tree;
  const created = k3sguard(['server', 'token', 'create', '--node', AGENT_NODE, '--cluster', 'lab', '--db', dbText]);
  assert.equal(created.code, 0, created.stderr);
  const tokenFile = join(dir, 'agent.token');
  writeFileSync(tokenFile, created.stdout, { mode: 0o600 });
  const agent = startAgentProcess(
    ['--root', tree.root, '--state-dir', join(dir, 'agent-state'), '--proc', join(tree.root, 'proc')]
      .concat(['--containerd-socket', join(dir, 'no-containerd.sock'), '--lock', tree.lock, '--policy', tree.policy])
      .concat(['--interval', '1h', '--listen', '', '--server', serverUrl, '--token-file', tokenFile]),
  );
  await agent.waitLine((l) => l.type === 'finding' && l.status === 'new', 'a new finding');
  return agent;
}
