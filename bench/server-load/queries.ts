// The fleet questions of bench/server-load.ts, timed one after another once the fleet is in:
// "which nodes run runc < 1.1.12" through the query function (in this process, on the
// server's database) and through the query API of the server process, and the fleet overview,
// both its API and its dashboard page. Each answer is checked (status, and the number of nodes
// it names), so a fast refusal cannot pass for a fast answer.
import type { Database } from '../../src/server/db/database.ts';
import { searchComponents } from '../../src/server/queries/components.ts';
import { type Percentiles, timeRuns } from './load.ts';

export const RUNC = { name: 'github.com/opencontainers/runc', below: '1.1.12' };

export interface QueryFigure {
  /** What the answer counts: nodes found, or the page's size in bytes. */
  readonly answer: string;
  readonly ms: Percentiles;
}

async function get(url: string, token: string, accept: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept },
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, text: await res.text() };
}

async function timedGet(
  runs: number,
  url: string,
  token: string,
  accept: string,
): Promise<{ ms: Percentiles; text: string }> {
  let text = '';
  const ms = await timeRuns(runs, async () => {
    const r = await get(url, token, accept);
    if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${r.text.slice(0, 300)}`);
    text = r.text;
  });
  return { ms, text };
}

export async function measureQueries(
  db: Database,
  serverUrl: string,
  viewerToken: string,
  runs: number,
): Promise<Record<string, QueryFigure>> {
  const out: Record<string, QueryFigure> = {};
  let hits = 0;
  const fn = await timeRuns(runs, async () => {
    hits = (await searchComponents(db, RUNC)).total;
  });
  out['runc < 1.1.12: searchComponents()'] = { answer: `${hits} nodes`, ms: fn };

  const q = new URLSearchParams(RUNC).toString();
  const api = await timedGet(runs, `${serverUrl}/api/v1/components?${q}`, viewerToken, 'application/json');
  const total = (JSON.parse(api.text) as { total: number }).total;
  if (total !== hits) throw new Error(`the API found ${total} nodes, the query function ${hits}`);
  out['runc < 1.1.12: GET /api/v1/components'] = { answer: `${total} nodes`, ms: api.ms };

  const overview = await timedGet(runs, `${serverUrl}/api/v1/overview`, viewerToken, 'application/json');
  out['fleet overview: GET /api/v1/overview'] = { answer: `${overview.text.length} bytes`, ms: overview.ms };

  const page = await timedGet(runs, `${serverUrl}/`, viewerToken, 'text/html');
  if (!page.text.includes('<html')) throw new Error('GET /: not an HTML page');
  out['fleet overview page: GET /'] = { answer: `${page.text.length} bytes`, ms: page.ms };
  return out;
}
