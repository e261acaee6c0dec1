// The dashboard's routes, registered on the server's fastify instance by one line in http.ts.
// Every page needs a logged-in user (any role: the dashboard only reads); the static files do
// not (they hold no fleet data). A request from htmx (HX-Request) for a list gets only the part
// it swaps in; any other request, including htmx restoring a page from history, the whole page.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requireUser } from '../auth/access.ts';
import type { Database } from '../db/database.ts';
import { type Assets, dashboardAssets } from './assets.ts';
import { securityHeaders } from './csp.ts';
import { type DashboardData, dashboardData } from './data.ts';
import type { Html } from './html.ts';
import { layout, type Page } from './layout.ts';
import { advisoriesPage, advisoryPage } from './pages/advisories.ts';
import { componentResults, componentsPage } from './pages/components.ts';
import { errorPage } from './pages/errors.ts';
import { nodePage } from './pages/node.ts';
import { nodeResults, nodesPage } from './pages/nodes.ts';
import { overviewPage } from './pages/overview.ts';
import type { NodeFilter } from './views.ts';

export interface DashboardDeps {
  readonly db: Database;
  /** The page's clock (tests). */
  readonly now?: () => Date;
}

const YEAR_IMMUTABLE = 'public, max-age=31536000, immutable';

/** Whether htmx asked for the part of a page it swaps in (not a history restore, which wants it all). */
function wantsPartial(req: FastifyRequest): boolean {
  return req.headers['hx-request'] === 'true' && req.headers['hx-history-restore-request'] !== 'true';
}

function send(reply: FastifyReply, status: number, body: Html): FastifyReply {
  securityHeaders(reply);
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('vary', 'HX-Request, Cookie')
    .send(body.text);
}

/** Query parameters as one string each (the first, when repeated), trimmed; absent when empty. */
function param(req: FastifyRequest, name: string): string | undefined {
  const raw = (req.query as Record<string, string | string[] | undefined>)[name];
  const v = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  return v ? v : undefined;
}

function nodeFilter(req: FastifyRequest): NodeFilter {
  const seen = param(req, 'seen');
  const findings = param(req, 'findings');
  const cluster = param(req, 'cluster');
  const k3sVersion = param(req, 'k3s');
  const offset = Number(param(req, 'offset') ?? 0);
  return {
    ...(Number.isSafeInteger(offset) && offset > 0 ? { offset } : {}),
    ...(cluster ? { cluster } : {}),
    ...(k3sVersion ? { k3sVersion } : {}),
    ...(seen === 'stale' || seen === 'fresh' ? { seen } : {}),
    ...(findings === 'yes' || findings === 'no' ? { findings } : {}),
  };
}

export async function registerDashboard(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  // In a scope of its own: its error handler answers a page, not the API's JSON.
  await app.register(async (scope) => dashboardRoutes(scope, deps));
}

async function dashboardRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const assets: Assets = dashboardAssets();
  const data: DashboardData = dashboardData(deps.db);
  const now = deps.now ?? (() => new Date());

  app.get('/static/:hash/:name', async (req, reply) => {
    const asset = assets.byUrl.get(req.url.split('?')[0] as string);
    securityHeaders(reply);
    if (!asset) return reply.code(404).header('cache-control', 'no-store').type('text/plain').send('no such file');
    return reply.header('content-type', asset.type).header('cache-control', YEAR_IMMUTABLE).send(asset.body);
  });

  const page = (req: FastifyRequest, p: Omit<Page, 'user'>): Html => {
    const user = req.user;
    return layout({ ...p, ...(user ? { user: { name: user.name, role: user.role } } : {}) }, assets);
  };
  const notFound = (req: FastifyRequest, reply: FastifyReply, title: string, message: string) =>
    send(reply, 404, page(req, { title, section: 'none', body: errorPage(title, message) }));

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'dashboard page failed');
    const title = status >= 500 ? 'The page could not be made' : 'Not allowed';
    const message =
      status >= 500 ? 'The server could not read the fleet data; try again, and see the server log.' : err.message;
    return send(reply, status, page(req, { title, section: 'none', body: errorPage(title, message) }));
  });

  const viewer = { onRequest: requireUser('viewer') };

  app.get('/', viewer, async (req, reply) => {
    const v = await data.overview(now());
    return send(
      reply,
      200,
      page(req, { title: 'Fleet overview', section: 'overview', body: overviewPage(v), charts: true }),
    );
  });

  app.get('/nodes', viewer, async (req, reply) => {
    const v = await data.nodes(nodeFilter(req), now());
    if (wantsPartial(req)) return send(reply, 200, nodeResults(v, now()));
    return send(reply, 200, page(req, { title: 'Nodes', section: 'nodes', body: nodesPage(v, now()) }));
  });

  app.get('/nodes/:name', viewer, async (req, reply) => {
    const { name } = req.params as { name: string };
    const v = await data.node(name, now());
    if (!v) return notFound(req, reply, 'No such node', `No node is named “${name}”.`);
    return send(reply, 200, page(req, { title: name, section: 'nodes', body: nodePage(v, now()) }));
  });

  app.get('/advisories', viewer, async (req, reply) => {
    const severity = param(req, 'severity');
    const rows = await data.advisories(severity);
    return send(
      reply,
      200,
      page(req, { title: 'Advisories', section: 'advisories', body: advisoriesPage(rows, severity) }),
    );
  });

  app.get('/advisories/:id', viewer, async (req, reply) => {
    const { id } = req.params as { id: string };
    const v = await data.advisory(id);
    if (!v)
      return notFound(
        req,
        reply,
        'No such advisory',
        `No node is affected by an advisory with the id or alias “${id}”.`,
      );
    return send(reply, 200, page(req, { title: v.id, section: 'advisories', body: advisoryPage(v) }));
  });

  app.get('/components', viewer, async (req, reply) => {
    const v = await data.components(param(req, 'name') ?? '', param(req, 'below') ?? '');
    if (wantsPartial(req)) return send(reply, v.problem ? 400 : 200, componentResults(v));
    const title = v.name ? `Component ${v.name}` : 'Components';
    return send(reply, v.problem ? 400 : 200, page(req, { title, section: 'components', body: componentsPage(v) }));
  });
}
